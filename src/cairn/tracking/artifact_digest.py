"""The SHA-256 of a model artifact: one digest over every file of its folder.

The digest covers each file's path relative to the folder (POSIX form) and its bytes, in
sorted path order, so it does not depend on where the folder lives, on the file system's
listing order or on timestamps. MLflow's ``registered_model_meta`` (which its client writes
into a ``models:/`` download, naming the version) is not part of the stored artifact and is
left out. Registration records it (tag :data:`ARTIFACT_SHA256_TAG` and
the ``model.registered`` audit entry); loaders recompute it before loading the folder.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

if TYPE_CHECKING:
    from cairn.tracking.tracker import Tracker

ARTIFACT_SHA256_TAG = "cairn.artifact_sha256"
"""Version tag: the artifact's SHA-256 at registration (informative: the audit chain rules)."""

_CHUNK = 1 << 20
_GENERATED = frozenset({"registered_model_meta"})
"""Files MLflow's client writes into a download (not stored with the artifact)."""


def folder_sha256(folder: Path) -> str:
    """The hex SHA-256 of every file under ``folder`` (relative path and bytes, sorted).

    Each file contributes its relative path, a NUL, its size as 8 bytes, then its bytes;
    a single file (not a folder) is hashed the same way under its own name. MLflow's
    download-time ``registered_model_meta`` at the top of the folder is skipped.

    Example
    -------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "model.txt").write_text("tree")
    >>> a = folder_sha256(d)
    >>> _ = (d / "model.txt").write_text("tree!")
    >>> len(a), a == folder_sha256(d)
    (64, False)
    """
    if folder.is_file():
        files, base = [folder], folder.parent
    else:
        files = [p for p in folder.rglob("*") if p.is_file()]
        files = [p for p in files if p.relative_to(folder).as_posix() not in _GENERATED]
        base = folder
    digest = hashlib.sha256()
    for path in sorted(files, key=lambda p: p.relative_to(base).as_posix()):
        digest.update(path.relative_to(base).as_posix().encode("utf-8") + b"\0")
        digest.update(path.stat().st_size.to_bytes(8, "big"))
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
    return digest.hexdigest()


def local_folder(uri: str) -> Path | None:
    """The local folder a ``file:`` URI (or a plain path) names, when it exists.

    Example
    -------
    >>> local_folder("s3://bucket/model") is None
    True
    >>> local_folder("file:///") == Path("/")
    True
    """
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        path = Path(unquote(parsed.path))
    elif parsed.scheme == "" or (len(parsed.scheme) == 1 and uri[1:3] in (":\\", ":/")):
        path = Path(uri)
    else:
        return None
    return path if path.exists() else None


def version_sha256(tracker: Tracker, name: str, version: str) -> str:
    """The SHA-256 of version ``version`` of ``name``'s artifact, as stored now.

    A local artifact store is hashed in place; any other is downloaded once to a temporary
    folder.
    """
    where = str(
        tracker.call(
            f"locate the artifact of {name}/{version}",
            tracker.client.get_model_version_download_uri,
            name,
            version,
        )
    )
    local = local_folder(where)
    if local is not None:
        return folder_sha256(local)
    with tempfile.TemporaryDirectory() as tmp, tracker.session() as mlflow:
        folder = mlflow.artifacts.download_artifacts(
            artifact_uri=where, dst_path=tmp, tracking_uri=tracker.uri
        )
        return folder_sha256(Path(folder))
