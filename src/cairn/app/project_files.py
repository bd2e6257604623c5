"""A project's files, by kind: where each lives, its JSON Schema and its check.

Every YAML file of a project is parsed by one model, which also gives its JSON Schema, so the
schema (``cairn config schema KIND``), the check (``cairn config check``) and the parser that
commands use agree:

========================  ===================  ================================================
kind                      file                 parsed by
========================  ===================  ================================================
``cairn``                 ``cairn.yaml``       :class:`cairn.core.settings.Settings`
``deployments``           ``deployments.yaml`` :class:`cairn.core.deployments.DeploymentsFile`
``train``                 ``train.yaml``       :class:`cairn.training.config.TrainFile`
``reason_codes``          ``reason_codes.yaml`` :class:`cairn.explain.reason_codes.ReasonCodesFile`
``experiments``           ``experiments.yaml`` :class:`cairn.experiments.metrics.ExperimentsFile`
``retraining``            ``retraining.yaml``  :class:`cairn.retraining.policy.RetrainingFile`
``quality``               ``quality/*.yaml``   :func:`cairn.quality.load_suite` (schema from the
                                               expectations' declared arguments)
========================  ===================  ================================================

A check reports every problem the model finds, one :class:`~cairn.core.file_model.Problem`
each; a file the model accepts is then built by the parser itself, so rules across keys are
checked too. :func:`schemas` gives every kind's schema (for the "keys of every file" reference).

Example
-------
>>> import pathlib, tempfile
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> _ = (root / "cairn.yaml").write_text("project: demo\\n")
>>> _ = (root / "deployments.yaml").write_text(
...     "deployments:\\n  credit: {model: credit-default@champion, threshold: 2.0}\\n")
>>> [str(p) for p in FILE_KINDS["deployments"].check(root / "deployments.yaml",
...                                                   label="deployments.yaml")]
['deployments.yaml: deployments.credit.threshold must be between 0 and 1; got 2.0.']
>>> sorted(schemas()) == sorted(FILE_KINDS)
True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cairn.core.errors import CairnError, ConfigError
from cairn.core.file_model import Problem, problems_of

CONFIG_FILE = "cairn.yaml"
FEATURES_FILE = "features.py"

Checker = Callable[[Path, str], list[Problem]]


@dataclass(frozen=True)
class FileKind:
    """One kind of project file: its name, where it lives (a glob relative to the project
    folder), what it is for, its JSON Schema and its check."""

    name: str
    pattern: str
    summary: str
    _schema: Callable[[], dict[str, Any]] = field(repr=False)
    _check: Checker = field(repr=False)

    def schema(self) -> dict[str, Any]:
        """The JSON Schema (draft 2020-12) of this kind of file."""
        return self._schema()

    def check(self, path: str | Path, *, label: str | None = None) -> list[Problem]:
        """Every problem of the file at ``path`` (none: valid); problems name the file as
        ``label`` (default: the path as given)."""
        return self._check(Path(path), str(path) if label is None else label)

    def files(self, root: str | Path) -> list[Path]:
        """This kind's files in the project folder ``root``, sorted."""
        return sorted(p for p in Path(root).glob(self.pattern) if p.is_file())


@dataclass(frozen=True)
class ProjectCheck:
    """What ``cairn config check`` found: the files checked (relative paths) and the
    problems (none: every file is valid)."""

    files: tuple[str, ...]
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        """No problem found."""
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "ok": self.ok,
            "files": list(self.files),
            "problems": [p.to_dict() for p in self.problems],
        }


def schemas() -> dict[str, dict[str, Any]]:
    """Every kind's JSON Schema by kind name (what a docs generator renders as the keys of
    every project file)."""
    return {name: kind.schema() for name, kind in FILE_KINDS.items()}


def file_kind(name: str) -> FileKind:
    """The kind called ``name``; an unknown name is a ConfigError listing the kinds."""
    found = FILE_KINDS.get(name)
    if found is None:
        raise ConfigError(f"Unknown file kind {name!r}; the kinds are {', '.join(FILE_KINDS)}.")
    return found


