"""The dashboard's bulk reads and incremental verification never show something stale or
different: a moved alias shows on the next render, an old audit entry edited in the database
shows the chain broken, and each bulk read answers what the one-at-a-time read answers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cairn.app.project import Project
from cairn.registry.resolver import RefResolver
from cairn.ui.web import standalone_app
from cairn.ui.web.overview import gather_overview, pending_reviews
from tests.registry._tamper import sql
from tests.serving._client import TestClient
from tests.ui_web.conftest import Full
from tests.ui_web.test_blank import text
from tests.ui_web.test_full import cells


@pytest.mark.slow
def test_a_moved_alias_shows_on_the_next_render(full: Full) -> None:
    mlflow = full.project.registry.mlflow
    before = mlflow.get_model("credit-default").aliases
    champion, challenger = before["champion"], before["challenger"]
    [row] = cells(full.client.get("/ui/").text, "deployments")
    assert f"credit-default@champion (v{champion})" in row[3] and row[4] == f"v{champion}"
    mlflow.set_alias("credit-default", "champion", challenger)  # as the MLflow UI would
    try:
        [moved] = cells(full.client.get("/ui/").text, "deployments")
        assert f"credit-default@champion (v{challenger})" in moved[3]
        assert moved[4] == f"v{challenger}"
    finally:
        mlflow.set_alias("credit-default", "champion", champion)
    [back] = cells(full.client.get("/ui/").text, "deployments")
    assert f"credit-default@champion (v{champion})" in back[3] and back[4] == f"v{champion}"


@pytest.mark.slow
def test_the_resolver_answers_what_the_registry_resolves(full: Full) -> None:
    registry = full.project.registry
    resolver = RefResolver(registry.mlflow, registry.mlflow.list_models())
    refs = [f"credit-default{tail}" for tail in ("@champion", "@challenger", "/1", "/2", "/9")]
    refs += ["credit-default@nope", "other@champion"]
    for ref in refs:
        try:
            expected: str | Exception = registry.resolve(ref)[1].version
        except KeyError as exc:
            expected = exc
        if isinstance(expected, str):
            assert resolver.version(ref) == expected
        else:
            with pytest.raises(type(expected)) as raised:
                resolver.version(ref)
            assert str(raised.value) == str(expected)


@pytest.mark.slow
def test_bulk_reads_answer_what_single_reads_answer(full: Full) -> None:
    registry, tracker = full.project.registry, full.project.tracker
    versions = registry.mlflow.versions("credit-default")
    decided = registry.approvals.latest_by_version("credit-default")
    assert decided  # the training demo approved the champion
    for v in versions:
        assert decided.get(v.version) == registry.approvals.latest("credit-default", v.version)
    run_ids = [str(v.run_id) for v in versions]
    found = tracker.get_runs([*run_ids, "0" * 32, "not a run id"])
    assert set(found) == set(run_ids)
    for run_id in run_ids:
        assert found[run_id] == tracker.get_run(run_id)


@pytest.mark.slow
def test_the_overview_lists_the_reviews_the_model_pages_list(full: Full) -> None:
    """The Overview reads only the undecided versions above the champion; the Model page
    reads every version (``registry.show``): both list the same awaiting reviews."""
    project = full.project
    shown = gather_overview(project).pending
    models = project.registry.list_models()
    assert shown and shown == [p for m in models for p in pending_reviews(project, m.name)]


def test_an_old_entry_edited_in_the_database_breaks_the_next_audit_view(tmp_path: Path) -> None:
    (tmp_path / "cairn.yaml").write_text("project: ledger\n")
    with Project.open(tmp_path) as project, TestClient(standalone_app(project)) as client:
        log = project.audit
        for n in range(30):
            log.append("ana", "note", f"thing-{n % 3}", {"n": n})
        assert "Chain of 30 entries: verified" in text(client.get("/ui/audit").text)
        for n in range(30, 35):
            log.append("bo", "note", "thing-0", {"n": n})
        page = text(client.get("/ui/audit").text)
        assert "Chain of 35 entries: verified" in page
        assert "entries 1-30 unchanged since this process verified them" in page
        # an attacker edits entry 3's details and leaves its hash: the head still matches
        sql(
            project.metadata.engine,
            "UPDATE cairn_audit_log SET details = :d WHERE project = 'ledger' AND seq = 3",
            d='{"n":99}',
        )
        broken = client.get("/ui/audit")
        assert broken.status_code == 200
        shown = text(broken.text)
        assert "Chain of 35 entries: BROKEN" in shown
        assert "entry 3 was edited (hash mismatch)" in shown
        assert [p.message for p in log.verify().findings] == ["entry 3 was edited (hash mismatch)"]
        rows = re.findall(r"<tr><td>(\d+)</td>", broken.text)
        assert [int(s) for s in rows] == list(range(35, 0, -1))
