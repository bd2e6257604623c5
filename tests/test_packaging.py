"""The wheel as users get it: built from a copy of this tree, installed WITHOUT extras into a
fresh virtualenv (only ``[project.dependencies]`` come with it), and checked there.

* ``import cairn`` and ``import cairn.cli.main`` work, and ``cairn version`` prints the wheel's
  version;
* ``cairn --help`` and ``cairn <command> --help`` exit 0 for every command and sub-command,
  enumerated from the Typer app inside the venv (no hard-coded list);
* every module of the installed package imports, except those needing an optional extra
  (``redis``, ``postgres``, ``kafka``, ``spark``): these must fail with
  :class:`~cairn.core.errors.DependencyMissingError` naming the extra;
* every import statement of the package (function bodies included: the CLI imports lazily, so
  importing a module does not reach them; ``if TYPE_CHECKING:`` blocks excluded) names a
  distribution declared in ``[project.dependencies]`` or in an optional extra.

One venv serves the whole module. Building the wheel and installing its dependencies is the slow
part (uv's cache makes repeats fast); the test is skipped only when no package index can be
reached. Nothing here measures time (see ``benchmarks/cli_startup.py``).
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
BUILD_TIMEOUT_S = 900
INSTALL_TIMEOUT_S = 1800
RUN_TIMEOUT_S = 300
TOOLING_EXTRAS = frozenset({"dev", "bench"})
"""Extras for developing Cairn, not features of it: a runtime import may not rely on them."""

NETWORK_ERRORS = re.compile(
    r"Failed to fetch|error sending request|dns error|failed to lookup address|"
    r"Network is unreachable|Connection refused|Temporary failure in name resolution|"
    r"NewConnectionError|Max retries exceeded|ConnectTimeout|offline mode",
    re.IGNORECASE,
)


def normalize(dist: str) -> str:
    """A distribution name in PEP 503 form (``PyYAML`` -> ``pyyaml``)."""
    return re.sub(r"[-_.]+", "-", dist).lower()


# ----------------------------------------------------------------------------- the venv


@dataclass(frozen=True)
class Venv:
    """A fresh virtualenv holding the wheel and its ``[project.dependencies]`` only."""

    root: Path
    wheel: Path
    env: dict[str, str] = field(repr=False)

    @property
    def python(self) -> Path:
        return self.root / "bin" / "python"

    @property
    def cairn(self) -> Path:
        return self.root / "bin" / "cairn"

    def run(self, *argv: str | Path) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` with the venv's environment, outside the source tree."""
        return subprocess.run(
            [str(a) for a in argv],
            capture_output=True,
            text=True,
            env=self.env,
            cwd=self.root,
            timeout=RUN_TIMEOUT_S,
            check=False,
        )

    def python_json(self, script: str) -> object:
        """Run ``script`` with the venv's Python; the JSON it printed on its last line."""
        done = self.run(self.python, "-c", textwrap.dedent(script))
        assert done.returncode == 0, f"script failed in the venv:\n{done.stderr[-4000:]}"
        return json.loads(done.stdout.strip().splitlines()[-1])


