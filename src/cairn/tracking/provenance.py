"""Where a model came from besides its data: the code commit and the package versions.

Example
-------
>>> import tempfile
>>> code_commit(tempfile.gettempdir()) is None  # not a git repository
True
>>> sorted(package_versions(["numpy", "no-such-package"]))
['no-such-package', 'numpy']
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

TRACKED_PACKAGES = (
    "cairn",
    "lightgbm",
    "scikit-learn",
    "numpy",
    "pandas",
    "pyarrow",
    "duckdb",
    "mlflow",
)
"""Packages whose versions every training run records."""

_GIT_TIMEOUT_S = 10


@dataclass(frozen=True)
class CodeCommit:
    """The git commit a project folder is at; ``dirty`` when it has uncommitted changes."""

    sha: str
    dirty: bool
    changed: tuple[str, ...] = ()
    """Up to 50 paths from ``git status --porcelain`` (what makes it dirty)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"sha": self.sha, "dirty": self.dirty, "changed": list(self.changed)}


def code_commit(path: str | Path) -> CodeCommit | None:
    """``git rev-parse HEAD`` and ``git status --porcelain`` of the folder ``path``.

    Only changes inside ``path`` make it dirty (the project may live in a larger repository).
    None when ``path`` is not in a git work tree, git is missing, or the repository has no
    commit yet.
    """
    git = shutil.which("git")
    folder = Path(path).resolve()
    if git is None or not folder.is_dir():
        return None
    head = _git(git, folder, "rev-parse", "--verify", "HEAD")
    if head is None:
        return None
    status = _git(git, folder, "status", "--porcelain", "--untracked-files=normal", "--", ".")
    changed = tuple(line[3:] for line in (status or "").splitlines() if line.strip())
    return CodeCommit(sha=head.strip(), dirty=bool(changed), changed=changed[:50])


def _git(git: str, cwd: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            [git, *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=_GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def package_versions(names: Iterable[str] = TRACKED_PACKAGES) -> dict[str, str]:
    """Installed version of each package; ``"not installed"`` for a missing one."""
    out: dict[str, str] = {}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out
