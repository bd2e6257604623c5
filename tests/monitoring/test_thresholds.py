"""DriftThresholds: bands per feature, validation, and the p-value corrections."""

from __future__ import annotations

from typing import Any

import pytest

from cairn.core.errors import ConfigError
from cairn.monitoring import DriftThresholds


def test_bands_default_and_per_feature() -> None:
    t = DriftThresholds(features={"income": (0.2, 0.4)})
    assert [t.band("age", v) for v in (0.05, 0.1, 0.25, 0.26)] == [
        "stable", "monitor", "monitor", "drift",
    ]  # fmt: skip
    assert [t.band("income", v) for v in (0.15, 0.3, 0.41)] == ["stable", "monitor", "drift"]
    assert t.bands_for("income") == (0.2, 0.4) and t.bands_for("age") == (0.1, 0.25)


def test_round_trip_through_a_mapping() -> None:
    t = DriftThresholds(psi=(0.05, 0.2), features={"x": (0.1, 0.3)}, alpha=0.01, js=0.1)
    assert DriftThresholds.from_dict(t.to_dict()) == t
    assert DriftThresholds.from_dict({"psi": [0.1, 0.3]}).psi == (0.1, 0.3)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"psi": (0.3, 0.1)}, r"DriftThresholds.psi must be \(monitor, drift\)"),
        ({"features": {"x": (-1.0, 0.2)}}, r"features\['x'\] must be"),
        ({"alpha": 1.5}, "alpha must be between 0 and 1"),
        ({"null_share": 0.0}, "null_share must be positive"),
    ],
)
def test_bad_thresholds_name_the_parameter(args: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        DriftThresholds(**args)


def test_from_dict_rejects_unknown_keys_and_bad_pairs() -> None:
    with pytest.raises(ConfigError, match="Unknown drift threshold.*psy.*known: alpha"):
        DriftThresholds.from_dict({"psy": [0.1, 0.2]})
    with pytest.raises(ConfigError, match="must be a pair"):
        DriftThresholds.from_dict({"psi": 0.1})
