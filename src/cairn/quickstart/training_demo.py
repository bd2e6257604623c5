"""The training half of the quickstart: a champion and a challenger, reviewed and promoted.

On the example credit project: write ``train.yaml``, train a LightGBM champion and a
scikit-learn challenger on the same training set, show the author's attempt to approve their
own version refused (and recorded in the audit chain), have a second person
(``risk-officer``) approve the champion, promote it, point ``challenger`` at the other version,
and build the champion's lineage (the parts come from :class:`cairn.app.Project`). Each
governance step acts with an API token (:mod:`cairn.quickstart._team`).
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
from cairn.quickstart._team import DemoTeam, demo_team
from cairn.quickstart.example.training import CONFIG_FILE as CONFIG_FILE
from cairn.quickstart.example.training import ENTITIES as ENTITIES
from cairn.quickstart.example.training import EXAMPLE_CONFIG as EXAMPLE_CONFIG
from cairn.quickstart.example.training import MODEL_NAME as MODEL_NAME
from cairn.quickstart.example.training import write_example_config as write_example_config
from cairn.registry.aliases import MOVED_ACTION
from cairn.registry.approvals import APPROVAL_ACTION, Approval
from cairn.registry.audit import AuditEntry
from cairn.registry.errors import GovernanceError
from cairn.registry.lineage import Lineage, build_lineage
from cairn.registry.models import ModelRegistry
from cairn.registry.promotion import PROMOTED_ACTION, Promotion
from cairn.registry.refusals import REFUSED_ACTION
from cairn.training import ModelSpec, TrainConfig, TrainingResult, build_training_set, train

REVIEWER = "risk-officer"
TICKET = "MRR-2026-0001"
GOVERNANCE_ACTIONS = (REFUSED_ACTION, APPROVAL_ACTION, MOVED_ACTION, PROMOTED_ACTION)

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
    team: DemoTeam | None = None
    refused: AuditEntry | None = None
    governance: list[AuditEntry] = field(default_factory=list)
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
    team = demo_team(project, current_user())
    author, reviewer, via = team.author.name, team.officer.name, team.author.via

    with step("train: LightGBM (champion candidate)"):
        data = build_training_set(config, store)
        champion = train(
            config, store, tracker, author=author, author_via=via, audit=audit, training_set=data
        )
    with step("train: HistGradientBoosting (challenger)"):
        rival = replace(config, model=CHALLENGER, tags={**config.tags, "cairn.role": "challenger"})
        challenger = train(
            rival, store, tracker, author=author, author_via=via, audit=audit, training_set=data
        )
    assert champion.version is not None and challenger.version is not None
    with step(f"approve as {reviewer} and promote"):
        refused = _self_approval(registry, config.model_name, champion.version, team)
        approval = registry.approve(
            config.model_name,
            champion.version,
            principal=team.officer,
            ticket=TICKET,
            decision="approve",
            note="Quickstart review: validation AUC, KS and the training data lineage checked.",
        )
        promotion = registry.promote(
            config.model_name,
            champion.version,
            principal=team.author,
            reason=f"{TICKET}: approved",
        )
        challenger_promotion = registry.promote(
            config.model_name,
            challenger.version,
            alias="challenger",
            principal=team.author,
            reason="quickstart: scikit-learn challenger for comparison",
        )
    first = refused.seq if refused is not None else 0
    governance = [e for e in audit.entries() if e.seq >= first and e.action in GOVERNANCE_ACTIONS]
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
        team=team,
        refused=refused,
        governance=governance,
        steps=steps,
    )


def _self_approval(
    registry: ModelRegistry, model: str, version: str, team: DemoTeam
) -> AuditEntry | None:
    """The author tries to approve their own version with their own token: refused (four
    eyes), and the refusal is an entry of the audit chain (returned)."""
    try:
        registry.approve(
            model,
            version,
            principal=team.author,
            ticket=TICKET,
            decision="approve",
            note="Quickstart: the author tries to approve their own model.",
        )
    except GovernanceError as exc:
        found = registry.audit.entries(action=REFUSED_ACTION, limit=1)
        return found[-1] if found and found[-1].seq == exc.audit_seq else None
    raise GovernanceError(  # pragma: no cover - the four-eyes rule held in every test
        f"The quickstart's self-approval of {model} v{version} was accepted; four eyes is off."
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