def clean_env() -> dict[str, str]:
    """This process's environment without anything that would put the source tree (or another
    environment) on the venv's path."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP"}
    }
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def checked(cmd: Sequence[str | Path], what: str, env: dict[str, str], timeout: int) -> None:
    """Run ``cmd``; skip when it failed because no package index could be reached, fail when it
    failed for any other reason."""
    done = subprocess.run(
        [str(c) for c in cmd],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )
    if done.returncode == 0:
        return
    output = (done.stdout + done.stderr)[-3000:]
    if NETWORK_ERRORS.search(output):
        pytest.skip(
            f"{what}: no package index reachable ({' '.join(map(str, cmd[:3]))}):\n{output}"
        )
    pytest.fail(f"{what} failed (exit {done.returncode}): {' '.join(map(str, cmd))}\n{output}")


def copy_source(dest: Path) -> Path:
    """A snapshot of what the build reads (setuptools writes build/ and *.egg-info next to the
    sources; other work in the tree must not see them)."""
    dest.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (REPO / name).exists():
            shutil.copy2(REPO / name, dest / name)
    shutil.copytree(
        REPO / "src",
        dest / "src",
        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc"),
    )
    return dest


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Venv]:
    """Build the wheel, create a fresh venv and install the wheel without extras (uv when on
    PATH, else the venv's own pip)."""
    work = tmp_path_factory.mktemp("packaging")
    source = copy_source(work / "source")
    dist = work / "dist"
    root = work / "venv"
    env = clean_env()
    uv = shutil.which("uv")
    if uv:
        checked(
            [uv, "build", "--wheel", "--out-dir", dist, source], "uv build", env, BUILD_TIMEOUT_S
        )
        checked([uv, "venv", "--quiet", "-p", sys.executable, root], "uv venv", env, 300)
    else:
        checked([sys.executable, "-m", "venv", root], "python -m venv", env, 300)
        pip: list[str | Path] = [root / "bin" / "python", "-m", "pip"]
        checked([*pip, "wheel", "--no-deps", "-w", dist, source], "pip wheel", env, BUILD_TIMEOUT_S)
    wheels = sorted(dist.glob("cairn-*.whl"))
    assert len(wheels) == 1, f"expected one cairn wheel in {dist}; got {wheels}"
    wheel = wheels[0]
    install: list[str | Path]
    if uv:
        install = [uv, "pip", "install", "--python", root / "bin" / "python", wheel]
    else:
        install = [root / "bin" / "python", "-m", "pip", "install", wheel]
    checked(install, "installing the wheel", env, INSTALL_TIMEOUT_S)
    env["VIRTUAL_ENV"] = str(root)
    env["PATH"] = f"{root / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    yield Venv(root=root, wheel=wheel, env=env)


# ----------------------------------------------------------------------------- declared deps


@dataclass(frozen=True)
class Declared:
    """The wheel's ``Requires-Dist``: core distributions and, per optional extra, its own."""

    core: frozenset[str]
    extras: dict[str, frozenset[str]]

    def extra_of(self, dists: frozenset[str]) -> str | None:
        """The feature extra (not dev/bench) declaring one of ``dists``, if any."""
        for extra, names in sorted(self.extras.items()):
            if extra not in TOOLING_EXTRAS and names & dists:
                return extra
        return None


def declared(wheel: Path) -> Declared:
    """Parse ``Requires-Dist`` from the wheel's METADATA (``name[extras]>=x; extra == "e"``)."""
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        text = zf.read(name).decode()
    core: set[str] = set()
    extras: dict[str, set[str]] = {}
    for line in text.splitlines():
        if not line.startswith("Requires-Dist:"):
            continue
        spec = line.split(":", 1)[1].strip()
        match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", spec)
        assert match, f"unreadable Requires-Dist line in {wheel.name}: {line!r}"
        extra = re.search(r"""extra\s*==\s*['"]([^'"]+)['"]""", spec)
        target = extras.setdefault(extra.group(1), set()) if extra else core
        target.add(normalize(match.group(0)))
    return Declared(frozenset(core), {k: frozenset(v) for k, v in extras.items()})


def wheel_modules(wheel: Path) -> dict[str, str]:
    """Every module of the wheel's ``cairn`` package (``__main__`` left out: importing it runs
    the command) and its source."""
    out: dict[str, str] = {}
    with zipfile.ZipFile(wheel) as zf:
        for name in zf.namelist():
            if not (name.startswith("cairn/") and name.endswith(".py")):
                continue
            parts = name[: -len(".py")].split("/")
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if parts[-1] == "__main__":
                continue
            out[".".join(parts)] = zf.read(name).decode()
    return dict(sorted(out.items()))


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def runtime_imports(source: str) -> set[str]:
    """Top-level names of every absolute import in ``source``, wherever it sits (function
    bodies included), except under ``if TYPE_CHECKING:``."""
    names: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for branch in node.orelse:
                visit(branch)
            return
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(source))
    return names - set(sys.stdlib_module_names) - {"cairn"}


# ----------------------------------------------------------------------------- tests


def test_the_wheel_imports_and_prints_its_version(venv: Venv) -> None:
    where = venv.python_json(
        """
        import json
        import cairn
        import cairn.cli.main
        print(json.dumps(cairn.__file__))
        """
    )
    assert isinstance(where, str) and where.startswith(str(venv.root)), (
        f"cairn was imported from {where}, not from the venv {venv.root}"
    )
    done = venv.run(venv.cairn, "version")
    assert done.returncode == 0, done.stderr
    wheel_version = venv.wheel.name.split("-")[1]
    assert done.stdout.strip() == wheel_version


ENUMERATE_COMMANDS = """
    import json
    import typer.main
    from cairn.cli.main import app

    def walk(command, path):
        yield path
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            yield from walk(sub, [*path, name])

    print(json.dumps(list(walk(typer.main.get_command(app), []))))
"""


