"""The folder a template is written to: new, or empty unless forced."""

from __future__ import annotations

from pathlib import Path

from cairn.core.errors import ConfigError


def prepare_folder(root: Path, force: bool, what: str = "the example project") -> Path:
    """Create ``root`` or check that it is an empty folder (any folder with ``force``); the
    resolved path.

    Example
    -------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp()) / "new"
    >>> prepare_folder(folder, force=False).is_dir()
    True
    """
    if root.exists() and not root.is_dir():
        raise ConfigError(
            f"Cannot create {what} in {root}: it is a file, not a folder. Choose a new or "
            f"empty folder."
        )
    if root.is_dir() and not force:
        entries = sorted(e.name for e in root.iterdir())
        if entries:
            shown = ", ".join(entries[:5]) + (", ..." if len(entries) > 5 else "")
            raise ConfigError(
                f"Cannot create {what} in {root}: the folder is not empty (it holds {shown}). "
                f"Choose a new or empty folder, or pass force=True (--force) to overwrite "
                f"{what}'s files there."
            )
    root.mkdir(parents=True, exist_ok=True)
    return root.resolve()
