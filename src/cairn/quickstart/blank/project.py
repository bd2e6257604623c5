"""Write a blank project: every project file, valid as written, each key explained."""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from cairn.quickstart._folder import prepare_folder
from cairn.quickstart.blank._templates import (
    CAIRN_YAML,
    DEPLOYMENTS_YAML,
    EXPERIMENTS_YAML,
    FEATURES_PY,
    GITIGNORE,
    README_MD,
    REASON_CODES_YAML,
    SUITE_FILE,
    SUITE_YAML,
    TRAIN_YAML,
)

_COMMENT_AT = 40
_WIDTH = 100


@dataclass(frozen=True)
class BlankProject:
    """What :func:`create_blank_project` wrote: the folder, the project's name and the files."""

    path: Path
    name: str
    files: tuple[Path, ...]


def create_blank_project(
    path: str | Path, *, name: str | None = None, force: bool = False
) -> BlankProject:
    """Write a blank project into ``path``: ``cairn.yaml``, a commented ``features.py`` for a
    CSV file the user adds (``data/customers.csv``), and commented ``train.yaml``,
    ``deployments.yaml``, ``reason_codes.yaml``, ``experiments.yaml`` and
    ``quality/customers.yaml``, each valid as written.

    Parameters
    ----------
    path:
        The project folder; created when missing. It must be empty unless ``force``.
    name:
        The project's name (default: the folder's name, as letters, digits, ``_`` and ``-``).
    force:
        Write into a non-empty folder, overwriting the template's own files (others are kept).

    Example
    -------
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> project = create_blank_project(f"{tmp.name}/my project")
    >>> project.name, sorted(p.name for p in project.files)[:4]
    ('my_project', ['.gitignore', 'README.md', 'cairn.yaml', 'customers.yaml'])
    >>> tmp.cleanup()
    """
    root = prepare_folder(Path(path).expanduser(), force, what="the blank project")
    project = name or project_name(root.name)
    texts = {
        "cairn.yaml": CAIRN_YAML.replace("<<project>>", project).replace(
            "<<settings>>", settings_comments()
        ),
        "features.py": FEATURES_PY,
        "train.yaml": TRAIN_YAML,
        "deployments.yaml": DEPLOYMENTS_YAML,
        "reason_codes.yaml": REASON_CODES_YAML,
        "experiments.yaml": EXPERIMENTS_YAML.replace("<<metrics>>", metric_comments()),
        SUITE_FILE: SUITE_YAML,
        "README.md": README_MD.replace("<<project>>", project),
        ".gitignore": GITIGNORE,
    }
    (root / "data").mkdir(exist_ok=True)
    written = []
    for rel, text in texts.items():
        file = root / rel
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text, encoding="utf-8")
        written.append(file)
    return BlankProject(root, project, tuple(written))


def project_name(folder: str) -> str:
    """A project name from a folder's name: letters, digits, ``_`` and ``-``.

    Example
    -------
    >>> project_name("my project"), project_name("2026 churn"), project_name("...")
    ('my_project', 'p_2026_churn', 'project')
    """
    name = re.sub(r"[^A-Za-z0-9_\-]+", "_", folder).strip("_-")
    if not name:
        return "project"
    return name if re.match(r"[A-Za-z_]", name) else f"p_{name}"


def settings_comments() -> str:
    """Every ``cairn.yaml`` section and key with its default and meaning, commented out (from
    the settings reference, so the comments follow the settings)."""
    from cairn.core.settings import settings_reference

    lines: list[str] = []
    section = ""
    for row in settings_reference():
        key = row["key"]
        if key is None or "." not in key:
            continue  # a process variable, or `project` (written above)
        head, _, name = key.partition(".")
        if head != section:
            lines += ["#", f"# {head}:"]
            section = head
        value = "" if row["secret"] or row["default"] is None else _scalar(row["default"])
        lines += _commented(f"#   {name}: {value}".rstrip(), row["description"])
    return "\n".join(lines)


def metric_comments() -> str:
    """The built-in metrics of the blank project's deployment, one commented line each."""
    from cairn.core.deployments import Decisions
    from cairn.experiments.metrics import builtin_metrics

    metrics = builtin_metrics(Decisions("contact", "skip", favorable="positive"))
    lines: list[str] = []
    for metric in metrics.values():
        lines += _commented(f"#   {metric.name}", metric.description)
    return "\n".join(lines)


def _commented(left: str, description: str) -> list[str]:
    width = max(_WIDTH - _COMMENT_AT - 2, 30)
    parts = textwrap.wrap(description, width) or [""]
    first = f"{left.ljust(_COMMENT_AT - 1)} # {parts[0]}"
    return [first, *(f"#{' ' * (_COMMENT_AT - 2)} # {p}" for p in parts[1:])]


def _scalar(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, width=1000).strip()
    return text.removesuffix("...").strip()
