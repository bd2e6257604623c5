"""Cairn's Evidently-compatible PSI (and KS, JS, Wasserstein) equal Evidently 0.7.23's numbers.

Evidently cannot be installed here (it needs pandas < 3), so ``benchmarks/_evidently_vectors.py``
ran it in the benchmark environment on arrays it generated from seeded specs and stored the
specs, checksums and results in ``evidently_vectors.json``. This test regenerates the arrays with
the same generator, checks the checksums and recomputes Cairn's numbers.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import jensenshannon

from cairn.monitoring import ReferenceProfile, compute_drift
from cairn.monitoring.metrics import evidently_shares, ks_2samp, psi_evidently, wasserstein_distance

HERE = Path(__file__).resolve().parent
VECTORS = json.loads((HERE / "evidently_vectors.json").read_text())
GENERATOR = HERE.parent.parent / "benchmarks" / "_evidently_vectors.py"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_evidently_vectors", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GEN = _generator()


def _arrays(case: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    ref, cur = GEN.generate(case["reference"]), GEN.generate(case["current"])
    assert GEN.checksum(ref) == case["checksums"]["reference"]
    assert GEN.checksum(cur) == case["checksums"]["current"]
    return ref, cur


CASES = [pytest.param(c, id=c["name"]) for c in VECTORS["cases"]]


def test_the_vectors_come_from_evidently_0_7_23() -> None:
    assert VECTORS["evidently"] == "0.7.23" and len(VECTORS["cases"]) >= 8


@pytest.mark.parametrize("case", CASES)
def test_psi_evidently_equals_evidently(case: dict[str, Any]) -> None:
    ref, cur = _arrays(case)
    categorical = case["kind"] == "categorical"
    ours = psi_evidently(ref, cur, categorical=categorical)
    assert ours == pytest.approx(case["evidently"]["psi"], rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("case", CASES)
def test_jensen_shannon_on_evidently_bins_equals_evidently(case: dict[str, Any]) -> None:
    ref, cur = _arrays(case)
    p, q = evidently_shares(ref, cur, categorical=case["kind"] == "categorical")
    expected = case["evidently"]["jensenshannon"]  # natural log: Evidently's default base
    assert float(jensenshannon(p, q)) == pytest.approx(expected, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize(
    "case", [pytest.param(c, id=c["name"]) for c in VECTORS["cases"] if c["kind"] == "numeric"]
)
def test_ks_and_wasserstein_equal_evidently(case: dict[str, Any]) -> None:
    ref, cur = _arrays(case)
    r = np.sort(ref[np.isfinite(ref)])
    c = np.sort(cur[np.isfinite(cur)])
    _, p = ks_2samp(r, c)
    assert p == pytest.approx(case["evidently"]["ks_p_value"], rel=1e-9, abs=1e-300)
    norm = max(float(np.std(r)), 0.001)
    w = wasserstein_distance(r, c) / norm
    assert w == pytest.approx(case["evidently"]["wasserstein_norm"], rel=1e-9)


def test_the_tiny_share_rule_is_exercised() -> None:
    """At least one case fills empty bins with min(share)/1e6 (Evidently's asymmetric rule)."""
    hits = 0
    for case in VECTORS["cases"]:
        ref, cur = _arrays(case)
        for shares in evidently_shares(ref, cur, categorical=case["kind"] == "categorical"):
            nonzero = shares[shares > 0]
            hits += bool((shares == 0).any() and nonzero.min() <= 1e-4)
    assert hits >= 1


@pytest.mark.parametrize("case", CASES)
def test_compute_drift_reports_evidentlys_psi_when_the_sample_is_the_reference(
    case: dict[str, Any],
) -> None:
    ref, cur = _arrays(case)
    categorical = {"x"} if case["kind"] == "categorical" else set()
    profile = ReferenceProfile.build(
        pd.DataFrame({"x": ref}), categorical=categorical, sample=ref.size
    )
    drift = compute_drift(profile, pd.DataFrame({"x": cur}), score_column=None).feature("x")
    assert drift.status == "ok"
    assert drift.psi_evidently == pytest.approx(case["evidently"]["psi"], rel=1e-9, abs=1e-9)