def check_project(root: str | Path) -> ProjectCheck:
    """Check every project file present in the folder ``root`` (``cairn.yaml`` must be there;
    ``features.py`` is imported, as ``cairn apply`` would)."""
    folder = Path(root)
    if not (folder / CONFIG_FILE).is_file():
        raise ConfigError(
            f"No {CONFIG_FILE} in {folder.resolve()}: expected a project folder (create one "
            f"with `cairn init DIR`)."
        )
    files: list[str] = []
    found: list[Problem] = []
    for kind in FILE_KINDS.values():
        for path in kind.files(folder):
            label = path.relative_to(folder).as_posix()
            files.append(label)
            found += kind.check(path, label=label)
        if kind.name == "cairn" and (folder / FEATURES_FILE).is_file():
            files.append(FEATURES_FILE)
            found += _check_definitions(folder)
    return ProjectCheck(tuple(files), tuple(found))


# -- the checks -------------------------------------------------------------------------------


def _read(path: Path, label: str) -> tuple[Any, list[Problem]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(label, "", f"cannot be read: {exc}")]
    try:
        return yaml.safe_load(text), []
    except yaml.YAMLError as exc:
        return None, [Problem(label, "", f"not valid YAML: {' '.join(str(exc).split())}")]


def _said(label: str, message: str, path: Path | None = None) -> Problem:
    """A parser's error as a problem of the file called ``label``."""
    text = message if path is None else message.replace(str(path), label)
    return Problem(label, "", text.removeprefix(f"{label}: "))


def _check_model(
    model: type[Any], build: Callable[[Any, str], object], *, empty_ok: bool = True
) -> Checker:
    """Validate with the file's model (every problem), then build with its parser (rules
    across keys), exactly as commands read the file."""

    def check(path: Path, label: str) -> list[Problem]:
        data, found = _read(path, label)
        if found:
            return found
        if data is None and empty_ok:
            data = {}
        found = problems_of(model, data, source=label)
        if found:
            return found
        try:
            build(data, label)
        except CairnError as exc:
            return [_said(label, str(exc))]
        return []

    return check


def _check_settings(path: Path, label: str) -> list[Problem]:
    from cairn.core.settings import Settings

    data, found = _read(path, label)
    if found:
        return found
    try:
        Settings.from_mapping(data or {}, env={}, source=label)
    except ConfigError as exc:
        return [_said(label, line) for line in exc.problems]
    return []


def _check_deployments(path: Path, label: str) -> list[Problem]:
    from cairn.core.deployments import DeploymentsFile, parse_deployments
    from cairn.explain.reason_codes import REASON_CODES_FILE

    found = _check_model(DeploymentsFile, lambda d, s: parse_deployments(d, source=s))(path, label)
    if found:
        return found
    data, _ = _read(path, label)
    root = path.parent
    for name, dep in parse_deployments(data or {}).items():
        if dep.reason_codes is None or dep.reason_codes == REASON_CODES_FILE:
            continue  # the project's reason_codes.yaml is checked as a file of its own
        where = f"deployments.{name}.reason_codes"
        codes = root / dep.reason_codes
        if not codes.is_file():
            found.append(
                Problem(
                    label,
                    where,
                    f"{where} names {dep.reason_codes!r}, which is not a file in the project "
                    f"folder.",
                    "a reason-code file",
                    repr(dep.reason_codes),
                )
            )
        else:
            found += FILE_KINDS["reason_codes"].check(codes, label=dep.reason_codes)
    return found


def _check_train(path: Path, label: str) -> list[Problem]:
    from cairn.training.config import TrainConfig, TrainFile

    def build(data: Any, source: str) -> object:
        return TrainConfig.from_mapping(data, source=source)

    return _check_model(TrainFile, build, empty_ok=False)(path, label)


def _check_reason_codes(path: Path, label: str) -> list[Problem]:
    from cairn.explain.reason_codes import ReasonCodeBook, ReasonCodesFile

    return _check_model(ReasonCodesFile, lambda d, s: ReasonCodeBook.from_dict(d, s))(path, label)


def _check_experiments(path: Path, label: str) -> list[Problem]:
    from cairn.experiments.metrics import ExperimentsFile, MetricCatalog

    return _check_model(ExperimentsFile, lambda d, s: MetricCatalog.from_mapping(d, s))(path, label)


