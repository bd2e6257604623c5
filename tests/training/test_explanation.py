"""Training logs a global explanation; `cairn models explain` shows it (terminal, JSON, HTML)."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cairn.cli.main import app
from cairn.explain.global_explanation import GlobalExplanation
from cairn.serving.models import ScoringModel
from cairn.training import ARTIFACTS, FeatureFrame
from tests.tracking._fixtures import Governed

FEATURES = ["income", "debt", "home", "age"]


def test_matrix_is_the_serving_matrix() -> None:
    train = pd.DataFrame({"income": [1.5, None, 3.0], "home": ["rent", "own", None]})
    ff = FeatureFrame.fit(train, ["income", "home"])
    later = pd.DataFrame({"income": [2, None, 7.25, 0], "home": ["own", "boat", None, "rent"]})
    model = ScoringModel("m", "1", None, ff.features, [None, None], ff.categories)
    rows = [
        {k: (None if pd.isna(v) else v) for k, v in row.items()}
        for row in later.to_dict(orient="records")
    ]
    np.testing.assert_array_equal(ff.matrix(later), model.matrix(rows))
    assert ff.matrix(later).dtype == np.float64


def test_training_logs_the_explanation(governed: Governed) -> None:
    result = governed.train()
    data = governed.tracker.load_json(result.run_id, ARTIFACTS["explanation"])
    e = GlobalExplanation.from_dict(data)
    assert e.model == "credit-default" and e.family == "lightgbm" and e.units == "log-odds"
    assert set(e.importance) == set(FEATURES) and e.gain is not None
    assert e.rows == min(len(result.split.validation), governed.config.importance_sample)
    assert len(e.dependence) == min(6, len(FEATURES)) and e.meta["seed"] == governed.config.seed
    assert "explain" in result.timings
    env = governed.tracker.load_json(result.run_id, ARTIFACTS["environment"])
    assert "explain" in env["timings"]


class Page(HTMLParser):
    """Tags, the SVG nesting of chart shapes, and table cells of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.tags: list[str] = []
        self.outside_svg: list[str] = []
        self.cells: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)
        if tag in ("rect", "polyline", "circle", "line") and "svg" not in self.open:
            self.outside_svg.append(tag)
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        while self.open and self.open.pop() != tag:
            pass

    def handle_data(self, data: str) -> None:
        if self.open and self.open[-1] == "td":
            self.cells.append(data.strip())


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("CAIRN_USER", "ana")
    return CliRunner()


def test_cli_explains_a_version(governed: Governed, runner: CliRunner, tmp_path: Path) -> None:
    result = governed.train()
    repo = ["--repo", str(governed.root)]
    shown = runner.invoke(app, ["models", "explain", "credit-default", "1", *repo])
    assert shown.exit_code == 0, shown.output
    assert "mean |contribution|" in shown.output and "partial dependence" in shown.output
    assert all(f in shown.output for f in FEATURES)
    as_json = runner.invoke(app, ["models", "explain", "credit-default", "1", "--json", *repo])
    assert as_json.exit_code == 0, as_json.output
    body = json.loads(as_json.output)
    logged = governed.tracker.load_json(result.run_id, ARTIFACTS["explanation"])
    assert body["version"] == "1" and body["importance"] == logged["importance"]
    out = tmp_path / "page" / "explanation.html"
    written = runner.invoke(app, ["models", "explain", "credit-default", "1", "--out", str(out)])
    assert written.exit_code == 2  # no project in the current folder: one line
    written = runner.invoke(
        app, ["models", "explain", "credit-default", "1", "--out", str(out), *repo]
    )
    assert written.exit_code == 0, written.output
    page = Page()
    page.feed(out.read_text(encoding="utf-8"))
    assert page.tags.count("svg") == 2 + 1 + len(body["dependence"])  # bars, gain, boxes, PD
    assert not page.outside_svg and "script" not in page.tags and "img" not in page.tags
    assert not [v for k, v in page.attrs if k in ("src", "href") and v]
    numbers = [c for c in page.cells if c and c[0] in "+-0123456789"]
    assert len(numbers) >= len(FEATURES) * 6
    assert all(float(c.rstrip("%")) == float(c.rstrip("%")) for c in numbers)


def test_cli_bad_input_exits_2(governed: Governed, runner: CliRunner) -> None:
    result = governed.train()
    repo = ["--repo", str(governed.root)]
    unknown = runner.invoke(app, ["models", "explain", "credit-default", "9", *repo])
    assert unknown.exit_code == 2 and "error" in unknown.output
    # a version trained before explanations existed: its run has no explanation.json
    artifacts = list(governed.root.rglob("explanation.json"))
    assert artifacts, "the run's artifact is stored in the project"
    for path in artifacts:
        path.unlink()
    old = runner.invoke(app, ["models", "explain", "credit-default", "1", *repo])
    assert old.exit_code == 2
    assert "trained before explanations existed" in old.output
    assert f"cairn train --reproduce {result.run_id}" in " ".join(old.output.split())
