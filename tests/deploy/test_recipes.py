"""The deployment recipes (``deploy/compose.yaml``, ``deploy/k8s/*.yaml``) stay in step with the
CLI and the settings: every Cairn command they run exists with the options they give it, every
``CAIRN_*`` variable they set is a setting Cairn reads, and the servers' ports meet where the
load balancer and the probes look for them."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml

from cairn.cli.main import app
from cairn.core.settings import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
MANIFESTS = sorted((DEPLOY / "k8s").glob("*.yaml"))
# variables Cairn reads besides the CAIRN_<SECTION>__<KEY> settings
OTHER_VARIABLES = {"CAIRN_DATABASE_URL", "CAIRN_ADMIN_TOKENS", "CAIRN_ADMIN_TOKEN",
                   "CAIRN_LOG_DURABILITY"}  # fmt: skip


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return loaded


def _containers() -> Iterator[tuple[str, dict[str, Any]]]:
    for path in MANIFESTS:
        for doc in yaml.safe_load_all(path.read_text()):
            spec = doc.get("spec", {})
            pod = spec.get("template", {}).get("spec") or (
                spec.get("jobTemplate", {}).get("spec", {}).get("template", {}).get("spec")
            )
            for container in (pod or {}).get("containers", []):
                yield f"{path.name}:{doc['metadata']['name']}", container


def _cairn_commands() -> list[tuple[str, list[str]]]:
    """Every ``cairn ...`` command line of the recipes, as argument lists."""
    found: list[tuple[str, list[str]]] = []
    for name, service in _compose()["services"].items():
        command = service.get("command")
        if isinstance(command, list) and command[:1] == ["cairn"]:
            found.append((f"compose:{name}", command[1:]))
        elif isinstance(command, list):  # a shell loop: the cairn commands inside it
            for line in re.findall(r"cairn [^;]+", " ".join(command)):
                found.append((f"compose:{name}", shlex.split(line)[1:]))
    for where, container in _containers():
        command = [*container.get("command", []), *container.get("args", [])]
        if command[:1] == ["cairn"]:
            found.append((where, command[1:]))
    return found


def _resolve(args: list[str]) -> tuple[Any, list[str]]:
    """The (sub)command ``args`` names and the arguments left for it (Typer may bring its own
    copy of click, so groups are known by their ``commands``)."""
    command: Any = typer.main.get_command(app)
    while hasattr(command, "commands") and args and not args[0].startswith("-"):
        sub = command.commands.get(args[0])
        assert sub is not None, f"cairn has no command {args[0]!r}"
        command, args = sub, args[1:]
    return command, args


def test_the_recipes_run_cairn_in_every_role() -> None:
    roles = {" ".join(a[:2]) for _, a in _cairn_commands()}
    assert {"serve --repo", "deploy watch", "retrain watch", "stream run",
            "monitor run", "materialize-incremental --repo"} <= roles  # fmt: skip
    assert {where.split(":")[0] for where, _ in _cairn_commands()} >= {"compose"} | {
        p.name for p in MANIFESTS if p.name not in ("config.yaml", "stores.yaml")
    }


@pytest.mark.parametrize("where, args", _cairn_commands(), ids=lambda v: str(v)[:60])
def test_every_cairn_command_exists_with_its_options(where: str, args: list[str]) -> None:
    command, rest = _resolve(args)
    assert not hasattr(command, "commands"), f"{where}: {args} names a group, not a command"
    # parsing with click is what the real command line does (no callback is run)
    command.make_context(f"cairn {' '.join(args)}", list(rest), resilient_parsing=False)


def test_every_variable_is_one_cairn_reads() -> None:
    known = set(OTHER_VARIABLES)
    for section, fields in Settings.model_fields.items():
        for key in getattr(fields.annotation, "model_fields", {}):
            known.add(f"CAIRN_{section.upper()}__{key.upper()}")
    given = set(_compose()["x-cairn"]["environment"])
    for _, doc in [(p, d) for p in MANIFESTS for d in yaml.safe_load_all(p.read_text())]:
        if doc["kind"] in ("ConfigMap", "Secret"):
            given |= set(doc.get("data") or {}) | set(doc.get("stringData") or {})
    assert given and given <= known, sorted(given - known)


def test_the_balancer_and_the_probes_find_the_servers_port() -> None:
    serve = _compose()["services"]["serve"]["command"]
    port = serve[serve.index("--port") + 1]
    assert f"server serve:{port}" in (DEPLOY / "nginx.conf").read_text()
    assert f"listen {port};" in (DEPLOY / "nginx.conf").read_text()
    [(_, container)] = [(w, c) for w, c in _containers() if w.endswith(":cairn-serve")]
    k8s_port = container["command"][container["command"].index("--port") + 1]
    assert container["ports"][0]["containerPort"] == int(k8s_port)
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": int(k8s_port)}


def test_nginx_closes_idle_connections_to_the_servers_before_they_do() -> None:
    """A server (uvicorn) closes a keep-alive connection idle for ``timeout_keep_alive``
    seconds; a POST nginx sends on it at that moment gets a 502 that is never retried. nginx
    must give up idle upstream connections first."""
    import uvicorn

    found = re.search(r"^\s*keepalive_timeout\s+(\d+)s;", (DEPLOY / "nginx.conf").read_text(), re.M)
    assert found, "deploy/nginx.conf's upstream needs keepalive_timeout (seconds)"
    assert int(found.group(1)) < uvicorn.Config(app="cairn:app").timeout_keep_alive
