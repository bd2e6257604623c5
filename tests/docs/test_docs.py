"""The documentation builds, stands alone, and its tutorial works as written.

The tutorial test is the acceptance check of "your own project": a blank project from
``cairn init --template blank`` and a small seeded CSV data set that is not the example are
applied, trained, approved, promoted, served, scored as of their time and monitored, using only
the commands the tutorial documents. It runs every code block of ``docs/tutorial.md`` in order:

- ``bash`` blocks run with ``set -euo pipefail``; the working folder and exported variables
  carry over from block to block, as in one terminal;
- ``console`` blocks run their ``$ `` lines;
- ``python`` blocks run with the venv's Python;
- a block after ``<!-- file: PATH -->`` is saved as PATH (the reader saves it);
- a block after ``<!-- run: background -->`` is started in the background (the reader's second
  terminal), waited for until ``/readyz`` answers, and stopped at the end;
- other blocks (``yaml``, ``json`` output samples) are illustrations.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
import typer.main
import yaml

from cairn.cli.main import app
from cairn.testing.servers import free_port, stop_server, wait_ready

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
TUTORIAL = DOCS / "tutorial.md"
BIN = Path(sys.executable).parent
OUTSIDE = re.compile(r"\bDESIGN\b|shared/|STYLE\.md")
PACKAGES = sorted(
    p.name
    for p in (ROOT / "src" / "cairn").iterdir()
    if p.is_dir() and (p / "__init__.py").is_file()
)
BLOCK = re.compile(
    r"(?:<!-- (?P<marker>file|run): (?P<arg>[^>]*?) -->\n)?^```(?P<lang>\w*)\n(?P<body>.*?)^```",
    re.S | re.M,
)
STEP_TIMEOUT = 600.0


@dataclass(frozen=True)
class Block:
    """One fenced code block of a page, with the marker line above it, if any."""

    lang: str
    body: str
    marker: str | None = None
    arg: str | None = None


def blocks(page: Path) -> list[Block]:
    """The fenced code blocks of ``page``, in order."""
    text = page.read_text(encoding="utf-8")
    return [
        Block(m["lang"], m["body"], m["marker"], (m["arg"] or "").strip() or None)
        for m in BLOCK.finditer(text)
    ]


def _generator() -> ModuleType:
    """``docs/_gen/hooks.py`` (its siblings import as top-level modules)."""
    sys.path.insert(0, str(DOCS / "_gen"))
    try:
        return importlib.import_module("hooks")
    finally:
        sys.path.remove(str(DOCS / "_gen"))


def pages() -> Iterator[tuple[str, str]]:
    """Every page's name and Markdown: the written ones and the generated references."""
    for path in sorted(DOCS.rglob("*.md")):
        yield str(path.relative_to(DOCS)), path.read_text(encoding="utf-8")
    generated, _ = _generator().pages()
    yield from generated.items()


# -- the site -----------------------------------------------------------------------------------


def test_the_documentation_builds_offline_with_strict_checks(tmp_path: Path) -> None:
    """``mkdocs build --strict``: no broken link or anchor, no missing page, no warning (the
    reference generators warn when a source they read is missing)."""
    site = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    for page in ("index", "tutorial", "reference/cli", "reference/http"):
        assert (site / f"{page}.html").is_file(), page
    assert (site / "reference" / "project-files.html").is_file()


def test_no_page_cites_a_file_outside_the_repository() -> None:
    for name, text in pages():
        match = OUTSIDE.search(text)
        assert match is None, f"{name} cites {match[0] if match else ''!r}"


def test_the_architecture_page_maps_every_package() -> None:
    page = (DOCS / "architecture.md").read_text(encoding="utf-8")
    for name in PACKAGES:
        assert f"  {name}/" in page, name


def test_the_cli_reference_has_every_command() -> None:
    reference = dict(pages())["reference/cli.md"]

    def leaves(command: object, path: list[str]) -> Iterator[str]:
        subcommands = getattr(command, "commands", None)
        if not subcommands:
            yield " ".join(path)
            return
        for name, sub in subcommands.items():
            yield from leaves(sub, [*path, name])

    for name in leaves(typer.main.get_command(app), ["cairn"]):
        assert f"### `{name}`" in reference, name


def test_the_http_reference_has_every_route() -> None:
    reference = dict(pages())["reference/http.md"]
    for route in (
        "POST /v1/features/online",
        "POST /v1/predict/{deployment}",
        "POST /v1/predict/{deployment}/batch",
        "GET /v1/explanations/{prediction_id}",
        "POST /v1/outcomes",
        "GET /v1/deployments",
        "POST /v1/deployments/{name}/rollout/promote",
        "GET /readyz",
    ):
        assert f"### `{route}`" in reference, route


