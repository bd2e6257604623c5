"""A project folder's Python definitions: ``features.py`` loaded as a module."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

from cairn.core.errors import DefinitionError
from cairn.features import Entity, FeatureView, FileSource

FEATURES_FILE = "features.py"


def load_definitions(repo_path: str | Path, file: str = FEATURES_FILE) -> list[Any]:
    """Every Entity, FileSource and FeatureView defined at module level in ``file``.

    Example
    -------
    >>> import tempfile, pathlib
    >>> repo = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (repo / "features.py").write_text(
    ...     "from cairn import Entity\\ncustomer = Entity(name='customer')\\n")
    >>> [type(d).__name__ for d in load_definitions(repo)]
    ['Entity']
    """
    path = Path(repo_path) / file
    if not path.is_file():
        raise DefinitionError(
            f"No {file} in {Path(repo_path).resolve()}: expected a Python file defining "
            f"Entity, FileSource and FeatureView objects (see `cairn init`)."
        )
    name = "cairn_project_" + hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except DefinitionError as exc:
        raise DefinitionError(f"{path}: {exc}") from None
    except Exception as exc:  # the user's file: report where it broke, as one line
        raise DefinitionError(f"{path} failed to import: {type(exc).__name__}: {exc}") from exc
    finally:
        sys.modules.pop(name, None)
    found = [v for v in vars(module).values() if isinstance(v, (Entity, FileSource, FeatureView))]
    if not found:
        raise DefinitionError(
            f"{path} defines no Entity, FileSource or FeatureView at module level."
        )
    return found
