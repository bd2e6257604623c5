"""YAML loading that remembers where each item of a list came from (for error messages)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from cairn.quality.errors import SuiteError


def load_with_lines(text: str, *, origin: str, list_key: str) -> tuple[Any, list[int]]:
    """Parse ``text``; also return the 1-based line of each item of the top-level ``list_key``.

    Example
    -------
    >>> data, lines = load_with_lines("name: s\\nexpectations:\\n  - a\\n  - b\\n",
    ...                               origin="s.yaml", list_key="expectations")
    >>> data["expectations"], lines
    (['a', 'b'], [3, 4])
    """
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        raise SuiteError(f"{origin} is not valid YAML: {exc}") from None
    finally:
        loader.dispose()
    lines: list[int] = []
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == list_key:
                if isinstance(value, yaml.SequenceNode):
                    lines = [item.start_mark.line + 1 for item in value.value]
    return data, lines


def read_text(path: Path) -> str:
    """The text of a suite file, or a SuiteError naming the path."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SuiteError(f"No suite file at {path}.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SuiteError(f"Cannot read the suite file {path}: {exc}") from None


def dump_suite(data: dict[str, Any]) -> str:
    """A suite's plain data (``Suite.to_dict()``) as YAML, checks in the short form
    ``- expect_…: {arguments, severity, layer}``."""
    out: dict[str, Any] = {"name": data["name"]}
    for key in ("description", "source", "actions", "references"):
        if data.get(key):
            out[key] = data[key]
    if data.get("sample_rows", 20) != 20:
        out["sample_rows"] = data["sample_rows"]
    out["expectations"] = [
        {
            c["type"]: {
                **c["kwargs"],
                **{k: c[k] for k in ("severity", "layer", "meta") if c.get(k) is not None},
            }
        }
        for c in data["expectations"]
    ]
    text: str = yaml.safe_dump(
        out, sort_keys=False, default_flow_style=None, width=100, allow_unicode=True
    )
    return text
