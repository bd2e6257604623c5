"""The artifact digest: deterministic over a folder's relative paths and bytes, blind to where
the folder lives and to MLflow's download-time ``registered_model_meta``."""

from __future__ import annotations

import hashlib
from pathlib import Path

from cairn.tracking.artifact_digest import folder_sha256, local_folder


def write(folder: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


FILES = {"MLmodel": b"flavors: {}\n", "model.lgb": b"tree\n" * 1000, "sub/x.json": b"{}"}


def test_same_files_same_digest_wherever_and_in_whatever_order(tmp_path: Path) -> None:
    a = write(tmp_path / "a", FILES)
    b = write(tmp_path / "elsewhere" / "b", dict(reversed(list(FILES.items()))))
    assert folder_sha256(a) == folder_sha256(b)


def test_the_digest_is_the_documented_construction(tmp_path: Path) -> None:
    folder = write(tmp_path / "m", FILES)
    expected = hashlib.sha256()
    for name in sorted(FILES):
        expected.update(name.encode() + b"\0" + len(FILES[name]).to_bytes(8, "big"))
        expected.update(FILES[name])
    assert folder_sha256(folder) == expected.hexdigest()


def test_content_names_and_extra_files_change_it(tmp_path: Path) -> None:
    base = folder_sha256(write(tmp_path / "base", FILES))
    changed = write(tmp_path / "changed", {**FILES, "model.lgb": b"tree\n" * 999 + b"tree!"})
    renamed = write(tmp_path / "renamed", {**FILES, "sub/y.json": FILES["sub/x.json"]})
    (renamed / "sub" / "x.json").unlink()
    extra = write(tmp_path / "extra", {**FILES, "payload.py": b"import os"})
    assert len({base, *(folder_sha256(f) for f in (changed, renamed, extra))}) == 4


def test_mlflows_download_metadata_is_left_out(tmp_path: Path) -> None:
    stored = write(tmp_path / "stored", FILES)
    downloaded = write(tmp_path / "downloaded", {**FILES, "registered_model_meta": b"v: 3"})
    assert folder_sha256(stored) == folder_sha256(downloaded)


def test_local_folder(tmp_path: Path) -> None:
    assert local_folder(tmp_path.as_uri()) == tmp_path
    assert local_folder(str(tmp_path)) == tmp_path
    assert local_folder((tmp_path / "missing").as_uri()) is None
    assert local_folder("mlflow-artifacts:/1/models/m-1/artifacts") is None
