"""Every module moved in 0.2 still imports from its old path, as the very same module."""

from __future__ import annotations

import importlib

import pytest

from cairn._compat import MOVED, new_name


@pytest.mark.parametrize(("old", "new"), sorted(MOVED.items()))
def test_an_old_path_is_the_new_module(old: str, new: str) -> None:
    assert importlib.import_module(old) is importlib.import_module(new)


def test_old_names_stay_importable() -> None:
    from cairn.app.canary_controller import CanaryController
    from cairn.app.example import create_example_project
    from cairn.app.experiment_demo import run_experiment_demo
    from cairn.app.monitoring import ProjectMonitoring
    from cairn.app.predictions import connect, query
    from cairn.app.rollout import RolloutService
    from cairn.app.serving_demo import ServingDemo
    from cairn.quality.demo import run_quality_demo, write_example_suites
    from cairn.serving.deployments import Deployment, load_deployments
    from cairn.serving.routing.spec import Arm

    from cairn.explain import write_example_reason_codes
    from cairn.rollouts import CanaryController as NewController
    from cairn.serving.routing import CanaryGate, RolloutSpec, RolloutStore

    assert CanaryController is NewController
    assert all(
        callable(x)
        for x in (
            create_example_project, run_experiment_demo, ProjectMonitoring, connect, query,
            RolloutService, ServingDemo, write_example_reason_codes, run_quality_demo,
            write_example_suites, Deployment, load_deployments, CanaryGate, RolloutSpec,
            RolloutStore, Arm,
        )
    )  # fmt: skip


def test_submodules_of_a_moved_package_follow_it() -> None:
    assert new_name("cairn.app.example._templates") == "cairn.quickstart.example._templates"
    module = importlib.import_module("cairn.app.example._templates")
    assert module is importlib.import_module("cairn.quickstart.example._templates")
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("cairn.app.no_such_module")
