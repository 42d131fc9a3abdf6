"""``scalelint report`` (SPEC §5): the capacity table as text, JSON and Markdown.

Runs from inside the project directory with relative paths, as a user would, so the
output is byte-exact and can be compared whole.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from scalelint.analyze.capacity import ClientRow, DatabaseRow, GroupReport, group_report
from scalelint.check.registry import Registry
from scalelint.config import Config
from scalelint.output.report import render_json, render_markdown, render_text
from scalelint.pipeline import Options, run

REGISTRY = Registry.load()

WORKED = """\
services:
  api:
    image: example/api:1.0
    command: uvicorn app.main:app --host 0.0.0.0 --workers ${UVICORN_WORKERS:-4}
    deploy:
      replicas: 3
    environment:
      DATABASE_URL: postgresql+asyncpg://app:secret@postgres:5432/app
      DB_POOL_SIZE: ${DB_POOL_SIZE:-15}
      DB_MAX_OVERFLOW: ${DB_MAX_OVERFLOW:-10}
  worker:
    image: example/api:1.0
    command: celery -A app worker -c 2
    environment:
      DATABASE_URL: postgresql://app:secret@postgres:5432/app
  postgres:
    image: postgres:16
"""

K8S = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
spec:
  template:
    spec:
      containers:
        - name: api
          image: example/api:1.0
          command: ["gunicorn", "--workers", "4", "app:app"]
          env:
            - {name: DATABASE_URL, value: "postgresql://app@pg.db/app"}
            - {name: DB_POOL_SIZE, value: "2"}
            - {name: DB_MAX_OVERFLOW, value: "2"}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: api
  namespace: shop
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
  minReplicas: 2
  maxReplicas: 5
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: report
  namespace: shop
spec:
  schedule: "0 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
            - name: report
              image: example/api:1.0
              command: ["python", "-m", "jobs.report"]
              env:
                - {name: PGHOST, value: pg.db.svc.cluster.local}
                - name: DB_POOL_SIZE
                  valueFrom: {secretKeyRef: {name: report, key: pool}}
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: postgres
  namespace: db
spec:
  selector: {matchLabels: {app: pg}}
  template:
    metadata: {labels: {app: pg}}
    spec:
      containers:
        - name: postgres
          image: postgres:16
          args: ["-c", "max_connections=90"]
---
apiVersion: v1
kind: Service
metadata: {name: pg, namespace: db}
spec:
  selector: {app: pg}
"""


def report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str],
           config: Config | None = None) -> list[GroupReport]:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    r = run(Options(paths=sorted(files)), config or Config(), REGISTRY)
    return [group_report(g, f) for g, f in zip(r.groups, r.facts)]


# --- text ---------------------------------------------------------------------------------------

def test_text_worked_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    groups = report(tmp_path, monkeypatch, {"compose.yaml": WORKED})
    assert render_text(groups) == (
        "== compose.yaml (compose)\n"
        "postgres (postgresql): max_connections 100 (default), reserved 3, available 97, demand 330, "
        "headroom -233 [OVER]\n"
        "  workload  replicas  workers  pool+overflow     conns/replica  connections  max replicas that fit\n"
        "  api       3         4        15 + 10           100            300          0\n"
        "  worker    1         2        5 + 10 (assumed)  30             30           0\n"
    )


