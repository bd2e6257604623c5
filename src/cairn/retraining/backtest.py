"""The backtest of a retraining policy: replay history on a simulated clock and see when the
policy would have retrained, why, and how the model in force would have done, against never
retraining and against a fixed schedule (``cairn retrain backtest``).

The history is the policy's training rows with point-in-time features
(:mod:`~cairn.retraining.backtest_data`). The initial model is trained at ``start`` on the data
known then (:func:`~cairn.retraining.backtest_model.fit_at`), not the live champion, which saw
data from the backtest's future. Then at ``start + every``, ``start + 2 every``... up to
``end``, each strategy's model in force scores the monitoring window ``[t - window, t)``:

* ``policy``: the window is monitored as ``cairn monitor run`` would monitor it
  (:mod:`~cairn.retraining.backtest_monitor`), the observations and the simulated ledger feed
  the decision engine (:func:`~cairn.retraining.decide.decide`: triggers, persistence,
  cooldown, budget, one run at a time); a run trains a candidate on the data known at ``t``,
  the gates judge it against the model in force on its common out-of-time test part
  (:func:`~cairn.retraining.gates.judge_gates`), and a candidate that passes replaces the model
  in force once its shadow criteria are met (``promotion.shadow``: the approval is assumed);
* ``never``: the initial model throughout;
* ``fixed``: a run at every slot of a fixed schedule (``fixed_every``, else the policy's cron,
  else every 90 days), gated and approved the same way.

Per window, the AUC of each strategy's scores on every label (hindsight) compares them.
Deterministic (the config's seed; the same input gives the same report) and read-only: no
MLflow run, registry version, ledger or audit entry is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from cairn.core.errors import DataError
from cairn.core.timeutil import format_duration, from_micros, parse_duration, to_micros
from cairn.core.types import Micros
from cairn.retraining.backtest_replay import DEFAULT_EVERY, DEFAULT_FIXED, Replay
from cairn.retraining.backtest_report import BacktestReport
from cairn.retraining.policy import RETRAINING_FILE, Policy, load_policies

if TYPE_CHECKING:
    from cairn.app.project import Project

__all__ = ["DEFAULT_EVERY", "DEFAULT_FIXED", "backtest"]


def backtest(
    project: Project,
    policy_name: str,
    *,
    start: datetime | Micros,
    end: datetime | Micros,
    every: Micros | str | None = None,
    window: Micros | str | None = None,
    fixed_every: Micros | str | None = None,
    policies: Mapping[str, Policy] | None = None,
) -> BacktestReport:
    """Replay policy ``policy_name`` of ``project`` over ``[start, end)`` (see the module).

    Parameters
    ----------
    project:
        The project (its feature store, ``deployments.yaml``, ``monitoring`` settings).
    policy_name:
        A policy of ``policies`` (default: the project's ``retraining.yaml``).
    start, end:
        The replayed span (datetimes, or µs since the epoch).
    every, window:
        The step of the simulated clock and the width of each monitoring window (µs, or text
        such as ``30d``); each defaults to the other, or to 30 days.
    fixed_every:
        The period of the fixed schedule (default: the policy's cron, else 90 days).
    """
    if policies is None:
        policies = load_policies(project.root / RETRAINING_FILE)
    if policy_name not in policies:
        known = ", ".join(policies) or "none"
        raise DataError(f"policy {policy_name!r} is not in {RETRAINING_FILE}; policies: {known}.")
    policy = policies[policy_name]
    lo, hi = (t if isinstance(t, int) else to_micros(t) for t in (start, end))
    if lo >= hi:
        raise DataError(
            f"the backtest must start before it ends; got {from_micros(lo).isoformat()} to "
            f"{from_micros(hi).isoformat()}."
        )
    step = _duration(every, "every") if every is not None else None
    width = _duration(window, "window") if window is not None else None
    step, width = step or width or DEFAULT_EVERY, width or step or DEFAULT_EVERY
    fixed = _duration(fixed_every, "fixed_every") if fixed_every is not None else None
    if lo + step > hi:
        raise DataError(
            f"{from_micros(lo):%Y-%m-%d} to {from_micros(hi):%Y-%m-%d} is shorter than one step "
            f"of the simulated clock ({format_duration(step)}): nothing to replay."
        )
    replay = Replay(project, policy_name, policy, start=lo, end=hi, every=step, window=width)
    return replay.run(fixed)


def _duration(value: Micros | str, name: str) -> Micros:
    us = value if isinstance(value, int) else parse_duration(value, owner=name)
    if us <= 0:
        raise DataError(f"{name} must be a positive duration; got {value!r}.")
    return us
