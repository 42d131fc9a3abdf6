"""Shared test helpers: where the repository and the read-only shared data live, how a test lints
files (in process or through the CLI), and the manifest templates several modules build on."""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from scalelint.check.registry import Registry
from scalelint.cli import main
from scalelint.config import Config
from scalelint.findings import Finding
from scalelint.pipeline import Options, Run, run

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


@pytest.fixture
def root() -> Path:
    return ROOT


REGISTRY = Registry.load()


def pos(text: str, needle: str) -> tuple[int, int]:
    """1-based (line, column) of the first occurrence of ``needle``: expected positions are
    written as the text they point at, not as numbers that drift when a fixture changes."""
    at = text.index(needle)
    return text.count("\n", 0, at) + 1, at - (text.rfind("\n", 0, at) + 1) + 1


def write(tmp_path: Path, files: dict[str, str]) -> dict[str, str]:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return dict(files)


def lint(tmp_path: Path, files: dict[str, str], config: Config | None = None) -> Run:
    """Write ``files`` and lint the YAML among them (``.env`` and friends are read as the project's)."""
    write(tmp_path, files)
    yaml_files = [str(tmp_path / n) for n in files if n.endswith((".yaml", ".yml"))]
    return run(Options(paths=yaml_files), config or Config(), REGISTRY)


def lint_paths(paths: Iterable[str] | str, config: Config | None = None, **options: Any) -> Run:
    """Lint files or directories in this process, with one job (``options`` are :class:`Options` fields)."""
    names = [paths] if isinstance(paths, str) else list(paths)
    options.setdefault("jobs", 1)
    return run(Options(paths=names, **options), config or Config(), REGISTRY)


def findings(r: Run, code: str) -> list[Finding]:
    return [f for f in r.result.findings if f.code == code]


def invoke(*args: str) -> tuple[int, str, str]:
    """Run the CLI through click's runner: (exit code, stdout, stderr); a crash is re-raised, not hidden."""
    result = CliRunner().invoke(main, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository root (``.git``) as the working directory, so config discovery never leaves the
    test's tree, and no CI or colour variable of the shell running the tests changes the output."""
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    for var in ("GITHUB_ACTIONS", "FORCE_COLOR", "NO_COLOR"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


def workers_of(r: Run, name: str = "api") -> Any:
    """The worker count fact of the first app container of workload ``name``."""
    for group, facts in zip(r.groups, r.facts):
        for wl in group.workloads:
            if wl.name == name:
                return facts.workers(wl, wl.app_containers[0])
    raise AssertionError(f"no workload {name}")


#: a Deployment ``api`` with one container; ``{body}`` goes under the container (indent 10)
K8S_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 1
  selector:
    matchLabels: {{app: api}}
  template:
    metadata:
      labels: {{app: api}}
    spec:
      containers:
        - name: api
          image: example/api:1.0
{body}
"""

#: a compose service ``api``; ``{body}`` goes under the service (indent 4)
COMPOSE_SERVICE = """\
services:
  api:
    image: example/api:1.0
{body}
"""

#: PostgreSQL in namespace ``db``: a StatefulSet ``postgres`` and the Service ``pg`` that selects it
POSTGRES_K8S = """\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: postgres
  namespace: db
spec:
  serviceName: postgres
  replicas: 1
  selector:
    matchLabels: {app: postgres}
  template:
    metadata:
      labels: {app: postgres}
    spec:
      containers:
        - name: postgres
          image: postgres:16
---
apiVersion: v1
kind: Service
metadata:
  name: pg
  namespace: db
spec:
  selector: {app: postgres}
  ports: [{port: 5432}]
"""
