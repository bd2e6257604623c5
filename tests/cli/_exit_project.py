"""The folders the exit-code table runs against: a governed credit project with tokens for every
role and a drifted day of logged traffic, a copy of it whose audit chain was edited, a project
with an invalid file, an empty folder, and a quality suite that halts on the project's data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import sqlalchemy as sa

from cairn.app.project import Project
from cairn.auth import ROLES
from cairn.core.timeutil import to_micros
from tests.auth._team import make_team
from tests.monitoring.test_window import log_table, record
from tests.rollouts import _rollout

END = datetime(2026, 10, 2, tzinfo=UTC)
"""The end of the logged traffic (the monitoring window ends at the last prediction)."""
HOUR = 3_600_000_000
HALTING_SUITE = """\
name: incomes
expectations:
  - expect_column_values_to_be_between: {column: income, max_value: 0, severity: critical}
"""
"""Halts on any positive income: every row of the project's profiles."""


@dataclass(frozen=True)
class Folders:
    """Where each placeholder of the table points."""

    repo: Path
    tampered: Path
    broken: Path
    empty: Path
    suite: Path
    tmp: Path
    tokens: dict[str, Path]

    def resolve(self, argv: list[str]) -> list[str]:
        """``argv`` with ``{repo}``, ``{token_ROLE}`` and the other placeholders filled in."""
        names = {
            "repo": self.repo,
            "tampered": self.tampered,
            "broken": self.broken,
            "empty": self.empty,
            "suite": self.suite,
            "tmp": self.tmp,
            **{f"token_{role}": path for role, path in self.tokens.items()},
        }
        return [arg.format(**{k: str(v) for k, v in names.items()}) for arg in argv]


def build(base: Path, mlflow_template: Path) -> Folders:
    """Build every folder under ``base`` (seeded, deterministic)."""
    repo = _rollout.build(base / "credit", mlflow_template, 7)
    (repo / "deployments.yaml").write_text(
        "deployments:\n  credit: {model: credit-default@champion}\n"
    )
    team = make_team(repo, base / "tokens")
    _log_drifted_day(repo)
    tampered = _rollout.copy(repo, base / "tampered")
    with Project.open(tampered) as project, project.metadata.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE cairn_audit_log SET actor = 'eve' WHERE project = :p AND seq = 2"),
            {"p": project.name},
        )
    broken = base / "broken"
    broken.mkdir()
    (broken / "cairn.yaml").write_text("project: broken\n")
    (broken / "deployments.yaml").write_text("deployments:\n  d: {model: m/1, threshold: 2.0}\n")
    empty = base / "empty"
    empty.mkdir()
    suite = base / "incomes.yaml"
    suite.write_text(HALTING_SUITE)
    tmp = base / "scratch"
    tmp.mkdir()
    _init_blank(tmp / "initialized")  # for cases that need a project made by `cairn init`
    return Folders(repo, tampered, broken, empty, suite, tmp, {r: team.files[r] for r in ROLES})


def _init_blank(folder: Path) -> None:
    """``cairn init FOLDER`` (here, not as a case: the cases may run on other workers)."""
    from typer.testing import CliRunner

    from cairn.cli.main import app

    done = CliRunner().invoke(app, ["init", str(folder)])
    assert done.exit_code == 0, done.output


def _log_drifted_day(repo: Path) -> None:
    """200 predictions of v1 in the day before :data:`END`, every income tripled."""
    people = pd.read_parquet(repo / "data" / "profiles.parquet").head(200)
    records = [
        record(
            i,
            to_micros(END) - HOUR * (1 + i % 20),
            {
                "income": float(r["income"]) * 3,
                "debt": float(r["debt"]),
                "home": str(r["home"]),
                "age": int(r["age"]),
            },
            0.3,
            entity={"customer_id": int(r["customer_id"])},
        )
        for i, r in enumerate(people.to_dict(orient="records"))
    ]
    folder = repo / ".cairn" / "predictions"
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(log_table(records), folder / "drifted.parquet")
