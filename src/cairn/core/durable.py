"""Durable file-system steps shared by every writer that must survive a power loss."""

from __future__ import annotations

import os
from pathlib import Path


def fsync_dir(directory: Path) -> None:
    """``fsync`` a directory, so the names just created or renamed in it survive a power loss.

    Example
    -------
    >>> import tempfile
    >>> fsync_dir(Path(tempfile.mkdtemp()))
    """
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
