"""The quickstart: the example credit project and the demo narrative of ``cairn quickstart``.

:func:`~cairn.quickstart.run.run_quickstart` scaffolds the example project
(:mod:`cairn.quickstart.example`: real credit applications, synthetic transactions, quality
suites, ``train.yaml``, ``deployments.yaml``, ``reason_codes.yaml``) and walks the whole
lifecycle through :class:`cairn.app.Project` — quality, apply, training set, materialize,
online read, consistency, train, approve, promote, lineage, serve, monitor, rollouts,
experiments; :mod:`cairn.quickstart.printers` prints what each step did. Only ``cairn init`` and
``cairn quickstart`` import this package; no capability does. Its names load on first use.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cairn.core.lazy import lazy_exports

if TYPE_CHECKING:
    from cairn.quickstart.example import create_example_project
    from cairn.quickstart.run import QuickstartReport, run_quickstart

DEFAULT_DIR = Path("cairn-quickstart")
"""Where ``cairn quickstart`` builds the example project unless told otherwise."""

_HOME = {
    "QuickstartReport": "cairn.quickstart.run",
    "create_example_project": "cairn.quickstart.example",
    "run_quickstart": "cairn.quickstart.run",
}


__getattr__ = lazy_exports(__name__, _HOME)


__all__ = ["DEFAULT_DIR", "QuickstartReport", "create_example_project", "run_quickstart"]
