"""Power analysis: how many units and days an experiment needs, and what it can detect.

A :class:`PowerDesign` holds the baseline, arm weights (control first), alpha, power, metric
(proportion, or mean with its std), relative or absolute effects, an optional correction over
the treatments and the daily traffic. :func:`sample_size` gives the units per arm and days to
detect an effect; :func:`minimum_detectable_effect` the effect reachable in a given duration;
the ``sequential_`` variants plan for always-valid confidence sequences (tuning ``n_star``),
which need more units in exchange for checking as often as you like. Normal approximation,
the same variance formulas as the tests in :mod:`cairn.experiments.stats`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cairn.core.lazy import lazy_exports

if TYPE_CHECKING:
    from cairn.experiments.power.design import ArmPlan, PowerDesign, PowerPlan
    from cairn.experiments.power.normal import comparison_power
    from cairn.experiments.power.solve import (
        minimum_detectable_effect,
        sample_size,
        sequential_minimum_detectable_effect,
        sequential_sample_size,
    )

_HOME = {
    "ArmPlan": "cairn.experiments.power.design",
    "PowerDesign": "cairn.experiments.power.design",
    "PowerPlan": "cairn.experiments.power.design",
    "comparison_power": "cairn.experiments.power.normal",
    "minimum_detectable_effect": "cairn.experiments.power.solve",
    "sample_size": "cairn.experiments.power.solve",
    "sequential_minimum_detectable_effect": "cairn.experiments.power.solve",
    "sequential_sample_size": "cairn.experiments.power.solve",
}

# Loaded on first use: importing one submodule (say, the calibration check the monitoring
# service needs) does not load every analysis and SciPy with it.
__getattr__ = lazy_exports(__name__, _HOME)

__all__ = [
    "ArmPlan",
    "PowerDesign",
    "PowerPlan",
    "comparison_power",
    "minimum_detectable_effect",
    "sample_size",
    "sequential_minimum_detectable_effect",
    "sequential_sample_size",
]