def test_text_fitting_budget_names_the_largest_replica_counts(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    text = WORKED.replace("image: postgres:16", "image: postgres:16\n    command: postgres -c max_connections=500")
    groups = report(tmp_path, monkeypatch, {"compose.yaml": text})
    lines = render_text(groups).splitlines()
    assert lines[1] == ("postgres (postgresql): max_connections 500, reserved 3, available 497, demand 330, "
                        "headroom 167 [ok]")
    # api: (497 − 30) // 100 = 4; worker: (497 − 300) // 30 = 6
    assert lines[3] == "  api       3         4        15 + 10           100            300          4"
    assert lines[4] == "  worker    1         2        5 + 10 (assumed)  30             30           6"


def test_text_kubernetes_unknowns_marked_with_reasons(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    groups = report(tmp_path, monkeypatch, {"k8s.yaml": K8S})
    assert render_text(groups) == (
        "== kubernetes (kubernetes)\n"
        "postgres (postgresql): max_connections 90, reserved 3, available 87, demand 80+, headroom 7 [unknown]\n"
        "  workload     replicas   workers  pool+overflow     conns/replica  connections  max replicas that fit\n"
        "  shop/api     2–5 (HPA)  4        2 + 2             16             80           ?\n"
        "  shop/report  1          1        ? + 10 (assumed)  ?              ?            ?\n"
        "  ? shop/report: DB_POOL_SIZE: from Secret report\n"
    )


def test_text_unknown_max_connections_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = WORKED.replace("image: postgres:16",
                          "image: postgres:16\n    command: postgres -c max_connections=$${PG_MAX}")
    groups = report(tmp_path, monkeypatch, {"compose.yaml": text})
    out = render_text(groups)
    assert "max_connections ?, reserved 3, available ?, demand 330, headroom ? [unknown]" in out
    assert "  ? postgres: -c max_connections: PG_MAX is not set in the container's environment\n" in out
    [db] = groups[0].databases
    assert db.status == "unknown" and db.unknown == (
        "-c max_connections: PG_MAX is not set in the container's environment",)


def test_text_zero_pool_fits_any_replica_count(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = WORKED.replace("${DB_POOL_SIZE:-15}", '"0"').replace("${DB_MAX_OVERFLOW:-10}", '"0"')
    groups = report(tmp_path, monkeypatch, {"compose.yaml": text})
    api = next(line for line in render_text(groups).splitlines() if line.startswith("  api"))
    assert api.split() == ["api", "3", "4", "0", "+", "0", "0", "0", "any"]


def test_text_nothing_to_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    groups = report(tmp_path, monkeypatch, {"compose.yaml": "services:\n  web:\n    image: nginx\n"})
    assert render_text(groups) == "no database clients found: nothing to budget\n"
    assert render_markdown(groups).endswith("No database clients found: nothing to budget.\n")
    assert json.loads(render_json(groups, "9.9"))["groups"] == []


def test_a_database_nobody_reaches_is_listed_with_demand_0(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A client whose link cannot be read (here: an env file that is missing) leaves its database
    idle in the files: it is shown, not dropped, so the reader sees the link is missing."""
    text = ("services:\n  web:\n    image: example/web:1\n    env_file: .env\n"
            "  db:\n    image: postgres:16\n")
    groups = report(tmp_path, monkeypatch, {"compose.yaml": text})
    assert render_text(groups) == (
        "== compose.yaml (compose)\n"
        "db (postgresql): max_connections 100 (default), reserved 3, available 97, demand 0, headroom 97 [ok]\n"
        "  no client in the files linted connects to it (see the notices for links that could not be read)\n")
    assert "No client in the files linted connects to it" in render_markdown(groups)
    [db] = json.loads(render_json(groups, "9.9"))["groups"][0]["databases"]
    assert (db["clients"], db["demand"], db["status"]) == ([], 0, "ok")


# --- markdown -----------------------------------------------------------------------------------

def _table(md: str) -> list[list[str]]:
    rows = [line for line in md.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]


def test_markdown_worked_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    groups = report(tmp_path, monkeypatch, {"compose.yaml": WORKED})
    assert render_markdown(groups) == (
        "## scalelint capacity report\n"
        "\n"
        "### ❌ `postgres` — demand 330 of 97 available\n"
        "\n"
        "postgresql, max_connections 100 (default) − 3 reserved; headroom **-233** · `compose.yaml`\n"
        "\n"
        "| workload | replicas | workers | pool + overflow | connections | max replicas that fit |\n"
        "|---|---:|---:|---:|---:|---:|\n"
        "| `api` | 3 | 4 | 15 + 10 | 300 | 0 |\n"
        "| `worker` | 1 | 2 | 5 + 10 (assumed) | 30 | 0 |\n"
    )


def test_markdown_is_a_github_table_with_unknowns_listed(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    groups = report(tmp_path, monkeypatch, {"k8s.yaml": K8S})
    md = render_markdown(groups)
    table = _table(md)
    header, separator, *rows = table
    assert header == ["workload", "replicas", "workers", "pool + overflow", "connections", "max replicas that fit"]
    # GitHub's table syntax: a separator row of dashes (colons for alignment), as many cells as the header
    assert len(separator) == len(header) and all(set(c) <= set("-:") and "---" in c for c in separator)
    assert all(len(r) == len(header) for r in rows)
    assert rows == [
        ["`shop/api`", "2–5 (HPA)", "4", "2 + 2", "80", "?"],
        ["`shop/report`", "1", "1", "? + 10 (assumed)", "?", "?"],
    ]
    # the table is a block of its own: a blank line before the header, none inside
    lines = md.splitlines()
    start = lines.index("| " + " | ".join(header) + " |")
    assert lines[start - 1] == ""
    assert "### ❔ `postgres` — demand 80+ of 87 available" in lines
    assert lines[-2:] == ["Unknown values (not counted):", "- `shop/report`: DB_POOL_SIZE: from Secret report"]


# --- json ---------------------------------------------------------------------------------------

GROUP_KEYS = {"id", "kind", "databases", "poolers"}
DATABASE_KEYS = {"name", "engine", "max_connections", "max_connections_source", "reserved", "available", "demand",
                 "complete", "headroom", "status", "location", "clients", "unknown", "poolers"}
CLIENT_KEYS = {"workload", "kind", "namespace", "database", "replicas_min", "replicas_max", "hpa", "workers", "pool",
               "overflow", "connection_limit", "pool_assumed", "per_replica", "connections", "largest_replicas",
               "location", "unknown", "threads", "per_worker", "pool_description", "process_groups",
               *(f"{k}_{what}" for k in ("replicas", "workers", "threads", "per_worker", "per_replica")
                 for what in ("source", "status"))}
ROW_ONLY = {"sources", "statuses", "groups", "pool_text"}


def test_json_shape_is_stable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    groups = report(tmp_path, monkeypatch, {"compose.yaml": WORKED})
    doc = json.loads(render_json(groups, "1.2.3"))
    assert set(doc) == {"version", "tool", "groups"}
    assert doc["version"] == 1 and doc["tool"] == {"name": "scalelint", "version": "1.2.3"}
    [group] = doc["groups"]
    assert set(group) == GROUP_KEYS and (group["id"], group["kind"]) == ("compose.yaml", "compose")
    [db] = group["databases"]
    assert set(db) == DATABASE_KEYS
    assert {k: v for k, v in db.items() if k != "clients"} == {
        "name": "postgres", "engine": "postgresql", "max_connections": 100,
        "max_connections_source": "postgresql default max_connections 100", "reserved": 3, "available": 97,
        "demand": 330, "complete": True, "headroom": -233, "status": "over", "location": "compose.yaml:16:3",
        "unknown": [], "poolers": [],
    }
    assert group["poolers"] == []
    api, worker = db["clients"]
    assert all(set(c) == CLIENT_KEYS for c in db["clients"])
    assert api == {
        "workload": "api", "kind": "service", "namespace": None, "database": "postgres",
        "replicas_min": 3, "replicas_max": 3, "hpa": False, "workers": 4, "pool": 15, "overflow": 10,
        "connection_limit": None, "pool_assumed": False, "per_replica": 100, "connections": 300,
        "largest_replicas": 0, "location": "compose.yaml:2:3", "unknown": [],
        "threads": None, "per_worker": 25, "pool_description": "(15 pool + 10 overflow)", "process_groups": [],
        "replicas_source": "compose.yaml:6:7", "replicas_status": "known",
        "workers_source": "compose.yaml:4:79", "workers_status": "known",
        "threads_source": None, "threads_status": None,
        "per_worker_source": "compose.yaml:9:21", "per_worker_status": "known",
        "per_replica_source": None, "per_replica_status": "known",
    }
    assert (worker["pool"], worker["overflow"], worker["pool_assumed"], worker["connections"]) == (5, 10, True, 30)
    # the dataclasses and the JSON agree, field for field
    assert set(DatabaseRow.__dataclass_fields__) == DATABASE_KEYS
    assert set(ClientRow.__dataclass_fields__) - ROW_ONLY < CLIENT_KEYS


def test_json_kubernetes_unknowns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    groups = report(tmp_path, monkeypatch, {"k8s.yaml": K8S})
    [db] = json.loads(render_json(groups, "0"))["groups"][0]["databases"]
    assert (db["status"], db["complete"], db["demand"], db["location"]) == ("unknown", False, 80, "k8s.yaml:61:24")
    api, job = db["clients"]
    assert (api["namespace"], api["replicas_min"], api["replicas_max"], api["hpa"]) == ("shop", 2, 5, True)
    assert (job["kind"], job["pool"], job["per_replica"], job["connections"]) == ("CronJob", None, "unknown", None)
    assert (job["per_worker"], job["per_worker_status"]) == ("unknown", "unknown")
    assert job["unknown"] == ["DB_POOL_SIZE: from Secret report"]


def test_connection_limit_column(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = WORKED.replace("postgres:5432/app\n      DB_POOL_SIZE", "postgres:5432/app?connection_limit=6\n      X")
    groups = report(tmp_path, monkeypatch, {"compose.yaml": text})
    api = groups[0].databases[0].clients[0]
    assert (api.connection_limit, api.pool, api.overflow, api.per_replica) == (6, None, None, 24)
    assert "| `api` | 3 | 4 | limit 6 | 72 |" in render_markdown(groups)


def test_output_is_deterministic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = {"k8s.yaml": K8S}
    first = report(tmp_path, monkeypatch, files)
    second = report(tmp_path, monkeypatch, files)
    for render in (render_text, render_markdown, lambda g: render_json(g, "0")):
        assert render(first) == render(second)


def test_tight_status(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # 3 × 4 × 8 = 96 of 97: above 0.9, not over
    text = WORKED.replace("${DB_POOL_SIZE:-15}", '"5"').replace("${DB_MAX_OVERFLOW:-10}", '"3"') \
        .replace("celery -A app worker -c 2", "celery -A app worker -c 0")
    groups = report(tmp_path, monkeypatch, {"compose.yaml": text})
    [db] = groups[0].databases
    assert (db.demand, db.status) == (96, "tight")
    assert "[tight]" in render_text(groups)
    assert "### ⚠️ `postgres` — demand 96 of 97 available" in render_markdown(groups)
