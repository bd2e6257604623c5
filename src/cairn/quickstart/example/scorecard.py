"""The example project's scorecard: the model spec and the deployment that serves it.

The quickstart's model-families step trains a points scorecard on the same ``train.yaml`` as
the LightGBM champion (only ``model:`` differs) and serves it as the deployment
``credit-scorecard``: the same decisions, labels, reason-code book and counterfactual rules as
``credit``, its own model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from cairn.core.deployments import DEPLOYMENTS_FILE
from cairn.core.errors import ConfigError
from cairn.training import ModelSpec

DEPLOYMENT = "credit-scorecard"
SCORECARD = ModelSpec(
    kind="scorecard",
    params={"pdo": 20, "odds": 50, "base_score": 600, "max_n_bins": 6, "neutral": "woe_zero"},
)
"""600 points at odds 50:1 (good:bad), 20 points to double the odds; each characteristic's
neutral is the points of a bin with weight of evidence 0 (the average applicant)."""


def scorecard_deployment(project_path: str | Path, model: str, *, like: str = "credit") -> Path:
    """Add (or replace) the deployment ``credit-scorecard`` serving ``model`` to the project's
    ``deployments.yaml``, copying every setting of deployment ``like`` except the model and the
    fallback (a scorecard needs no fallback: it scores missing values as its Missing bins).

    The file's text and comments are kept; the new block is appended under ``deployments:``.
    """
    path = Path(project_path) / DEPLOYMENTS_FILE
    text = path.read_text(encoding="utf-8")
    declared: dict[str, Any] = (yaml.safe_load(text) or {}).get("deployments") or {}
    if like not in declared:
        raise ConfigError(
            f"{path}: the scorecard deployment copies deployment {like!r}, which is not declared "
            f"(declared: {', '.join(declared) or 'none'})."
        )
    if DEPLOYMENT in declared:  # written by an earlier run: start from the file without it
        text = _without(text, DEPLOYMENT)
    spec = {k: v for k, v in declared[like].items() if k != "fallback"}
    spec["model"] = model
    block = yaml.safe_dump({DEPLOYMENT: spec}, sort_keys=False, default_flow_style=None)
    indented = "".join(f"  {line}\n" for line in block.splitlines())
    heading = "  # The points scorecard: same decisions and rules as credit, its own model.\n"
    path.write_text(text.rstrip("\n") + "\n" + heading + indented, encoding="utf-8")
    return path


def _without(text: str, name: str) -> str:
    """``text`` minus the top-level deployment block ``name`` (two-space indented keys)."""
    out: list[str] = []
    skipping = False
    for line in text.splitlines():
        if line.startswith(f"  {name}:"):
            skipping = True
            if out and out[-1].lstrip().startswith("# The points scorecard"):
                out.pop()
            continue
        if skipping and (line.startswith("    ") or not line.strip()):
            continue
        skipping = False
        out.append(line)
    return "\n".join(out) + "\n"