def test_the_tutorial_uses_only_documented_commands() -> None:
    """Every ``cairn …`` the tutorial runs is a command of the CLI (and so in its reference)."""
    root = typer.main.get_command(app)
    for block in blocks(TUTORIAL):
        if block.lang not in ("bash", "console") or block.marker == "file":
            continue
        for words in re.findall(r"(?:^|[\s;&|(])cairn ([a-z-]+)(?: ([a-z-]+))?", block.body):
            command = root.commands.get(words[0])  # type: ignore[attr-defined]
            assert command is not None, f"cairn {words[0]}"
            if getattr(command, "commands", None):
                assert words[1] in command.commands, f"cairn {words[0]} {words[1]}"


# -- the tutorial -------------------------------------------------------------------------------


class Terminal:
    """One reader's terminal: bash blocks share the working folder and exported variables."""

    def __init__(self, home: Path, port: int) -> None:
        self.home = home
        self.port = port
        self.state = home / ".tutorial-state"
        self.state.mkdir()
        (self.state / "cwd").write_text(str(home))
        (self.state / "env.sh").write_text("")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CAIRN_")}
        self.env["PATH"] = f"{BIN}{os.pathsep}{self.env.get('PATH', '')}"
        self.background: list[subprocess.Popen[bytes]] = []

    @property
    def cwd(self) -> Path:
        return Path((self.state / "cwd").read_text().strip())

    def text(self, body: str) -> str:
        """A block as this run needs it: the tutorial's port 8000 becomes a free one."""
        return body.replace("127.0.0.1:8000", f"127.0.0.1:{self.port}").replace(
            "--port 8000", f"--port {self.port}"
        )

    def _script(self, body: str) -> str:
        return (
            "set -euo pipefail\n"
            f'cd "$(cat {self.state}/cwd)"\n'
            f"source {self.state}/env.sh\n"
            f"{body}\n"
            f"pwd > {self.state}/cwd\n"
            f"export -p > {self.state}/env.sh\n"
        )

    def bash(self, body: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-c", self._script(self.text(body))],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT,
        )

    def python(self, body: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "python"), "-"],
            input=self.text(body),
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT,
        )

    def save(self, relative: str, body: str) -> None:
        target = self.cwd / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(self.text(body) + "\n", encoding="utf-8")

    def start(self, body: str) -> None:
        command = self.text(body).strip()
        with open(self.home / "background.log", "ab") as log:  # the child keeps its own copy
            proc = subprocess.Popen(
                ["bash", "-c", f"cd {self.cwd} && source {self.state}/env.sh && exec {command}"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.background.append(proc)
        try:
            wait_ready(f"http://127.0.0.1:{self.port}", proc, timeout=180)
        except Exception as exc:
            tail = (self.home / "background.log").read_text(errors="replace")[-3000:]
            pytest.fail(f"{command!r} did not become ready: {exc}\n{tail}")

    def stop(self) -> None:
        for proc in self.background:
            stop_server(proc)


def _console_commands(body: str) -> str:
    return "\n".join(line[2:] for line in body.splitlines() if line.startswith("$ "))


@pytest.mark.slow
def test_the_tutorial_runs_as_written(tmp_path: Path) -> None:
    steps = blocks(TUTORIAL)
    declared = next(
        yaml.safe_load(b.body) for b in steps if b.marker == "file" and b.arg == "deployments.yaml"
    )["deployments"]
    (name, deployment), *_ = declared.items()
    decisions = {deployment["decision"]["positive"], deployment["decision"]["negative"]}

    terminal = Terminal(tmp_path, free_port())
    outputs: list[tuple[Block, str]] = []
    try:
        for number, block in enumerate(steps, 1):
            if block.marker == "file":
                assert block.arg, f"block {number}: a file marker needs a path"
                terminal.save(block.arg, block.body)
                continue
            if block.marker == "run":
                assert block.arg == "background", f"block {number}: unknown run {block.arg!r}"
                terminal.start(block.body)
                continue
            if block.lang == "bash":
                done = terminal.bash(block.body)
            elif block.lang == "console":
                done = terminal.bash(_console_commands(block.body))
            elif block.lang == "python":
                done = terminal.python(block.body)
            else:
                continue
            if done.returncode != 0:
                pytest.fail(
                    f"tutorial block {number} exited {done.returncode}:\n{block.body}\n"
                    f"--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}"
                )
            outputs.append((block, done.stdout))
    finally:
        terminal.stop()

    predict = next(out for b, out in outputs if "curl" in b.body and f"/predict/{name}" in b.body)
    answer = json.loads(predict)
    assert answer["decision"] in decisions, answer
    assert answer["deployment"] == name and 0.0 <= answer["score"] <= 1.0

    project = terminal.cwd
    contacts = (project / "data" / "contacts.csv").read_text().strip().splitlines()
    import pandas as pd

    scores = pd.read_parquet(project / "scores.parquet")
    assert len(scores) == len(contacts) - 1  # one row per entity row (the CSV has a header)
    assert set(scores["decision"]) <= decisions

    monitor = next(out for b, out in outputs if "cairn monitor run" in b.body)
    assert re.search(r"run #\d+", monitor), monitor
    assert (project / "monitor.html").is_file()