def _check_retraining(path: Path, label: str) -> list[Problem]:
    from cairn.core.deployments import DEPLOYMENTS_FILE, load_deployments
    from cairn.retraining.policy import RetrainingFile, parse_policies

    found = _check_model(RetrainingFile, lambda d, s: parse_policies(d, source=s))(path, label)
    if found:
        return found
    data, _ = _read(path, label)
    root = path.parent
    try:
        deployments = set(load_deployments(root / DEPLOYMENTS_FILE))
    except CairnError:
        deployments = None  # deployments.yaml reports its own problems
    for name, policy in parse_policies(data or {}).items():
        where = f"policies.{name}"
        if deployments is not None and policy.deployment not in deployments:
            known = ", ".join(sorted(deployments)) or f"none in {DEPLOYMENTS_FILE}"
            found.append(
                Problem(
                    label,
                    f"{where}.deployment",
                    f"{where}.deployment names {policy.deployment!r}, which is not a deployment "
                    f"of {DEPLOYMENTS_FILE} (deployments: {known}).",
                    "a deployment",
                    repr(policy.deployment),
                )
            )
        if not (root / policy.training).is_file():
            found.append(
                Problem(
                    label,
                    f"{where}.training",
                    f"{where}.training names {policy.training!r}, which is not a file in the "
                    f"project folder (expected a training config such as train.yaml).",
                    "a training config",
                    repr(policy.training),
                )
            )
    return found


def _check_suite(path: Path, label: str) -> list[Problem]:
    from cairn.quality import load_suite

    try:
        load_suite(path)
    except CairnError as exc:
        return [_said(label, str(exc), path)]
    return []


def _check_definitions(root: Path) -> list[Problem]:
    from cairn.app.definitions import load_definitions

    try:
        load_definitions(root)
    except CairnError as exc:
        return [_said(FEATURES_FILE, str(exc), root / FEATURES_FILE)]
    return []


# -- the schemas ------------------------------------------------------------------------------


def _settings_schema() -> dict[str, Any]:
    from cairn.core.file_model import json_schema
    from cairn.core.settings import Settings

    return json_schema(
        Settings,
        title=CONFIG_FILE,
        description="Project settings: the project's name and where its state lives (metadata, "
        "offline engine, online store, tracking), monitoring and serving. Every key but "
        "'project' has a default; CAIRN_<SECTION>__<KEY> environment variables override any.",
    )


def _deployments_schema() -> dict[str, Any]:
    from cairn.core.deployments import deployments_schema

    return deployments_schema()


def _train_schema() -> dict[str, Any]:
    from cairn.training.config import train_schema

    return train_schema()


def _reason_codes_schema() -> dict[str, Any]:
    from cairn.explain.reason_codes import reason_codes_schema

    return reason_codes_schema()


def _experiments_schema() -> dict[str, Any]:
    from cairn.experiments.metrics import experiments_schema

    return experiments_schema()


def _retraining_schema() -> dict[str, Any]:
    from cairn.retraining.policy import retraining_schema

    return retraining_schema()


def _suite_schema() -> dict[str, Any]:
    from cairn.quality.schema import suite_schema

    return suite_schema()


FILE_KINDS: dict[str, FileKind] = {
    kind.name: kind
    for kind in (
        FileKind(
            "cairn", CONFIG_FILE, "Project settings (name, stores, tracking, monitoring, serving).",
            _settings_schema, _check_settings,
        ),
        FileKind(
            "train", "train.yaml", "A training job: entity rows, label, features, estimator.",
            _train_schema, _check_train,
        ),
        FileKind(
            "deployments", "deployments.yaml",
            "Deployments: model, threshold, decisions, label, explanations, fallback.",
            _deployments_schema, _check_deployments,
        ),
        FileKind(
            "reason_codes", "reason_codes.yaml", "Reason codes and texts per feature.",
            _reason_codes_schema, _check_reason_codes,
        ),
        FileKind(
            "experiments", "experiments.yaml", "Experiment metrics and label completeness.",
            _experiments_schema, _check_experiments,
        ),
        FileKind(
            "retraining", "retraining.yaml",
            "Retraining policies: schedule, triggers, cooldown, budget, gates, promotion.",
            _retraining_schema, _check_retraining,
        ),
        FileKind(
            "quality", "quality/*.yaml", "Data quality suites (one per file).",
            _suite_schema, _check_suite,
        ),
    )
}  # fmt: skip
"""Every kind of project file by name, in the order ``cairn config check`` reads them."""
