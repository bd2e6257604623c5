"""Old import paths of moved modules keep working: each resolves to the module that replaced it.

:data:`MOVED` maps an old module (or package) name to its new home. ``import cairn`` installs
:class:`MovedModuleFinder` first on ``sys.meta_path``, so ``import cairn.app.rollout`` (or
``from cairn.app.rollout import RolloutService``) returns the very module object
``cairn.rollouts.service`` — same classes, same state — and no file stays behind at the old
path. Submodules of a moved package follow it (``cairn.app.example.project`` ->
``cairn.quickstart.example.project``). The aliases are removed in 0.3.

Example
-------
>>> import cairn.app.rollout as old, cairn.rollouts.service as new
>>> old is new
True
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

MOVED: dict[str, str] = {
    "cairn.app.canary_controller": "cairn.rollouts.controller",
    "cairn.app.example": "cairn.quickstart.example",
    "cairn.app.experiment_demo": "cairn.quickstart.experiment_demo",
    "cairn.app.monitoring": "cairn.monitoring.service",
    "cairn.app.monitoring_demo": "cairn.quickstart.monitoring_demo",
    "cairn.app.predictions": "cairn.serving.log_reader",
    "cairn.app.quickstart": "cairn.quickstart.run",
    "cairn.app.rollout": "cairn.rollouts.service",
    "cairn.app.rollout_demo": "cairn.quickstart.rollout_demo",
    "cairn.app.rollout_requests": "cairn.rollouts.requests",
    "cairn.app.serving_demo": "cairn.quickstart.serving_demo",
    "cairn.app.training_demo": "cairn.quickstart.training_demo",
    "cairn.explain.example": "cairn.quickstart.example.reason_codes",
    "cairn.quality.demo": "cairn.quickstart.quality_demo",
    "cairn.serving.deployments": "cairn.core.deployments",
    "cairn.serving.routing.spec": "cairn.rollouts.spec",
    "cairn.serving.routing.store": "cairn.rollouts.store",
}
"""Old module -> the module that replaced it (0.1 -> 0.2)."""


def new_name(old: str) -> str | None:
    """The module that replaced ``old`` (or the package it sat in), None if it did not move.

    Example
    -------
    >>> new_name("cairn.app.example.project"), new_name("cairn.app.server")
    ('cairn.quickstart.example.project', None)
    """
    if old in MOVED:
        return MOVED[old]
    head = old.rpartition(".")[0]
    while head:
        if head in MOVED:
            return f"{MOVED[head]}.{old[len(head) + 1 :]}"
        head = head.rpartition(".")[0]
    return None


class _AliasLoader:
    # A loader by protocol (create_module/exec_module): importlib.abc costs 25 ms to import.
    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return importlib.import_module(self.target)

    def exec_module(self, module: ModuleType) -> None:
        """The target module ran when it was imported: nothing left to do."""


class MovedModuleFinder:
    """Finds old module names of :data:`MOVED` and loads their new modules under them."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith("cairn."):
            return None
        new = new_name(fullname)
        if new is None:
            return None
        return importlib.util.spec_from_loader(fullname, _AliasLoader(new))  # type: ignore[arg-type]


def legacy(module: str, name: str) -> Any:
    """``module.name``, loaded when a deprecated 0.1 entry point is called (such entry points
    live in lower packages than what they now delegate to, so they must not import it).

    Example
    -------
    >>> legacy("cairn.app.project", "Project").__name__
    'Project'
    """
    return getattr(importlib.import_module(module), name)


def install() -> None:
    """Put the finder first on ``sys.meta_path`` (once)."""
    if not any(isinstance(f, MovedModuleFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, MovedModuleFinder())
