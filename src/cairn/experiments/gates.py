"""Canary gates: should a canary advance, wait, promote, roll back, or hold? (DESIGN §3.3)

Pure functions of each arm's numbers since the stage began, so the same code judges a
simulation, a test and the live prediction log. The gates, in the order they are judged:

1. **Harm** (rolls back at once, at any sample size): one-sided always-valid sequential tests
   of canary minus control on the error rate and on the mean latency; harm when the lower
   bound of the confidence sequence is above 0 at ``alpha``. Being always valid, they may be
   looked at after every request without inflating false alarms. The error counts get the
   Agresti-Caffo adjustment (one error and one success more per arm), so a control with no
   errors at all still gives the test a variance.
2. **p99 floor, credible breach** (rolls back): the canary's p99 is above ``p99_ratio`` ×
   control's even when judged generously: the canary's lower order-statistic bound against
   control's upper one (each one-sided at ``alpha``).
3. **Minimum sample** (waits): each arm needs ``min_samples`` rows in the stage.
4. **Sample-ratio mismatch** (holds): the units per arm do not fit the stage's weights
   (χ² p below ``srm_p``); the numbers cannot be trusted until someone looks. Judged only
   once the minimum sample is in, when the stage would otherwise move, so that early noise
   and repeated looks do not hold a healthy rollout.
5. **Floors** (waits): error rate ≤ ``error_ratio`` × control and p99 ≤ ``p99_ratio`` ×
   control on the point estimates. A breach waits for more data, up to ``patience`` ×
   ``min_samples`` rows per arm: it resolves, or turns into harm (1) or a credible breach
   (2), which roll back. Past that, a breach that never became credible is noise (a rare
   error, a p99 from a few hundred rows) and the stage passes, so a healthy canary never
   stalls.
6. Otherwise the stage passed: **advance**, or **promote** after the last gated stage.

Given the arms' scores, decisions and labels (``quality``, see
:mod:`cairn.experiments.model_gates`), the gates also judge the model, and every decision
records those numbers:

- after the latency gates, **AUC harm** (rolls back): with ``min_labels`` matured labels per
  arm, the always-valid upper bound of canary minus control AUC is below 0;
- after the sample-ratio check (each holds): **score PSI** above ``max_score_psi`` and
  unlikely by chance (PSI x n1 n2 / (n1 + n2) is chi-square under no change, so a small
  stage's noisy PSI does not hold it); a credible
  **decision-rate** shift beyond ``decision_rate_margin``; **calibration**: canary ECE above
  control's by more than ``max_ece_increase`` and the canary credibly miscalibrated
  (Hosmer-Lemeshow);
- at the last stage, **evidence** (``GatePolicy.evidence``): promotion needs the AUC's
  always-valid lower bound above ``-auc_margin`` on matured labels, or the same from a shadow
  comparison of the version; without it the stage waits for labels (a worse model meets the
  AUC harm rollback first). ``evidence = none`` promotes and says so in the decision.

The score-PSI and calibration gates hold on a magnitude AND a chance probability below
:data:`CHANCE_P` (0.001, as strict as the sample-ratio check's default): both statistics are
biased upwards on small samples and are looked at on every evaluation.

Example
-------
>>> def arm(rows, error_every=0):
...     errors = [error_every > 0 and i % error_every == 0 for i in range(rows)]
...     return ArmStats.from_values(errors, [2.0 + (i % 7) * 0.1 for i in range(rows)])
>>> evaluate_gates(arm(1200), arm(400), canary_share=0.25, policy=GatePolicy()).action
'advance'
>>> decision = evaluate_gates(arm(1200), arm(400, 5), canary_share=0.25, policy=GatePolicy())
>>> decision.action, decision.gate
('rollback', 'error_rate')
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any, Literal

import numpy as np

from cairn.core.errors import ConfigError
from cairn.core.gate_policy import GatePolicy
from cairn.experiments.model_gates import ArmScores, ShadowEvidence, model_quality
from cairn.experiments.stats import Proportion, SampleMean, TestResult, sequential, srm

CHANCE_P = 0.001
"""The score-PSI and calibration gates hold only when their statistic is this unlikely by
chance (chi-square of the PSI; Hosmer-Lemeshow of the canary's calibration)."""

Action = Literal["wait", "advance", "promote", "rollback", "hold"]
Gate = Literal[
    "min_samples",
    "error_rate",
    "latency",
    "p99_floor",
    "error_floor",
    "srm",
    "auc",
    "score_psi",
    "decision_rate",
    "calibration",
    "evidence",
    "passed",
    "full_traffic",
    "evaluation",
]
"""Which gate decided; ``full_traffic`` and ``evaluation`` (it failed) are the controller's."""
P99 = 0.99


@dataclass(frozen=True)
class ArmStats:
    """One arm's numbers since its stage began (what one SQL ``GROUP BY arm`` returns).

    Parameters
    ----------
    units:
        Distinct units (the sample-ratio check counts these).
    errors:
        Rows, and rows whose model failed.
    latency:
        Rows and sums of ``latency_ms``.
    p99, p99_low, p99_high:
        The p99 latency (linear interpolation) and its lower and upper order-statistic
        confidence bounds (``-inf``/``inf`` when there are too few rows for one).
    """

    units: int
    errors: Proportion
    latency: SampleMean
    p99: float
    p99_low: float = -math.inf
    p99_high: float = math.inf

    @property
    def n(self) -> int:
        """Rows."""
        return self.errors.n

    @classmethod
    def from_values(
        cls,
        errors: Sequence[bool],
        latency_ms: Sequence[float],
        *,
        units: int | None = None,
        alpha: float = 0.05,
    ) -> ArmStats:
        """Summarise raw rows (simulations and tests; the controller asks SQL instead).

        Example
        -------
        >>> s = ArmStats.from_values([False, True, False, False], [1.0, 2.0, 3.0, 4.0])
        >>> s.n, s.errors.mean, s.latency.mean, round(s.p99, 2)
        (4, 0.25, 2.5, 3.97)
        """
        lat = np.sort(np.asarray(latency_ms, dtype=np.float64))
        n = len(lat)
        if len(errors) != n:
            raise ConfigError(
                f"errors and latency_ms must have one value per row; got {len(errors)} and {n}."
            )
        low, high = quantile_ranks(n, P99, alpha)
        return cls(
            units=n if units is None else units,
            errors=Proportion(n, float(np.sum(np.asarray(errors, dtype=bool)))),
            latency=SampleMean(n, float(lat.sum()), float((lat * lat).sum())),
            p99=float(np.quantile(lat, P99)) if n else 0.0,
            p99_low=float(lat[low - 1]) if low >= 1 else -math.inf,
            p99_high=float(lat[high - 1]) if high <= n else math.inf,
        )


def quantile_ranks(n: int, q: float, alpha: float) -> tuple[int, int]:
    """1-based ranks of the order statistics bounding the ``q`` quantile of ``n`` rows, each
    one-sided at ``alpha`` (normal approximation of the binomial count below the quantile);
    a rank below 1 or above ``n`` means no bound.

    Example
    -------
    >>> quantile_ranks(1000, 0.99, 0.05)
    (984, 997)
    """
    z = NormalDist().inv_cdf(1 - alpha)
    spread = z * math.sqrt(n * q * (1 - q))
    return math.floor(n * q - spread), math.ceil(n * q + spread) + 1


@dataclass(frozen=True)
class GateDecision:
    """What the gates decided, which gate decided it, the numbers it used, and why.

    Example
    -------
    >>> GateDecision("wait", "min_samples", {"canary_n": 3}, "3 of 200 rows").action
    'wait'
    """

    action: Action
    gate: Gate
    numbers: dict[str, Any] = field(default_factory=dict)
    reason: str = ""

    def model_line(self) -> str:
        """The model-quality numbers in one line ('' when the gates judged no scores).

        Example
        -------
        >>> numbers = {"score_psi": 0.031, "score_psi_p": 0.4, "control_decision_rate": 0.1,
        ...            "canary_decision_rate": 0.12, "control_labeled": 0, "canary_labeled": 0}
        >>> GateDecision("advance", "passed", numbers).model_line()
        'score PSI 0.031 (p 0.4); positive decisions 12.0% vs 10.0%; labels 0/0'
        """
        n = self.numbers
        if "score_psi" not in n:
            return ""
        parts = [f"score PSI {_fmt(n['score_psi'], '.3f')} (p {_fmt(n.get('score_psi_p'), '.2g')})"]
        rates = (n.get("canary_decision_rate"), n.get("control_decision_rate"))
        parts.append(f"positive decisions {_fmt(rates[0], '.1%')} vs {_fmt(rates[1], '.1%')}")
        labels = f"labels {n.get('canary_labeled') or 0}/{n.get('control_labeled') or 0}"
        if n.get("canary_auc") is not None and n.get("control_auc") is not None:
            labels += (
                f": AUC {n['canary_auc']:.3f} vs {n['control_auc']:.3f}, ECE "
                f"{_fmt(n.get('canary_ece'), '.3f')} vs {_fmt(n.get('control_ece'), '.3f')}"
            )
        parts.append(labels)
        if "evidence" in n:
            parts.append(f"evidence {n['evidence']}")
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (infinities and NaN become None)."""
        return {
            "action": self.action,
            "gate": self.gate,
            "numbers": {k: _json_number(v) for k, v in self.numbers.items()},
            "reason": self.reason,
        }


def _json_number(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def evaluate_gates(
    control: ArmStats,
    canary: ArmStats,
    *,
    canary_share: float,
    policy: GatePolicy,
    last: bool = False,
    quality: tuple[ArmScores, ArmScores] | None = None,
    shadow: ShadowEvidence | None = None,
) -> GateDecision:
    """Judge one stage of a canary (see the module docstring for the order of the gates).

    Parameters
    ----------
    control, canary:
        Each arm's numbers since the stage began (primary rows only).
    canary_share:
        The canary's configured share of traffic in this stage, in (0, 1).
    policy:
        The thresholds.
    last:
        Passing this stage promotes (the next stage is 100 %).
    quality:
        Control's and the canary's scores, decisions and labels in the stage (None: the
        model gates are not judged, and promotion finds no label evidence).
    shadow:
        A shadow comparison of the canary's version, evidence for promotion.
    """
    if not 0 < canary_share < 1:
        raise ConfigError(f"canary_share must be in (0, 1); got {canary_share!r}.")
    numbers = _numbers(control, canary, canary_share)
    if quality is not None:
        numbers.update(model_quality(*quality, alpha=policy.alpha, n_star=policy.n_star))
    if shadow is not None:
        numbers.update(shadow.to_numbers())
    tests: dict[Gate, TestResult] = {
        "error_rate": sequential(
            _agresti_caffo(control.errors),
            _agresti_caffo(canary.errors),
            relative=False,
            alpha=policy.alpha,
            n_star=policy.n_star,
            alternative="greater",
        ),
        "latency": sequential(
            control.latency,
            canary.latency,
            relative=False,
            alpha=policy.alpha,
            n_star=policy.n_star,
            alternative="greater",
        ),
    }
    for name, result in tests.items():
        numbers.update(_test_numbers(name, result))
    for name, result in tests.items():
        if result.error is None and result.ci[0] > 0:
            what = "error rate" if name == "error_rate" else "mean latency (ms)"
            return GateDecision(
                "rollback",
                name,
                numbers,
                f"harm: canary {what} exceeds control by {result.expected:.4g} "
                f"(one-sided {1 - policy.alpha:.0%} always-valid lower bound "
                f"{result.ci[0]:.4g} > 0)",
            )
    p99_limit = policy.p99_ratio * control.p99_high
    if canary.p99_low > p99_limit:
        return GateDecision(
            "rollback",
            "p99_floor",
            numbers,
            f"p99 floor breached: canary p99 >= {canary.p99_low:.4g} ms (lower bound) exceeds "
            f"{policy.p99_ratio:g} x control p99 <= {control.p99_high:.4g} ms (upper bound)",
        )
    labels = _labeled(numbers, policy)
    if labels and numbers["auc_upper"] is not None and numbers["auc_upper"] < 0:
        return GateDecision(
            "rollback",
            "auc",
            numbers,
            f"harm: canary AUC {numbers['canary_auc']:.3f} vs control "
            f"{numbers['control_auc']:.3f} on {numbers['canary_labeled']}/"
            f"{numbers['control_labeled']} matured labels (always-valid upper bound "
            f"{numbers['auc_upper']:.4f} < 0)",
        )
    short = min(control.n, canary.n)
    if short < policy.min_samples:
        return GateDecision(
            "wait",
            "min_samples",
            numbers,
            f"collecting: control {control.n}, canary {canary.n} rows of the "
            f"{policy.min_samples} each arm needs",
        )
    shares = [1 - canary_share, canary_share]
    check = srm([control.units, canary.units], shares, threshold=policy.srm_p)
    numbers.update(srm_p=check.p_value, srm_chi2=check.chi2)
    if check.mismatch:
        return GateDecision(
            "hold",
            "srm",
            numbers,
            f"sample-ratio mismatch: units {control.units}/{canary.units} do not fit the "
            f"weights {shares[0]:.0%}/{shares[1]:.0%} (chi2 p = {check.p_value:.2g} < "
            f"{policy.srm_p:g}); check assignment and logging, then resume",
        )
    model = _model_breach(numbers, policy, labels)
    if model is not None:
        return GateDecision("hold", model[0], numbers, model[1])
    breach = _floor_breach(control, canary, policy)
    text = f"every gate passed with control {control.n} and canary {canary.n} rows"
    if breach is not None:
        gate, said = breach
        if short < policy.patience * policy.min_samples:
            return GateDecision("wait", gate, numbers, f"{said}, not credibly; collecting more")
        numbers[f"{gate}_waived"] = True
        text = f"{said} after {short} rows per arm, but never credibly: treated as noise"
    if not last:
        return GateDecision("advance", "passed", numbers, text)
    return _evidence(numbers, policy, labels, text)


def _labeled(numbers: dict[str, Any], policy: GatePolicy) -> bool:
    """Whether each arm has the matured labels performance and calibration need."""
    counts = (numbers.get("control_labeled"), numbers.get("canary_labeled"))
    return all(c is not None and c >= policy.min_labels for c in counts)


def _model_breach(
    numbers: dict[str, Any], policy: GatePolicy, labels: bool
) -> tuple[Gate, str] | None:
    value, p = numbers.get("score_psi"), numbers.get("score_psi_p")
    if value is not None and value > policy.max_score_psi and p is not None and p < CHANCE_P:
        return "score_psi", (
            f"canary scores differ from control's: score PSI {value:.3f} > "
            f"{policy.max_score_psi:g} (p = {p:.2g} < {CHANCE_P:g} that it is chance); "
            "review the model before resuming"
        )
    low, high = numbers.get("decision_rate_low"), numbers.get("decision_rate_high")
    margin = policy.decision_rate_margin
    if low is not None and high is not None and (low > margin or high < -margin):
        return "decision_rate", (
            f"positive-decision rate {numbers['canary_decision_rate']:.1%} vs control "
            f"{numbers['control_decision_rate']:.1%}: the always-valid interval "
            f"[{low:+.4f}, {high:+.4f}] is beyond +/-{margin:g}"
        )
    ece = (numbers.get("control_ece"), numbers.get("canary_ece"))
    cal_p = numbers.get("canary_calibration_p")
    if labels and ece[0] is not None and ece[1] is not None and cal_p is not None:
        if ece[1] - ece[0] > policy.max_ece_increase and cal_p < CHANCE_P:
            return "calibration", (
                f"canary calibration error {ece[1]:.3f} vs control {ece[0]:.3f} (more than "
                f"{policy.max_ece_increase:g} worse): observed rate "
                f"{numbers['canary_observed_rate']:.3f} vs mean score "
                f"{numbers['canary_mean_score']:.3f} (Hosmer-Lemeshow p = {cal_p:.2g})"
            )
    return None


def _evidence(
    numbers: dict[str, Any], policy: GatePolicy, labels: bool, passed: str
) -> GateDecision:
    """Promote on the evidence the policy asks for, or wait for it (hold when inconclusive)."""
    need, margin = policy.evidence, policy.auc_margin
    numbers["evidence_required"] = need
    if need == "none":
        numbers["evidence"] = "none"
        text = f"{passed}; no label or shadow evidence required (gate.evidence = none)"
        return GateDecision("promote", "passed", numbers, text)
    found: list[str] = []
    lower = numbers.get("auc_lower")
    if need != "shadow" and labels and lower is not None and lower > -margin:
        found.append(
            f"AUC {numbers['canary_auc']:.3f} vs {numbers['control_auc']:.3f} on "
            f"{numbers['canary_labeled']}/{numbers['control_labeled']} matured labels "
            f"(lower bound {lower:+.4f} > -{margin:g})"
        )
        numbers["evidence"] = "labels"
    shadow = numbers.get("shadow_auc_lower")
    enough = numbers.get("shadow_labeled", 0) >= policy.min_labels
    if not found and need != "labels" and shadow is not None and enough and shadow > -margin:
        found.append(
            f"shadow AUC {numbers['shadow_candidate_auc']:.3f} vs champion "
            f"{numbers['shadow_champion_auc']:.3f} on {numbers['shadow_labeled']} labeled pairs "
            f"(lower bound {shadow:+.4f} > -{margin:g})"
        )
        numbers["evidence"] = "shadow"
    if found:
        return GateDecision("promote", "passed", numbers, f"{passed}; evidence: {found[0]}")
    counts = (numbers.get("control_labeled") or 0, numbers.get("canary_labeled") or 0)
    wanted = {
        "labels": "matured labels",
        "shadow": "a passed shadow comparison of this version",
        "labels_or_shadow": "matured labels or a passed shadow comparison",
    }[need]
    return GateDecision(
        "wait",
        "evidence",
        numbers,
        f"promotion needs {wanted}: {counts[1]}/{counts[0]} canary/control labels of the "
        f"{policy.min_labels} each arm needs, AUC lower bound {_fmt(lower)} (needs > "
        f"-{margin:g}), shadow lower bound {_fmt(shadow)}",
    )


def _fmt(value: float | None, spec: str = "+.4f") -> str:
    return "n/a" if value is None else format(value, spec)


def _floor_breach(
    control: ArmStats, canary: ArmStats, policy: GatePolicy
) -> tuple[Gate, str] | None:
    error_limit = policy.error_ratio * control.errors.mean
    if canary.errors.mean > error_limit:
        return "error_floor", (
            f"canary error rate {canary.errors.mean:.3%} is above {policy.error_ratio:g} x "
            f"control ({error_limit:.3%})"
        )
    p99_limit = policy.p99_ratio * control.p99
    if canary.p99 > p99_limit:
        return "p99_floor", (
            f"canary p99 {canary.p99:.4g} ms is above {policy.p99_ratio:g} x control "
            f"({p99_limit:.4g} ms)"
        )
    return None


def _agresti_caffo(errors: Proportion) -> Proportion:
    """One error and one success added to the arm (Agresti & Caffo 2000): an arm without
    errors still has a variance, so a healthy control does not silence the error-rate test."""
    return Proportion(errors.n + 2, errors.sum + 1)


def _numbers(control: ArmStats, canary: ArmStats, share: float) -> dict[str, Any]:
    out: dict[str, Any] = {"canary_share": share}
    for arm, s in (("control", control), ("canary", canary)):
        out.update(
            {
                f"{arm}_n": s.n,
                f"{arm}_units": s.units,
                f"{arm}_error_rate": s.errors.mean,
                f"{arm}_latency_mean_ms": s.latency.mean,
                f"{arm}_p99_ms": s.p99,
            }
        )
    out["control_p99_high_ms"] = control.p99_high
    out["canary_p99_low_ms"] = canary.p99_low
    return out


def _test_numbers(name: str, result: TestResult) -> dict[str, Any]:
    return {
        f"{name}_diff": result.expected,
        f"{name}_lower": result.ci[0] if result.error is None else None,
        f"{name}_p": result.p_value,
    }
