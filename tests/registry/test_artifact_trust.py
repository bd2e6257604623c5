"""Artifacts you can trust, on a governed credit project: registration records the artifact's
SHA-256 in the version's tags and in the audit chain; a tampered artifact is refused by the
serving loader, by ``cairn train --reproduce`` and by ``cairn models verify`` with one line
naming the version and both hashes; versions registered before digests were kept load with
a warning."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cairn.app.model_loader import RegistryModelLoader
from cairn.cli.main import app as cli
from cairn.registry.artifact_trust import ArtifactTamperedError, recorded_sha256
from cairn.registry.models import ModelRegistry
from cairn.tracking.artifact_digest import ARTIFACT_SHA256_TAG, folder_sha256, local_folder
from tests.rollouts import _rollout
from tests.tracking._fixtures import mlflow_template

__all__ = ["mlflow_template"]

MODEL = _rollout.MODEL


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory, mlflow_template: Path) -> Path:
    """v1 trained and registered by Cairn (digest recorded); v2 and v3 registered on the
    same artifact directly in MLflow (no digest: as before this change)."""
    return _rollout.build(tmp_path_factory.mktemp("trust") / "credit", mlflow_template, 11)


@pytest.fixture
def registry(root: Path) -> ModelRegistry:
    return _rollout.open_registry(root)


def artifact_folder(registry: ModelRegistry, version: str) -> Path:
    uri = registry.tracker.client.get_model_version_download_uri(MODEL, version)
    folder = local_folder(str(uri))
    assert folder is not None
    return folder


@pytest.fixture
def tampered(registry: ModelRegistry) -> Iterator[tuple[str, str]]:
    """v1's booster file changed on disk (one byte appended); restored afterwards. Yields the
    recorded digest and the tampered one."""
    (target,) = artifact_folder(registry, "1").glob("*.lgb")
    original = target.read_bytes()
    recorded = recorded_sha256(registry.audit, MODEL, "1")
    assert recorded is not None
    target.write_bytes(original + b"\n")
    try:
        yield recorded, folder_sha256(artifact_folder(registry, "1"))
    finally:
        target.write_bytes(original)


def refusal(actual: str, recorded: str) -> str:
    return (
        f"{MODEL}/1: the artifact's SHA-256 is {actual} but the audit log recorded {recorded} "
        "at registration; refusing to load it (tampered or replaced)."
    )


def verify(root: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["models", "verify", *args, "--repo", str(root)])
    return result.exit_code, result.stdout, result.stderr


def test_registration_records_the_digest_in_the_tag_and_the_chain(
    registry: ModelRegistry,
) -> None:
    digest = folder_sha256(artifact_folder(registry, "1"))
    assert registry.version(MODEL, "1").tags[ARTIFACT_SHA256_TAG] == digest
    (entry,) = registry.audit.entries(subject=f"{MODEL}/1", action="model.registered")
    assert entry.details["artifact_sha256"] == digest
    assert len(digest) == 64
    model = RegistryModelLoader(registry.tracker, registry).load(f"{MODEL}@champion", "1")
    assert model.version == "1"


def test_the_chain_not_the_tag_decides(registry: ModelRegistry) -> None:
    """Editing the tag in MLflow changes nothing: the loader compares with the chain."""
    mlflow = registry.mlflow
    real = registry.version(MODEL, "1").tags[ARTIFACT_SHA256_TAG]
    mlflow.set_version_tag(MODEL, "1", ARTIFACT_SHA256_TAG, "0" * 64)
    try:
        model = RegistryModelLoader(registry.tracker, registry).load(f"{MODEL}@champion", "1")
        assert model.version == "1"
    finally:
        mlflow.set_version_tag(MODEL, "1", ARTIFACT_SHA256_TAG, real)


def test_a_version_without_a_recorded_digest_loads_with_a_warning(
    registry: ModelRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="cairn.registry.artifact_trust"):
        model = RegistryModelLoader(registry.tracker, registry).load(f"{MODEL}@challenger", "2")
    assert model.version == "2"
    assert f"{MODEL}/2: no artifact SHA-256 was recorded at registration" in caplog.text


def test_the_loader_refuses_a_tampered_artifact_with_one_line(
    registry: ModelRegistry, tampered: tuple[str, str]
) -> None:
    recorded, actual = tampered
    assert actual != recorded
    loader = RegistryModelLoader(registry.tracker, registry)
    with pytest.raises(ArtifactTamperedError) as caught:
        loader.load(f"{MODEL}@champion", "1")
    assert str(caught.value) == refusal(actual, recorded)
    assert "\n" not in str(caught.value)


def test_models_verify_exits_1_naming_the_tampered_version(
    root: Path, tampered: tuple[str, str]
) -> None:
    recorded, actual = tampered
    code, _, err = verify(root, MODEL)
    assert code == 1, err
    assert f"{MODEL}/1: the artifact's SHA-256 is {actual}" in " ".join(err.split())
    assert recorded in "".join(err.split())
    code, _, err = verify(root, MODEL, "1")
    assert code == 1, err


def test_models_verify_passes_on_intact_artifacts_and_lists_the_unverifiable(root: Path) -> None:
    code, out, err = verify(root, MODEL)
    assert code == 0, err
    assert f"{MODEL}/1: the artifact's SHA-256" in " ".join(out.split())
    flat = " ".join(err.split())
    assert f"{MODEL}/2: no artifact SHA-256 was recorded" in flat
    assert f"{MODEL}/3: no artifact SHA-256 was recorded" in flat
    code, out, _ = verify(root, MODEL, "1", "--json")
    assert code == 0
    assert '"status": "ok"' in out


@pytest.mark.parametrize("args", [("no-such-model",), (MODEL, "99")])
def test_models_verify_exits_2_on_bad_input(root: Path, args: tuple[str, ...]) -> None:
    code, _, err = verify(root, *args)
    assert code == 2, err
    assert "error:" in err


def test_train_reproduce_refuses_a_tampered_artifact(
    root: Path, registry: ModelRegistry, tampered: tuple[str, str]
) -> None:
    recorded, actual = tampered
    run_id = registry.version(MODEL, "1").run_id
    assert run_id is not None
    result = CliRunner().invoke(cli, ["train", "--reproduce", run_id, "--repo", str(root)])
    assert result.exit_code == 1, result.output
    assert refusal(actual, recorded) in " ".join(result.stderr.split())
    assert not registry.tracker.find_runs({"cairn.reproduces": run_id})
