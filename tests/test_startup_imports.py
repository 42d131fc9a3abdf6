"""A run imports the readers it needs and no others.

A pre-commit hook starts scalelint on every commit, usually for one or two manifests, and most of
that run is import time. The launch-chain readers (Dockerfile, shell scripts, ``gunicorn.conf.py``,
the application's Python) and the pooler readers are imported when a file needs them: a workload
with a build context, a ``sh -c``, a config file, a pooler image. These tests run the CLI in a fresh
interpreter and look at ``sys.modules`` afterwards.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

#: readers a plain Deployment (a command line, no build context, no pooler) must not import
LAZY = (
    "scalelint.sources.python",
    "scalelint.sources.script",
    "scalelint.sources.dockerfile",
    "scalelint.sources.servers_python",
    "scalelint.sources.poolers.images",
    "scalelint.sources.poolers.arithmetic",
)

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  replicas: 2
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
        - name: api
          image: example/api:1
          command: ["gunicorn", "--workers", "4", "app:app"]
          resources:
            requests: {cpu: "1", memory: 1Gi}
            limits: {cpu: "2", memory: 2Gi}
"""

COMPOSE = """\
services:
  api:
    build: ./api
    environment:
      DATABASE_URL: postgresql://app@pgbouncer:6432/app
  pgbouncer:
    image: bitnami/pgbouncer:1.22
    environment:
      POSTGRESQL_HOST: db
  db:
    image: postgres:16
"""


def imported_after(cwd: Path, *args: str) -> set[str]:
    """The ``scalelint`` modules loaded once ``scalelint ARGS`` has run in a fresh interpreter."""
    code = ("import sys, scalelint.cli as c\n"
            f"try:\n    c.main({list(args)!r})\nexcept SystemExit:\n    pass\n"
            "print('MODULES', ' '.join(sorted(m for m in sys.modules if m.startswith('scalelint'))))")
    proc = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, cwd=cwd,
                          timeout=120)
    line = [x for x in proc.stdout.splitlines() if x.startswith("MODULES ")]
    assert line, proc.stdout + proc.stderr
    return set(line[-1].split()[1:])


def test_a_plain_deployment_imports_no_source_or_pooler_reader(tmp_path: Path) -> None:
    (tmp_path / "api.yaml").write_text(DEPLOYMENT)
    modules = imported_after(tmp_path, "check", "--isolated", "api.yaml")
    assert "scalelint.sources.chain" in modules  # the command line itself is read
    assert not {m for m in modules for lazy in LAZY if m == lazy or m.startswith(lazy + ".")}


@pytest.mark.parametrize("flag, expected", [
    ([], set(LAZY) - {"scalelint.sources.servers_python", "scalelint.sources.script"}),
    (["--no-sources"], {"scalelint.sources.poolers.images", "scalelint.sources.poolers.arithmetic"}),
])
def test_readers_are_imported_when_a_file_needs_them(tmp_path: Path, flag: list[str], expected: set[str]) -> None:
    """A build context brings the Dockerfile and Python readers, a pooler image the pooler readers;
    ``--no-sources`` leaves the build context alone."""
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "Dockerfile").write_text('FROM python:3.12\nCMD ["uvicorn", "main:app", "--workers", "2"]\n')
    (tmp_path / "api" / "main.py").write_text("from sqlalchemy import create_engine\n"
                                              "engine = create_engine('postgresql://x', pool_size=3)\n")
    modules = imported_after(tmp_path, "check", "--isolated", *flag, "compose.yaml")
    lazy_loaded = {lazy for lazy in LAZY if lazy in modules}
    assert lazy_loaded == expected
