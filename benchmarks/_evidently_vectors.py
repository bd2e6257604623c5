"""Write Evidently 0.7.23's drift numbers on fixed seeded arrays: the oracle of the PSI tests.

Evidently needs pandas < 3, so it cannot live in the development environment. This script runs
in the benchmark environment and writes ``tests/monitoring/evidently_vectors.json``: for each
case, the *spec* of its two arrays (distribution, arguments, size, seed, missing and infinite
values), checksums of the generated arrays, and Evidently's ``psi``, ``ks``,
``jensenshannon`` and ``wasserstein`` stattest results on them. The test
(``tests/monitoring/test_evidently_vectors.py``) regenerates the arrays from the spec, checks
the checksums and compares Cairn's :func:`cairn.monitoring.metrics.psi_evidently` (and KS,
Jensen–Shannon, Wasserstein) with these numbers to 1e-9.

Evidently's stattests get what its drift preset gives them: the column with ±inf replaced by
NaN and NaN dropped.

Usage: ``DO_NOT_TRACK=1 .venv-bench/bin/python benchmarks/_evidently_vectors.py``
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("EVIDENTLY_DISABLE_TELEMETRY", "1")

OUT = Path(__file__).resolve().parent.parent / "tests" / "monitoring" / "evidently_vectors.json"
LETTERS = [f"c{i}" for i in range(12)]


def side(
    dist: str, n: int, seed: int, *args: Any, nan: float = 0.0, inf: int = 0
) -> dict[str, Any]:
    """The spec of one array."""
    return {"dist": dist, "args": list(args), "n": n, "seed": seed, "nan": nan, "inf": inf}


CASES: list[dict[str, Any]] = [
    {"name": "normal_shift", "kind": "numeric",
     "reference": side("normal", 5000, 1, 0.0, 1.0), "current": side("normal", 8000, 2, 0.3, 1.2)},
    {"name": "normal_same", "kind": "numeric",
     "reference": side("normal", 20000, 3, 5.0, 2.0),
     "current": side("normal", 20000, 4, 5.0, 2.0)},
    {"name": "small", "kind": "numeric",
     "reference": side("normal", 50, 5, 0.0, 1.0), "current": side("normal", 70, 6, 0.5, 1.0)},
    {"name": "heavy_tail_tiny_bins", "kind": "numeric",
     "reference": side("lognormal", 100000, 7, 0.0, 1.5),
     "current": side("lognormal", 100000, 8, 0.2, 1.5)},
    {"name": "integers_value_bins", "kind": "numeric",
     "reference": side("integers", 3000, 9, 0, 10), "current": side("integers", 4000, 10, 2, 14)},
    {"name": "missing_and_inf", "kind": "numeric",
     "reference": side("normal", 6000, 11, 0.0, 1.0, nan=0.05, inf=3),
     "current": side("exponential", 7000, 12, 1.0, nan=0.3, inf=5)},
    {"name": "categories_unseen", "kind": "categorical",
     "reference": side("choice", 5000, 13, 8), "current": side("choice", 6000, 14, 12, nan=0.1)},
    {"name": "categories_same", "kind": "categorical",
     "reference": side("choice", 50000, 15, 5), "current": side("choice", 50000, 16, 5)},
]  # fmt: skip


def generate(spec: dict[str, Any]) -> np.ndarray:
    """The array a spec describes (float64, or object with None for categorical)."""
    rng = np.random.default_rng(spec["seed"])
    n, args = spec["n"], spec["args"]
    values: np.ndarray
    if spec["dist"] == "normal":
        values = rng.normal(args[0], args[1], n)
    elif spec["dist"] == "lognormal":
        values = rng.lognormal(args[0], args[1], n)
    elif spec["dist"] == "exponential":
        values = rng.exponential(args[0], n)
    elif spec["dist"] == "integers":
        values = rng.integers(args[0], args[1], n).astype(np.float64)
    elif spec["dist"] == "choice":
        k = args[0]
        weights = np.arange(1, k + 1, dtype=np.float64)
        values = np.array(LETTERS[:k], dtype=object)[rng.choice(k, n, p=weights / weights.sum())]
    else:
        raise ValueError(spec["dist"])
    holes = rng.choice(n, int(spec["nan"] * n), replace=False)
    values[holes] = None if values.dtype == object else np.nan
    if spec["inf"]:
        values[rng.choice(n, spec["inf"], replace=False)] = np.inf
    return values


def checksum(values: np.ndarray) -> dict[str, Any]:
    """Numbers the test compares to be sure it regenerated the same array."""
    if values.dtype == object:
        present = [v for v in values if v is not None]
        return {"present": len(present), "distinct": sorted(set(present))}
    finite = values[np.isfinite(values)]
    return {"present": int((~np.isnan(values)).sum()), "sum": float(np.sum(finite))}


def evidently_numbers(case: dict[str, Any], ref: np.ndarray, cur: np.ndarray) -> dict[str, Any]:
    """Evidently's stattests on the arrays, cleaned the way its drift preset cleans them."""
    from evidently.legacy.calculations.stattests import (
        jensenshannon_stat_test,
        ks_stat_test,
        psi_stat_test,
        wasserstein_stat_test,
    )
    from evidently.legacy.core import ColumnType

    def clean(a: np.ndarray) -> pd.Series:
        return pd.Series(a).replace([-np.inf, np.inf], np.nan).dropna()

    r, c = clean(ref), clean(cur)
    kind = ColumnType.Categorical if case["kind"] == "categorical" else ColumnType.Numerical
    out = {
        "psi": float(psi_stat_test(r, c, kind, None).drift_score),
        "jensenshannon": float(jensenshannon_stat_test(r, c, kind, None).drift_score),
    }
    if kind == ColumnType.Numerical:
        out["ks_p_value"] = float(ks_stat_test(r, c, kind, None).drift_score)
        out["wasserstein_norm"] = float(wasserstein_stat_test(r, c, kind, None).drift_score)
    return out


def main() -> int:
    import evidently

    cases = []
    for case in CASES:
        ref, cur = generate(case["reference"]), generate(case["current"])
        cases.append(
            {
                **case,
                "checksums": {"reference": checksum(ref), "current": checksum(cur)},
                "evidently": evidently_numbers(case, ref, cur),
            }
        )
    doc = {
        "generator": "benchmarks/_evidently_vectors.py",
        "evidently": evidently.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "letters": LETTERS,
        "cases": cases,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {len(cases)} cases to {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
