"""The Quality pages' data: the project's suites with their newest result, one suite's results
history (paged) with its health-score trend, and one stored result's failing checks with the
failing rows it kept.

Suites are the project's ``quality/*.yaml`` files (what ``cairn config check`` reads, loaded
with :func:`cairn.quality.load_suite`) and every suite with stored results (a gate may run a
suite kept elsewhere). Results are read from the project's result store
(:class:`cairn.quality.QualityStore`: ``history`` is ``cairn quality history``, ``get`` the
full result); the health score is the one each run recorded
(:func:`cairn.quality.health.health_score`, overall and per dimension), never recomputed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cairn.ui.web.paging import PAGE_SIZE, BadPageInput, Page, PageNotFound, paginate

if TYPE_CHECKING:
    from cairn.app.project import Project
    from cairn.quality.results import CheckResult, ValidationResult
    from cairn.quality.spec import Suite
    from cairn.quality.store import RunSummary

__all__ = [
    "ResultPage",
    "SuitePage",
    "SuiteRow",
    "gather_quality",
    "gather_result",
    "gather_suite",
    "parse_run_id",
    "project_suites",
]


@dataclass(frozen=True)
class SuiteRow:
    """One suite: where it is defined (None: only stored results), what it guards, how many
    checks it has, and its newest stored run (None: never run)."""

    name: str
    file: str | None
    source: str | None
    description: str
    checks: int | None
    runs: int
    newest: RunSummary | None
    problem: str | None = None


@dataclass(frozen=True)
class SuitePage:
    """One suite and its stored runs, newest first (paged)."""

    suite: SuiteRow
    runs: Page[RunSummary]


@dataclass(frozen=True)
class ResultPage:
    """One stored run: the full result, its failed checks, and the checks that passed."""

    suite: str
    result: ValidationResult
    failures: list[CheckResult]
    passed: list[CheckResult]


def gather_quality(project: Project, page: int) -> Page[SuiteRow]:
    """Page ``page`` of the project's suites, by name, each with its newest stored run."""
    found = project_suites(project)
    names = paginate(sorted(found), page)
    rows = [_row(project, name, found[name]) for name in names.items]
    return Page(rows, names.number, names.pages, names.total)


def gather_suite(project: Project, name: str, page: int) -> SuitePage:
    """Suite ``name`` and page ``page`` of its runs (:class:`PageNotFound` for a suite neither
    in ``quality/`` nor in the result store, or a page past the last)."""
    found = project_suites(project)
    if name not in found:
        raise PageNotFound(
            f"No quality suite {name!r}; suites: {', '.join(sorted(found)) or 'none'}."
        )
    row = _row(project, name, found[name])
    window = paginate(range(row.runs), page)  # which of the runs the page holds
    items = project.quality.history(name, limit=PAGE_SIZE, offset=(window.number - 1) * PAGE_SIZE)
    return SuitePage(row, Page(items, window.number, window.pages, row.runs))


def gather_result(project: Project, name: str, run_id: int) -> ResultPage:
    """The stored run ``run_id`` of suite ``name`` (:class:`PageNotFound` when the store has
    no such run of that suite)."""
    try:
        result = project.quality.get(run_id)
    except KeyError:
        result = None
    if result is None or result.suite != name:
        raise PageNotFound(f"No stored run {run_id} of the quality suite {name!r}.")
    return ResultPage(name, result, list(result.failures), [c for c in result.checks if c.success])


def parse_run_id(text: str) -> int:
    """A run id of the URL (:class:`BadPageInput` unless a whole number of at least 1)."""
    if not text.isdigit() or int(text) < 1:
        raise BadPageInput(f"A quality run id is a whole number of at least 1; got {text!r}.")
    return int(text)


def project_suites(project: Project) -> dict[str, Suite | str | None]:
    """Suite name -> the suite of its file in ``quality/``, or the error loading that file
    (text, under the file's name), or None for a suite that only has stored results."""
    from cairn.app.project_files import file_kind
    from cairn.core.errors import CairnError
    from cairn.quality import load_suite

    found: dict[str, Suite | str | None] = {}
    root = project.root
    for path in file_kind("quality").files(root):
        try:
            suite = load_suite(path)
        except (CairnError, OSError) as exc:
            file = str(path.relative_to(root))
            found.setdefault(path.stem, f"{file}: {str(exc).replace(f'{path}: ', '')}")
            continue
        found[suite.name] = suite
    for name in project.quality.suites():
        found.setdefault(name, None)
    return found


def _row(project: Project, name: str, found: Suite | str | None) -> SuiteRow:
    """The row of one suite: its definition and its newest stored run."""
    store = project.quality
    newest = store.history(name, limit=1)
    runs = store.count(name) if newest else 0
    head = newest[0] if newest else None
    if found is None or isinstance(found, str):
        return SuiteRow(name, None, None, "", None, runs, head, found)
    file = None if found.path is None else _relative(found.path, project.root)
    return SuiteRow(name, file, found.source, found.description, len(found.checks), runs, head)


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root))
    except ValueError:
        return str(path)
