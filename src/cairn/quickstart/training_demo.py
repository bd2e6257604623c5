"""The training half of the quickstart: a champion and a challenger, reviewed and promoted.

On the example credit project: write ``train.yaml``, train a LightGBM champion and a
scikit-learn challenger on the same training set, have a second person (``risk-officer``)
approve the champion, promote it, point ``challenger`` at the other version, and build the
champion's lineage (the parts come from :class:`cairn.app.Project`).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from cairn.app.identity import current_user
from cairn.app.project import Project
from cairn.quickstart._steps import Steps
from cairn.quickstart.example.training import CONFIG_FILE as CONFIG_FILE
from cairn.quickstart.example.training import ENTITIES as ENTITIES
from cairn.quickstart.example.training import EXAMPLE_CONFIG as EXAMPLE_CONFIG
from cairn.quickstart.example.training import MODEL_NAME as MODEL_NAME
from cairn.quickstart.example.training import write_example_config as write_example_config
from cairn.registry.approvals import Approval
from cairn.registry.lineage import Lineage, build_lineage
from cairn.registry.promotion import Promotion
from cairn.training import ModelSpec, TrainConfig, TrainingResult, build_training_set, train

REVIEWER = "risk-officer"
TICKET = "MRR-2026-0001"

GIT_EMAIL = "quickstart@cairn.invalid"
"""Author of the demo's own git repository (the only repository it ever commits to)."""

CHALLENGER = ModelSpec(
    kind="sklearn",
    estimator="sklearn.ensemble.HistGradientBoostingClassifier",
    params={"max_iter": 150, "learning_rate": 0.05, "max_leaf_nodes": 15},
    threads=1,
)


@dataclass
class TrainingDemo:
    """What the training demo did."""

    path: Path
    config_path: Path
    author: str
    reviewer: str
    champion: TrainingResult
    challenger: TrainingResult
    approval: Approval
    promotion: Promotion
    challenger_promotion: Promotion
    lineage: Lineage
    steps: list[tuple[str, float]] = field(default_factory=list)


def run_training_demo(
    project_path: Path, *, on_step: Callable[[str], None] | None = None, commit: bool = True
) -> TrainingDemo:
    """Train, review, promote and trace on an example project folder (applied if needed).

    With ``commit`` (default), a folder that is not inside any git work tree is made a git
    repository with one commit of the project files, so the lineage shows a code commit; a
    folder inside an existing repository is never touched.
    """
    steps: list[tuple[str, float]] = []

    step = Steps(on_step, steps)

    project = Project.open(project_path)
    store = project.features
    if not store.applied_views():
        store.apply(project.definitions())
    config_path = write_example_config(project_path)
    if commit:
        commit_project(store.root)
    config = TrainConfig.from_yaml(config_path)
    tracker, registry = project.tracker, project.registry
    audit = registry.audit
    author = current_user()
    reviewer = REVIEWER if author.casefold() != REVIEWER else f"{REVIEWER}-2"

    with step("train: LightGBM (champion candidate)"):
        data = build_training_set(config, store)
        champion = train(config, store, tracker, author=author, audit=audit, training_set=data)
    with step("train: HistGradientBoosting (challenger)"):
        rival = replace(config, model=CHALLENGER, tags={**config.tags, "cairn.role": "challenger"})
        challenger = train(rival, store, tracker, author=author, audit=audit, training_set=data)
    assert champion.version is not None and challenger.version is not None
    with step(f"approve as {reviewer} and promote"):
        approval = registry.approve(
            config.model_name,
            champion.version,
            reviewer=reviewer,
            ticket=TICKET,
            decision="approve",
            note="Quickstart review: validation AUC, KS and the training data lineage checked.",
        )
        promotion = registry.promote(
            config.model_name, champion.version, actor=author, reason=f"{TICKET}: approved"
        )
        challenger_promotion = registry.promote(
            config.model_name,
            challenger.version,
            alias="challenger",
            actor=author,
            reason="quickstart: scikit-learn challenger for comparison",
        )
    with step("lineage: champion"):
        lineage = build_lineage(registry, f"{config.model_name}@champion")
    return TrainingDemo(
        path=store.root,
        config_path=config_path,
        author=author,
        reviewer=reviewer,
        champion=champion,
        challenger=challenger,
        approval=approval,
        promotion=promotion,
        challenger_promotion=challenger_promotion,
        lineage=lineage,
        steps=steps,
    )


def commit_project(path: Path) -> str | None:
    """Commit ``path``'s files to a new git repository unless it is already in a work tree (or
    git is missing, or nothing changed); returns the new commit's SHA, if one was made."""
    git = shutil.which("git")
    if git is None:
        return None

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [git, "-C", str(path), *args], capture_output=True, text=True, timeout=30, check=False
        )

    if run("rev-parse", "--is-inside-work-tree").returncode == 0:
        first = run("log", "--max-parents=0", "--format=%ae", "-1").stdout.strip()
        if not (path / ".git").exists() or first != GIT_EMAIL:
            return None  # a repository the demo did not make: leave it alone
    elif run("init", "-q").returncode != 0:
        return None
    run("add", "-A")
    if not run("status", "--porcelain").stdout.strip():
        return None
    identity = ["-c", "user.name=Cairn quickstart", "-c", f"user.email={GIT_EMAIL}"]
    made = run(*identity, "commit", "-q", "-m", "Example credit project (cairn quickstart)")
    if made.returncode != 0:
        return None
    return run("rev-parse", "HEAD").stdout.strip() or None
