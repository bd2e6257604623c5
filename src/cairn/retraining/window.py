"""The data a retraining run trains on: the policy's data window, cut at the run's time.

A run decided at ``at`` trains on the entity rows whose ``event_timestamp`` lies in
``[at - lookback, at - label_maturity)``: nothing from after the decision (a backtest on a
simulated clock sees only what was known then) and no row whose label is still immature. The
window is written into the training config's entity query, so the run's logged config, its
manifest and ``cairn train --reproduce`` all name exactly these rows.

The latest ``gates.test_share`` of the window's rows is the **common out-of-time test window**:
held out of the candidate's fitting and early stopping (it is the run's ``test`` part), and the
rows both the candidate and the champion are judged on by the gates.

Example
-------
>>> from cairn.retraining.policy import parse_policies
>>> from cairn.training import TrainConfig
>>> policy = parse_policies({"policies": {"p": {"deployment": "credit",
...     "data_window": {"lookback": "365d", "label_maturity": "30d"}}}})["p"]
>>> config = TrainConfig.from_mapping({"model_name": "m", "label": "y", "features": ["v:x"],
...     "entities": "SELECT id, event_timestamp, y FROM apps"})
>>> run = windowed_config(config, policy, at=1_780_000_000_000_000, tags={"k": "v"})
>>> print(run.entities)
SELECT * FROM (SELECT id, event_timestamp, y FROM apps) AS cairn_window WHERE event_timestamp >= TIMESTAMPTZ '2025-05-28 20:26:40+00:00' AND event_timestamp < TIMESTAMPTZ '2026-04-28 20:26:40+00:00'
>>> run.split.test, run.split.validation, run.tags["k"]
(0.15, 0.2, 'v')
"""  # noqa: E501

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from cairn.core.timeutil import from_micros
from cairn.core.types import Micros
from cairn.offline.entities import is_sql
from cairn.retraining.policy import Policy
from cairn.training.config import SplitSpec, TrainConfig

__all__ = ["DataWindow", "data_window", "windowed_config"]


@dataclass(frozen=True)
class DataWindow:
    """The event-time range a run trains on (µs since the epoch, UTC; end excluded)."""

    start: Micros
    end: Micros

    def to_dict(self) -> dict[str, str]:
        """ISO 8601 bounds (to the second)."""
        return {
            "start": from_micros(self.start).isoformat(timespec="seconds"),
            "end": from_micros(self.end).isoformat(timespec="seconds"),
        }


def data_window(policy: Policy, at: Micros) -> DataWindow:
    """The data window of a run decided at ``at``."""
    spec = policy.data_window
    return DataWindow(at - spec.lookback, at - spec.label_maturity)


def windowed_config(
    config: TrainConfig,
    policy: Policy,
    *,
    at: Micros,
    root: Path | None = None,
    tags: Mapping[str, str] | None = None,
) -> TrainConfig:
    """``config`` restricted to the policy's data window at ``at``, with a test part of
    ``gates.test_share`` (the common out-of-time window) and ``tags`` added to its run tags.

    Entity rows given as a Parquet or CSV path (relative to ``root``) are read by a query, so
    the window can be applied to them too.
    """
    window = data_window(policy, at)
    base = config.entities.strip().rstrip(";")
    if not is_sql(base):
        path = Path(base).expanduser()
        if not path.is_absolute() and root is not None:
            path = root / path
        reader = "read_csv_auto" if path.suffix.lower() == ".csv" else "read_parquet"
        text = str(path).replace("'", "''")
        base = f"SELECT * FROM {reader}('{text}')"
    start, end = (from_micros(t).isoformat(sep=" ") for t in (window.start, window.end))
    entities = (
        f"SELECT * FROM ({base}) AS cairn_window WHERE event_timestamp >= TIMESTAMPTZ '{start}' "
        f"AND event_timestamp < TIMESTAMPTZ '{end}'"
    )
    held = config.parts
    split = SplitSpec(validation=held.validation or 0.15, test=policy.gates.test_share)
    return replace(
        config,
        entities=entities,
        split=split,
        tags={**config.tags, **(tags or {})},
        source=f"{config.source} (retraining window {start} to {end})",
    )
