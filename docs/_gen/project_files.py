"""The project files page: every key of every YAML file of a project, generated.

``cairn.yaml`` comes from :func:`cairn.core.config.settings_reference` (the typed settings), the
other files from :func:`cairn.app.project_files.schemas` (the JSON Schemas of the models that
parse them; ``cairn config schema FILE-KIND`` prints the same documents).
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

from _md import cell, code, literal, prose, table
from _schema import MAX_DEPTH, fields

INTRO = """\
# Project files

A project is a folder. `cairn init DIR` writes every file below with comments; each is valid as
written, and `cairn config check` validates them all (one line per problem).
`cairn config schema FILE-KIND` prints a file's JSON Schema, the same one this page is
generated from.

| file | what it holds |
|---|---|
| `cairn.yaml` | the project's name and settings (stores, monitoring, serving) |
| `features.py` | entities, sources and feature views (Python; `cairn apply` records them) |
| `train.yaml` | what to train on, how, and under which model name (`cairn train --config`) |
| `deployments.yaml` | what `cairn serve` scores: model, threshold, decisions, label, explanations, counterfactuals |
| `reason_codes.yaml` | the texts of reason codes per feature and direction |
| `experiments.yaml` | experiment metrics and the label completeness needed for a verdict |
| `retraining.yaml` | retraining policies: schedule, triggers, cooldown, budget, gates, promotion |
| `quality/*.yaml` | data quality suites (`cairn quality validate SUITE DATA`) |

"""

SETTINGS = """\
## `cairn.yaml`

`project: NAME` alone is complete; every other key has a default. Any key can be overridden by
an environment variable `CAIRN_<SECTION>__<KEY>` (precedence: environment > `cairn.yaml` >
default). A bad value fails with one line naming the key, what is allowed and what was given.

"""


def _settings_rows() -> list[list[str]]:
    from cairn.core.config import settings_reference

    rows = []
    for row in settings_reference():
        env = code(row["env"]) if row["env"] else "–"
        if row.get("aliases"):
            env += " (or " + ", ".join(code(a) for a in row["aliases"]) + ")"
        default = row["default"]
        required = default is None and "(required)" in str(row["description"])
        shown = "required" if required else "unset" if default is None else code(default)
        if row.get("secret"):
            shown = "unset"
        key = code(row["key"]) if row["key"] else "(process)"
        rows.append([key, env, shown, cell(row["expected"]), cell(row["description"])])
    return rows


FEATURES = """\
## `features.py`

Python, so definitions can be shared and tested; `cairn apply` imports it, checks every
definition against the data and records it with a version and a hash. Names follow Feast.

"""

QUALITY = """\
### Expectations

A check is `- EXPECTATION: {ARGUMENTS}`, or Great Expectations' long form
`- type: EXPECTATION` with `kwargs:`; any check may also set `severity` (critical, high,
medium, low) and `layer`. Severities map to actions: critical and high halt, medium warns, low
logs (a suite's `actions` changes that). The expectations and their arguments:

"""


def _parameters(doc: str) -> dict[str, str]:
    """The numpydoc ``Parameters`` section of a docstring: name -> description."""
    match = re.search(r"Parameters\n\s*-+\n(.*?)(?:\n\s*\n\s*[A-Z][a-z]+\n\s*-+\n|\Z)", doc, re.S)
    if not match:
        return {}
    out: dict[str, str] = {}
    name = ""
    for line in textwrap.dedent(match[1]).splitlines():
        if line and not line[0].isspace():
            name = line.split(":")[0].strip()
            out[name] = ""
        elif name:
            out[name] = f"{out[name]} {line.strip()}".strip()
    return out


def _features_section() -> str:
    import dataclasses
    import inspect

    from cairn import Aggregation, Entity, FeatureView, Field, FileSource, PushSource

    parts = [FEATURES]
    for cls in (Entity, Field, FileSource, PushSource, FeatureView, Aggregation):
        doc = inspect.getdoc(cls) or ""
        described = _parameters(doc)
        parts.append(f"### `{cls.__name__}`\n\n{prose(doc.split(chr(10) * 2)[0])}\n\n")
        rows = []
        for f in dataclasses.fields(cls):
            if not f.init:
                continue
            if f.default is not dataclasses.MISSING:
                default = "–" if f.default in (None, "", ()) else literal(f.default)
            elif f.default_factory is not dataclasses.MISSING:
                default = "–"
            else:
                default = "required"
            rows.append([code(f.name), code(f.type), default, cell(described.get(f.name, ""))])
        parts.append(table(["argument", "type", "default", "what"], rows) + "\n")
    return "".join(parts)


def _quality_section() -> str:
    from cairn.quality.expectations import get_expectation
    from cairn.quality.expectations.registry import expectation_names
    from cairn.quality.severity import DEFAULT_SEVERITY

    rows = []
    for name in expectation_names():
        e = get_expectation(name)
        params = ", ".join(f"`{p.name}`" if p.required else f"`{p.name}`?" for p in e.params)
        what = (type(e).__doc__ or "").strip().split("\n\n")[0]
        rows.append(
            [code(name), e.layer.value, DEFAULT_SEVERITY[e.layer].value, params, cell(what)]
        )
    header = ["expectation", "layer", "default severity", "arguments (? optional)", "what"]
    return QUALITY + table(header, rows) + "\n"


def _file_section(
    pattern: str, summary: str, schema: dict[str, Any], *, max_depth: int = MAX_DEPTH
) -> str:
    described = " ".join(str(schema.get("description") or summary).split())
    parts = [f"## `{pattern}`\n", f"{prose(described)}\n"]
    rows = fields(schema, schema, max_depth=max_depth)
    if rows:
        parts.append(table(["key", "type", "required", "what"], rows))
    return "\n".join(parts) + "\n"


def render() -> tuple[str, list[str]]:
    """The page, and warnings (a missing schema source fails a ``--strict`` build)."""
    warnings: list[str] = []
    parts = [INTRO, SETTINGS]
    parts.append(table(["key", "environment", "default", "allowed", "what"], _settings_rows()))
    parts.append("\n")
    try:
        from cairn.app.project_files import FILE_KINDS, schemas
    except ImportError as exc:
        warnings.append(
            f"cairn.app.project_files is not available ({exc}); the YAML files other than "
            "cairn.yaml are missing from the project files page."
        )
        return "".join([*parts, _features_section(), _quality_section()]), warnings
    documents = schemas()
    for kind, file_kind in FILE_KINDS.items():
        if kind == "cairn":
            continue  # documented above from the settings reference (with the environment)
        if kind == "quality":
            parts.append(_features_section())
            # each check's arguments: the expectations table below, not the schema's variants
            schema = documents[kind]
            parts.append(_file_section(file_kind.pattern, file_kind.summary, schema, max_depth=0))
            parts.append(_quality_section())
            continue
        parts.append(_file_section(file_kind.pattern, file_kind.summary, documents[kind]))
    missing = sorted(set(documents) - set(FILE_KINDS))
    if missing:
        warnings.append(f"schemas() has kinds the page does not know: {', '.join(missing)}.")
    return "".join(parts), warnings