def test_every_command_prints_its_help(venv: Venv) -> None:
    paths = venv.python_json(ENUMERATE_COMMANDS)
    assert isinstance(paths, list) and [] in paths and ["version"] in paths, paths
    groups = {p[0] for p in paths if len(p) > 1}
    assert groups, f"no command group found in {paths}"

    def help_of(path: list[str]) -> str | None:
        done = venv.run(venv.cairn, *path, "--help")
        if done.returncode == 0 and "Usage" in done.stdout:
            return None
        return f"cairn {' '.join(path)} --help: exit {done.returncode}\n{done.stderr[-1500:]}"

    with ThreadPoolExecutor(max_workers=2) as pool:
        failures = [f for f in pool.map(help_of, paths) if f]
    assert not failures, f"{len(failures)} of {len(paths)} --help calls failed:\n" + "\n".join(
        failures
    )


IMPORT_EVERY_MODULE = """
    import importlib, json, sys, traceback
    from cairn.core.errors import DependencyMissingError

    outcome = {}
    for module in json.loads(sys.argv[1]):
        try:
            importlib.import_module(module)
        except BaseException as exc:  # a module must not exit or crash on import either
            root = exc
            while root.__cause__ is not None:
                root = root.__cause__
            outcome[module] = {
                "type": type(exc).__name__,
                "dependency_missing": isinstance(exc, DependencyMissingError),
                "missing": getattr(root, "name", None),
                "message": str(exc)[:500],
                "where": traceback.format_exc(limit=-3)[-1500:],
            }
        else:
            outcome[module] = None
    print(json.dumps(outcome))
"""


def test_every_module_imports_or_names_its_extra(venv: Venv) -> None:
    modules = list(wheel_modules(venv.wheel))
    done = venv.run(venv.python, "-c", textwrap.dedent(IMPORT_EVERY_MODULE), json.dumps(modules))
    assert done.returncode == 0, done.stderr[-4000:]
    outcome: dict[str, dict[str, object] | None] = json.loads(done.stdout.strip().splitlines()[-1])
    optional = {
        "redis": "redis",
        "hiredis": "redis",
        "psycopg": "postgres",
        "confluent_kafka": "kafka",
        "pyspark": "spark",
    }
    needs_extra: list[str] = []
    problems: list[str] = []
    for module, failure in outcome.items():
        if failure is None:
            continue
        missing = str(failure["missing"] or "").split(".")[0]
        extra = optional.get(missing)
        if extra and failure["dependency_missing"] and f"cairn[{extra}]" in str(failure["message"]):
            needs_extra.append(f"{module} -> cairn[{extra}]")
        elif extra:
            problems.append(
                f"{module}: without the {extra!r} extra it raises {failure['type']}, expected "
                f"DependencyMissingError naming cairn[{extra}]: {failure['message']}"
            )
        else:
            problems.append(
                f"{module}: {failure['type']}: {failure['message']} (a runtime dependency missing "
                f"from [project.dependencies]?)\n{failure['where']}"
            )
    print(f"{len(outcome)} modules; needing an extra: {needs_extra or 'none'}")
    assert not problems, f"{len(problems)} of {len(outcome)} modules fail to import:\n" + "\n".join(
        problems
    )


def test_every_runtime_import_is_declared(venv: Venv) -> None:
    wanted = declared(venv.wheel)
    # Import name -> distributions, from the bare venv and from this (dev) environment, which
    # also holds the optional extras' packages.
    owners: dict[str, set[str]] = {}
    venv_map = venv.python_json(
        "import importlib.metadata as m, json; print(json.dumps(m.packages_distributions()))"
    )
    assert isinstance(venv_map, dict)
    for mapping in (venv_map, importlib.metadata.packages_distributions()):
        for top, dists in mapping.items():
            owners.setdefault(top, set()).update(normalize(d) for d in dists)
    undeclared: dict[str, list[str]] = {}
    for module, source in wheel_modules(venv.wheel).items():
        for top in sorted(runtime_imports(source)):
            dists = frozenset(owners.get(top, {normalize(top)}))
            if dists & wanted.core or wanted.extra_of(dists):
                continue
            undeclared.setdefault(f"{top} ({', '.join(sorted(dists))})", []).append(module)
    assert not undeclared, "imported but not declared in [project.dependencies]:\n" + "\n".join(
        f"  {name}: {', '.join(mods[:4])}{' ...' if len(mods) > 4 else ''}"
        for name, mods in sorted(undeclared.items())
    )
