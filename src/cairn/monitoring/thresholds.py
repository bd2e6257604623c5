"""When a feature counts as drifted: PSI bands per feature, optional p-value and effect gates.

By default only PSI decides (DESIGN §3.5): below 0.1 ``stable``, 0.1 to 0.25 ``monitor``, above
0.25 ``drift``, with other bands for chosen features. A feature is also ``drifted`` when

* ``alpha`` is set and its test's p-value — KS for a numeric feature, the two-sample χ² for a
  categorical one — is below ``alpha`` after correcting for the number of features tested
  (Bonferroni or Benjamini–Hochberg, with :func:`cairn.experiments.stats.adjust_p_values`; the
  score is tested on its own);
* its share of missing values moved by at least ``null_share`` (absolute) and the
  two-proportion test finds the move significant at ``null_alpha``;
* ``js`` or ``wasserstein`` is set and the Jensen–Shannon distance or the Wasserstein distance
  divided by the reference std reaches it.

P-values do not gate by default: with 100k rows a KS test flags shifts far too small to
matter, which is why PSI bands are the industry's rule.

Example
-------
>>> t = DriftThresholds(features={"income": (0.05, 0.2)}, alpha=0.01)
>>> t.band("income", 0.12), t.band("age", 0.12)
('monitor', 'monitor')
>>> t.band("income", 0.21), DriftThresholds.from_dict(t.to_dict()) == t
('drift', True)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from cairn.core.errors import ConfigError
from cairn.profiles.psi import BANDS, band

Correction = Literal["bonferroni", "bh"]
CORRECTIONS = ("bonferroni", "bh")


@dataclass(frozen=True)
class DriftThresholds:
    """Bands and gates that decide a feature's ``band`` and ``drifted`` flag.

    Parameters
    ----------
    psi:
        ``(monitor, drift)`` PSI edges for every feature without its own.
    features:
        Feature name (or ``score``) -> its own ``(monitor, drift)`` PSI edges.
    alpha:
        Significance level for the KS / χ² gate after correction; None: p-values do not gate.
    null_share, null_alpha:
        An absolute change of the missing share of at least ``null_share`` that is significant
        at ``null_alpha`` counts as drift; ``null_share=None`` turns the gate off.
    js, wasserstein:
        Optional gates on the Jensen–Shannon distance and the normalised Wasserstein distance.
    """

    psi: tuple[float, float] = BANDS
    features: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    alpha: float | None = None
    null_share: float | None = 0.05
    null_alpha: float = 0.001
    js: float | None = None
    wasserstein: float | None = None

    def __post_init__(self) -> None:
        _check_bands("psi", self.psi)
        for name, edges in self.features.items():
            _check_bands(f"features[{name!r}]", edges)
        object.__setattr__(self, "psi", (float(self.psi[0]), float(self.psi[1])))
        object.__setattr__(
            self, "features", {k: (float(v[0]), float(v[1])) for k, v in self.features.items()}
        )
        for name in ("alpha", "null_alpha"):
            value = getattr(self, name)
            if value is not None and not 0.0 < value < 1.0:
                raise ConfigError(f"DriftThresholds.{name} must be between 0 and 1; got {value!r}.")
        for name in ("null_share", "js", "wasserstein"):
            value = getattr(self, name)
            if value is not None and not value > 0.0:
                raise ConfigError(f"DriftThresholds.{name} must be positive; got {value!r}.")

    def bands_for(self, feature: str) -> tuple[float, float]:
        """The ``(monitor, drift)`` PSI edges of one feature."""
        return self.features.get(feature, self.psi)

    def band(self, feature: str, psi: float) -> str:
        """``stable``, ``monitor`` or ``drift`` for a PSI value of ``feature``."""
        return band(psi, self.bands_for(feature))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``from_dict`` reads it back)."""
        return {
            "psi": list(self.psi),
            "features": {k: list(v) for k, v in self.features.items()},
            "alpha": self.alpha,
            "null_share": self.null_share,
            "null_alpha": self.null_alpha,
            "js": self.js,
            "wasserstein": self.wasserstein,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DriftThresholds:
        """Thresholds from a mapping (e.g. cairn.yaml's ``monitoring.thresholds``); unknown
        keys are a ConfigError listing the known ones."""
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise ConfigError(
                f"Unknown drift threshold(s) {', '.join(sorted(unknown))}; "
                f"known: {', '.join(sorted(known))}."
            )
        args = dict(data)
        if "psi" in args:
            args["psi"] = _pair("psi", args["psi"])
        if "features" in args:
            args["features"] = {
                k: _pair(f"features[{k!r}]", v) for k, v in args["features"].items()
            }
        return cls(**args)


def _pair(name: str, value: Any) -> tuple[float, float]:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ConfigError(
            f"DriftThresholds.{name} must be a pair [monitor, drift] of PSI values; got {value!r}."
        )
    return float(value[0]), float(value[1])


def _check_bands(name: str, edges: tuple[float, float]) -> None:
    if len(edges) != 2 or not 0.0 <= edges[0] <= edges[1]:
        raise ConfigError(
            f"DriftThresholds.{name} must be (monitor, drift) with 0 <= monitor <= drift; "
            f"got {edges!r}."
        )
