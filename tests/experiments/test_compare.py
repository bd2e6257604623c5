"""Champion vs shadow challenger end to end on a Parquet log, and the recommendation rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from cairn.core.deployments import Decisions
from cairn.core.errors import ConfigError, DataError
from cairn.experiments.champion import ChampionComparison, Policy, compare_champion
from cairn.experiments.champion.compare import judge
from cairn.experiments.champion.pairs import ShadowPairs
from cairn.serving.log_reader import connect
from cairn.ui.terminal.experiments import print_comparison
from tests.experiments._log import START, write_log

AS_OF = START + timedelta(days=40)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("shadow")
    log = write_log(root, seed=11, units=1500, challenger_noise=0.2)
    frame = log.predictions.to_pandas()
    customers = frame["unit_id"].drop_duplicates()
    rng = np.random.default_rng(0)
    pd.DataFrame(
        {"customer_id": customers, "sex": rng.choice(["f", "m"], size=len(customers))}
    ).to_parquet(root / "protected.parquet", index=False)
    return root


def _compare(project: Path, **options: object) -> ChampionComparison:
    with connect(project) as con:
        return compare_champion(con, "credit", as_of=AS_OF, **options)  # type: ignore[arg-type]


def test_metrics_on_shadow_pairs_match_an_independent_computation(project: Path) -> None:
    result = _compare(project, challenger="credit-default")
    frame = pd.read_parquet(project / ".cairn" / "predictions")
    out = pd.read_parquet(project / ".cairn" / "outcomes")
    out = out[out.observed_at <= pd.Timestamp(AS_OF)]
    post = frame[frame.strategy == "ab"]
    pairs = post[~post.shadow].merge(post[post.shadow], on="prediction_id", suffixes=("", "_b"))
    pairs = pairs.merge(out[["prediction_id", "label"]], on="prediction_id", how="left")
    labeled = pairs[pairs.label.notna()]
    assert result.champion.model == "credit-default/1"
    assert result.challenger.model == "credit-default/2"
    assert (result.pairs, result.labeled_pairs) == (len(pairs), len(labeled))
    assert result.champion.auc is not None and result.challenger.auc is not None
    assert result.champion.auc.auc == pytest.approx(roc_auc_score(labeled.label, labeled.score))
    assert result.challenger.auc.auc == pytest.approx(roc_auc_score(labeled.label, labeled.score_b))
    assert result.champion.approval_rate == pytest.approx((pairs.score < 0.5).mean())
    p99 = np.quantile(pairs.latency_ms_b, 0.99)
    assert result.challenger.latency_p99_ms == pytest.approx(p99)
    assert result.approval_difference is not None
    assert result.approval_difference.difference == pytest.approx(
        (pairs.score_b < 0.5).mean() - (pairs.score < 0.5).mean()
    )


def test_a_sharper_challenger_is_promoted_with_reasons(project: Path) -> None:
    result = _compare(project)
    assert result.auc_difference is not None and result.auc_difference.difference > 0
    assert result.recommendation == "promote", result.reasons
    assert result.reasons[0].startswith("AUC ") and "challenger ranks better" in result.reasons[0]


def test_protected_attribute_gives_adverse_impact_ratios(project: Path) -> None:
    result = _compare(project, protected=project / "protected.parquet", attribute="sex")
    impact = result.challenger.adverse_impact
    assert impact is not None and impact.attribute == "sex"
    assert {g.group for g in impact.groups} == {"f", "m"}
    assert sum(g.count for g in impact.groups) == result.pairs
    assert impact.min_ratio is not None and 0 < impact.min_ratio <= 1


def test_immature_labels_make_it_inconclusive(project: Path) -> None:
    result = _compare(project, maturity=400 * 86_400_000_000)
    assert result.recommendation == "inconclusive" and result.labeled_pairs == 0
    assert result.reasons[0].startswith("not enough labeled pairs: 0 of")


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"challenger": "other-model"}, ConfigError, "No shadow predictions of 'other-model'"),
        ({"threshold": 2.0}, ConfigError, "threshold must be between 0 and 1"),
        ({"protected": "missing.parquet", "attribute": "sex"}, ConfigError, "No protected"),
    ],
)
def test_bad_input(project: Path, options: dict[str, object], error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        _compare(project, **options)


def test_protected_file_needs_a_known_attribute(project: Path) -> None:
    with pytest.raises(ConfigError, match="no column 'race'"):
        _compare(project, protected=project / "protected.parquet", attribute="race")


def test_no_shadow_rows_is_one_clear_error(tmp_path: Path) -> None:
    write_log(tmp_path, seed=2, units=20, with_shadow=False)
    with connect(tmp_path) as con, pytest.raises(DataError, match="no shadow predictions"):
        compare_champion(con, "credit", as_of=AS_OF)


def _pairs(seed: int, sharper: float, latency: float = 1.0, n: int = 3000) -> ShadowPairs:
    rng = np.random.default_rng(seed)
    risk = rng.normal(size=n)
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-risk))).astype(float)
    a = 1 / (1 + np.exp(-(risk + rng.normal(scale=1.0, size=n))))
    b = 1 / (1 + np.exp(-(risk + rng.normal(scale=sharper, size=n))))
    lat = rng.gamma(2.0, 0.5, size=n)
    return ShadowPairs("champ/1", "chall/2", a, b, lat, lat * latency, y)


def test_recommendation_rules() -> None:
    policy, at = Policy(), START
    better = judge(_pairs(1, 0.3), "d", 0.5, at, policy)
    assert better.recommendation == "promote"
    worse = judge(_pairs(1, 2.0), "d", 0.5, at, policy)
    assert worse.recommendation == "keep" and "challenger ranks worse" in worse.reasons[0]
    same = judge(_pairs(1, 1.0, n=300), "d", 0.5, at, policy)
    assert same.recommendation in ("inconclusive", "keep")
    slow = judge(_pairs(1, 0.3, latency=1.5), "d", 0.5, at, policy)
    assert slow.recommendation == "keep" and any("latency p99" in r for r in slow.reasons)


def _grouped_pairs(counts: dict[str, tuple[int, int]]) -> ShadowPairs:
    """Per group ``(cases, champion scores at or above 0.5)``; the challenger scores 0.4 for
    everyone (never the positive decision). No labels."""
    groups: list[str] = []
    scores: list[float] = []
    for group, (cases, high) in counts.items():
        groups += [group] * cases
        scores += [0.8] * high + [0.2] * (cases - high)
    a = np.asarray(scores)
    lat = np.ones(len(a))
    nan = np.full(len(a), np.nan)
    return ShadowPairs("champ/1", "chall/2", a, np.full(len(a), 0.4), lat, lat, nan,
                       group=np.asarray(groups, dtype=object))  # fmt: skip


def test_adverse_impact_is_computed_on_the_favorable_decision() -> None:
    pairs = _grouped_pairs({"a": (50, 30), "b": (50, 15)})
    outreach = Decisions("follow_up", "skip", favorable="positive")
    result = judge(pairs, "outreach", 0.5, START, Policy(), "segment", outreach)
    air = result.champion.adverse_impact
    assert air is not None and air.decision == "follow_up" and air.attribute == "segment"
    rates = {g.group: (g.rate, g.ratio) for g in air.groups}
    # follow_up rates: a 30/50 = 0.6 (the reference), b 15/50 = 0.3 -> ratio 0.5, flagged
    assert rates == {"a": (0.6, 1.0), "b": (0.3, 0.5)}
    assert air.reference == "a" and air.min_ratio == 0.5 and air.flagged
    assert result.champion.favorable_rate == pytest.approx(45 / 100)
    assert result.challenger.favorable_rate == 0.0  # 0.4 < 0.5: nobody gets follow_up
    assert result.favorable_difference is not None
    assert result.favorable_difference.difference == pytest.approx(-0.45)
    # the same scores under credit's vocabulary: the favorable decision is approve (< 0.5)
    credit = judge(pairs, "credit", 0.5, START, Policy(), "segment")
    air = credit.champion.adverse_impact
    assert air is not None and air.decision == "approve"
    # approve rates: a 20/50 = 0.4, b 35/50 = 0.7 (the reference) -> ratio a = 0.4 / 0.7
    assert air.reference == "b" and air.min_ratio == pytest.approx(0.4 / 0.7) and air.flagged
    assert credit.champion.approval_rate == pytest.approx(55 / 100)


def test_the_report_and_the_terminal_name_the_favorable_decision(tmp_path: Path) -> None:
    from cairn.experiments.report import render_html
    from cairn.ui.terminal.console import console

    pairs = _grouped_pairs({"a": (50, 30), "b": (50, 15)})
    outreach = Decisions("follow_up", "skip", favorable="positive")
    result = replace(
        judge(pairs, "outreach", 0.5, START, Policy(), "segment", outreach),
        maturity=7 * 86_400_000_000,
        maturity_source="the label maturity of deployment outreach",
    )
    html = render_html(None, result)
    assert "follow_up rate" in html and "approval rate" not in html
    assert "Labels count for requests at least 7d old" in html
    with console.capture() as captured:
        print_comparison(result)
    out = captured.get()
    assert "follow_up rate" in out and "approval rate" not in out
    assert "Labels count for requests at least 7d old (the label maturity of deployment" in out
