"""Poolers in the budget (SPEC §9), end to end: clients → pooler → database, the rules SL007/SL008/SL009,
the report's chain, and bad input.

Each test states its arithmetic so that a reviewer can check it by hand. The rules, as implemented:

    clients' demand on P   = Σ over P's clients C of max_replicas(C) × workers(C) × per_worker(C)
    server(P, D)           = per replica, the pools of P's clients that reach D:
                             Σ (pool_size + reserve_pool_size), capped by max_db_connections / max_user_connections
    share(P, D)            = min(demand of the clients that reach D, replicas(P) × server(P, D))
    demand(D)              = Σ direct clients + Σ share(P, D)
    SL007                  : demand on P > replicas(P) × max_client_conn
    SL008 (session pools)  : demand on the pool > replicas(P) × (pool_size + reserve_pool_size)
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import REGISTRY, findings, lint, pos
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scalelint.analyze.budget import Client, PoolerLoad, PoolerShare
from scalelint.analyze.capacity import group_report
from scalelint.analyze.links import Endpoint, Pool
from scalelint.analyze.poolers import Pooler
from scalelint.config import Config
from scalelint.findings import Loc
from scalelint.model import Workload, known, unknown
from scalelint.output.report import render_json, render_markdown, render_text
from scalelint.pipeline import Options, run
from scalelint.sources.poolers import PoolerSettings

# ============================================================================================
# the worked example of the issue
# ============================================================================================

WORKED = """\
services:
  api:
    image: acme/api:1.0
    command: uvicorn app.main:app --workers 4
    deploy:
      replicas: 3
    environment:
      DATABASE_URL: postgresql+asyncpg://app:secret@pgbouncer:6432/app
      DB_POOL_SIZE: "15"
      DB_MAX_OVERFLOW: "10"
  worker:
    image: acme/api:1.0
    command: celery -A app worker -c 4
    environment:
      DATABASE_URL: postgresql://app:secret@postgres/app
      DB_POOL_SIZE: "{worker_pool}"
      DB_MAX_OVERFLOW: "5"
  pgbouncer:
    image: bitnami/pgbouncer:1.23.1
    deploy:
      replicas: 2
    environment:
      POSTGRESQL_HOST: postgres
      POSTGRESQL_PASSWORD: secret
      PGBOUNCER_DATABASE: app
      PGBOUNCER_POOL_MODE: transaction
      PGBOUNCER_MAX_CLIENT_CONN: "1000"
  postgres:
    image: postgres:16
"""


def _only(tmp_path: Path, files: dict[str, str], *codes: str) -> object:
    config = Config()
    config.select = list(codes)
    return lint(tmp_path, files, config)


def test_worked_example_message_names_pooler_and_direct_clients(tmp_path: Path) -> None:
    # pgbouncer: 2 replicas × (20 pool + 0 reserve) = 40 (PgBouncer's default pool, one pool: app/app)
    # api → pgbouncer: 3 × 4 × (15 + 10) = 300; worker → postgres: 1 × 4 × (30 + 5) = 140
    # postgres: 40 + 140 = 180 > 97
    text = WORKED.format(worker_pool=30)
    r = _only(tmp_path, {"compose.yaml": text}, "SL003")
    [f] = findings(r, "SL003")
    assert f.message.startswith(
        "postgres: demand 180 > 97 available (max_connections 100 − 3 reserved): pgbouncer 2 replicas × "
        "(20 pool + 0 reserve) = 40 for api 3 replicas × 4 workers × (15 pool + 10 overflow) = 300; "
        "worker 1 replica × 4 workers × (30 pool + 5 overflow) = 140")
    related = {(x.line, x.column): x.message for x in f.related}
    assert related[pos(text, "replicas: 2")] == "pgbouncer: 2 replicas"
    assert related[pos(text, '"30"')] == "worker: pool size 30"
    # the pooler's pool decides its share: api's own settings are not what to change
    assert pos(text, '"15"') not in related
    # 97 − 40 = 57 for the worker's 4 processes: 14 each; 97 − 140 < 0: no pgbouncer pool fits
    assert f.fix is not None and f.fix.startswith("set DB_POOL_SIZE + DB_MAX_OVERFLOW ≤ 14 per worker")
    assert "put PgBouncer in front" not in f.fix


def test_the_pooler_is_not_a_client_of_its_database(tmp_path: Path) -> None:
    # before poolers were modelled, pgbouncer's POSTGRESQL_HOST made it postgres's client
    r = lint(tmp_path, {"compose.yaml": WORKED.format(worker_pool=5)})
    [b] = r.facts[0].budgets
    assert [c.workload.name for c in b.clients] == ["worker"]
    assert [(s.pooler.name, [c.workload.name for c in s.clients]) for s in b.poolers] == [("pgbouncer", ["api"])]
    # 40 + 1 × 4 × (5 + 5) = 80
    assert (b.demand, b.complete) == (80, True)


def test_clients_that_need_less_than_the_pool_bind(tmp_path: Path) -> None:
    # api → pgbouncer: 1 × 2 × (5 + 5) = 20; pgbouncer's pool 90 → min(20, 90) = 20
    text = WORKED.format(worker_pool=5).replace("replicas: 3", "replicas: 1").replace("--workers 4", "--workers 2") \
        .replace('"15"', '"5"').replace('"10"', '"5"').replace("replicas: 2\n", "replicas: 1\n") \
        .replace("PGBOUNCER_MAX_CLIENT_CONN", "PGBOUNCER_DEFAULT_POOL_SIZE: \"90\"\n      PGBOUNCER_MIN_POOL_SIZE")
    r = lint(tmp_path, {"compose.yaml": text})
    [b] = r.facts[0].budgets
    [share] = b.poolers
    assert (share.client_demand, share.cap, share.demand, share.binds) == (20, 90, 20, "clients")
    assert share.formula() == ("pgbouncer 20 of 1 replica × (90 pool + 0 reserve) = 90 for api 1 replica × "
                               "2 workers × (5 pool + 5 overflow) = 20")


# ============================================================================================
# the share's arithmetic, against brute force
# ============================================================================================

_LOC = Loc("x.yaml", 1, 1)


def _client(name: str, replicas: int, workers: int | None, per: int) -> Client:
    wl = Workload(kind="Deployment", name=name, namespace="default", path="x.yaml", loc=_LOC, replicas=known(1, _LOC))
    pool = Pool(known(per, _LOC), known(0, _LOC), None, "DB_POOL_SIZE", "DB_MAX_OVERFLOW")
    return Client(wl, known(replicas, _LOC), known(1, _LOC), workers, [], pool, Endpoint("p", "DB_HOST", _LOC, {}))


def _pooler(replicas: int | None, max_client_conn: int = 100) -> Pooler:
    s = PoolerSettings("pgbouncer", "generic")
    s.max_client_conn = known(max_client_conn, _LOC)
    reps = known(replicas, _LOC) if replicas is not None else unknown(_LOC, "DaemonSet")
    return Pooler("p", s, _LOC, None, "x.yaml", "default", reps)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10), st.one_of(st.none(), st.integers(0, 8)), st.integers(0, 30)),
                max_size=4),
       st.one_of(st.none(), st.integers(1, 6)), st.one_of(st.none(), st.integers(0, 80)))
def test_share_is_min_of_clients_and_cap(specs: list, replicas: int | None, per_replica: int | None) -> None:
    clients = [_client(f"c{i}", r, w, p) for i, (r, w, p) in enumerate(specs)]
    server = known(per_replica, _LOC) if per_replica is not None else unknown(_LOC, "unreadable")
    share = PoolerShare(PoolerLoad(_pooler(replicas), clients), clients, server)
    known_demand = sum(r * w * p for r, w, p in specs if w is not None)
    all_known = all(w is not None for _, w, _ in specs)
    if replicas is None or per_replica is None:
        # the cap is unknown: nothing is counted, and the budget says "at least"
        assert (share.demand, share.complete) == (0, False)
        return
    cap = replicas * per_replica
    assert share.demand == min(known_demand, cap)
    # exact when every client is known, or when the known ones already reach the cap
    assert share.complete == (all_known or known_demand >= cap)
    # the SL007 side: demand against replicas × max_client_conn
    assert share.load.capacity == replicas * 100


def test_a_client_that_may_use_another_database_makes_the_share_partial() -> None:
    a, b = _client("a", 1, 1, 10), _client("b", 1, 1, 10)
    share = PoolerShare(PoolerLoad(_pooler(1), [a, b]), [a], known(50, _LOC), unrouted=[b])
    assert (share.demand, share.complete) == (10, False)  # b's 10 may or may not come here
    full = PoolerShare(PoolerLoad(_pooler(1), [a, b]), [a], known(5, _LOC), unrouted=[b])
    assert (full.demand, full.complete) == (5, True)  # a alone fills the pool of 5


# ============================================================================================
# routing: which database a client's traffic reaches
# ============================================================================================

TWO_DATABASES = """\
services:
  shop:
    image: acme/shop:1.0
    command: gunicorn shop.wsgi -w 2
    environment:
      DATABASE_URL: postgresql://shop@pgbouncer:6432/shop
      DB_POOL_SIZE: "10"
      DB_MAX_OVERFLOW: "0"
  billing:
    image: acme/billing:1.0
    command: gunicorn billing.wsgi -w 2
    environment:
      DATABASE_URL: postgresql://billing@pgbouncer:6432/billing
      DB_POOL_SIZE: "10"
      DB_MAX_OVERFLOW: "0"
  cron:
    image: acme/cron:1.0
    command: gunicorn cron.wsgi -w 1
    environment:
      DB_HOST: pgbouncer
      DB_PORT: "6432"
      DB_POOL_SIZE: "10"
      DB_MAX_OVERFLOW: "0"
  pgbouncer:
    image: edoburu/pgbouncer:v1.23.1-p2
    volumes:
      - ./pgbouncer.ini:/etc/pgbouncer/pgbouncer.ini:ro
  shop-db:
    image: postgres:16
  billing-db:
    image: postgres:16
"""

TWO_DATABASES_INI = """\
[databases]
shop = host=shop-db dbname=shop pool_size=15
billing = host=billing-db dbname=billing pool_size=5

[pgbouncer]
listen_port = 6432
pool_mode = transaction
"""


def test_clients_reach_the_database_of_their_entry(tmp_path: Path) -> None:
    # shop → shop-db: 1 × 2 × 10 = 20 client connections, pool 15 → 15
    # billing → billing-db: 20 client connections, pool 5 → 5
    # cron names no database: it may use either, so both budgets are lower bounds
    r = lint(tmp_path, {"compose.yaml": TWO_DATABASES, "pgbouncer.ini": TWO_DATABASES_INI})
    budgets = {b.database.name: b for b in r.facts[0].budgets}
    shop, billing = budgets["shop-db"].poolers[0], budgets["billing-db"].poolers[0]
    assert ([c.workload.name for c in shop.clients], [c.workload.name for c in shop.unrouted]) == (["shop"], ["cron"])
    assert ([c.workload.name for c in billing.clients], [c.workload.name for c in billing.unrouted]) == (
        ["billing"], ["cron"])
    assert (shop.demand, shop.complete) == (15, True)  # shop alone fills its pool of 15
    assert (billing.demand, billing.complete) == (5, True)
    assert "(1 of them may use another database)" in shop.formula()


def test_a_client_of_an_unlisted_database_reaches_none(tmp_path: Path) -> None:
    text = TWO_DATABASES.replace("pgbouncer:6432/billing", "pgbouncer:6432/ledger")
    r = _only(tmp_path, {"compose.yaml": text, "pgbouncer.ini": TWO_DATABASES_INI}, "SL009")
    budgets = {b.database.name: b for b in r.facts[0].budgets}
    assert [c.workload.name for c in budgets["billing-db"].poolers[0].clients] == []
    [f] = findings(r, "SL009")
    assert "asks pgbouncer for database 'ledger'" in f.message and "lists only shop, billing" in f.message
    assert (f.line, f.column) == pos(text, "postgresql://billing@pgbouncer:6432/ledger")
    assert {r.line for r in f.related} == {2, 3}  # the [databases] entries of pgbouncer.ini


# ============================================================================================
# Kubernetes: ConfigMap mounts, Services, sidecars
# ============================================================================================

K8S_INI = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: pgbouncer-config
data:
  pgbouncer.ini: |
    [databases]
    * = host=postgres port=5432

    [pgbouncer]
    listen_port = 6432
    pool_mode = session
    max_client_conn = 100
    default_pool_size = 10
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: pgbouncer
spec:
  replicas: 2
  selector: {matchLabels: {app: pgbouncer}}
  template:
    metadata: {labels: {app: pgbouncer}}
    spec:
      containers:
        - name: pgbouncer
          image: edoburu/pgbouncer:v1.23.1-p2
          volumeMounts:
            - {name: config, mountPath: /etc/pgbouncer/pgbouncer.ini, subPath: pgbouncer.ini}
      volumes:
        - name: config
          configMap: {name: pgbouncer-config}
---
apiVersion: v1
kind: Service
metadata:
  name: pgbouncer
spec:
  selector: {app: pgbouncer}
  ports:
    - {port: 5432, targetPort: 6432}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 3
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
        - name: api
          image: acme/api:1.0
          command: ["gunicorn", "api.wsgi", "-w", "4"]
          env:
            - {name: DATABASE_URL, value: "postgresql://api@pgbouncer:5432/api"}
            - {name: DB_POOL_SIZE, value: "10"}
            - {name: DB_MAX_OVERFLOW, value: "0"}
"""


def test_configmap_mounted_with_subpath_locates_findings_in_the_configmap(tmp_path: Path) -> None:
    # api 3 × 4 × (10 + 0) = 120 client connections
    # SL007: 2 replicas × 100 max_client_conn = 200 ≥ 120: fine
    # SL008: session pool api/any: 120 > 2 × (10 pool + 0 reserve) = 20: 100 wait
    r = _only(tmp_path, {"k8s.yaml": K8S_INI}, "SL007", "SL008", "SL009")
    [f] = r.result.findings
    assert f.code == "SL008" and (f.line, f.column) == pos(K8S_INI, "session")
    assert "120 connections, but 2 replicas × (10 pool + 0 reserve) = 20 serve them; 100 wait" in f.message
    related = {(x.line, x.column) for x in f.related}
    assert pos(K8S_INI, "10\n---") in related and pos(K8S_INI, "replicas: 2") in related


def test_configmap_items_and_a_missing_configmap(tmp_path: Path) -> None:
    with_items = K8S_INI.replace("{name: config, mountPath: /etc/pgbouncer/pgbouncer.ini, subPath: pgbouncer.ini}",
                                 "{name: config, mountPath: /etc/pgbouncer}") \
        .replace("configMap: {name: pgbouncer-config}",
                 "configMap: {name: pgbouncer-config, items: [{key: pgbouncer.ini, path: pgbouncer.ini}]}")
    r = lint(tmp_path, {"k8s.yaml": with_items})
    [pooler] = r.facts[0].poolers
    assert (pooler.settings.source, pooler.settings.mode.value) == ("ini", "session")
    missing = K8S_INI.replace("name: pgbouncer-config\ndata", "name: other\ndata")
    r = lint(tmp_path, {"k8s.yaml": missing})
    [pooler] = r.facts[0].poolers
    assert pooler.settings.source == "unknown" and not pooler.settings.mode.known
    assert any("ConfigMap pgbouncer-config mounted at /etc/pgbouncer/pgbouncer.ini is not in the files linted"
               in n.message and n.line for n in r.result.notices)


def test_service_port_without_the_clients_port(tmp_path: Path) -> None:
    text = K8S_INI.replace("pgbouncer:5432/api", "pgbouncer:6543/api")
    r = _only(tmp_path, {"k8s.yaml": text}, "SL009")
    [f] = findings(r, "SL009")
    assert "Service pgbouncer has no port 6543 (it has 5432)" in f.message
    # a URL without blanks keeps no per-character positions: the finding sits at the value's start
    assert (f.line, f.column) == pos(text, '"postgresql://api@pgbouncer:6543/api"')


SIDECAR_IN_DB_POD = """\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: postgres
spec:
  serviceName: postgres
  selector: {matchLabels: {app: postgres}}
  template:
    metadata: {labels: {app: postgres}}
    spec:
      containers:
        - name: postgres
          image: postgres:16
        - name: pgbouncer
          image: bitnami/pgbouncer:1.23.1
          env:
            - {name: POSTGRESQL_HOST, value: 127.0.0.1}
            - {name: PGBOUNCER_DATABASE, value: "*"}
            - {name: PGBOUNCER_POOL_MODE, value: transaction}
            - {name: POSTGRESQL_PASSWORD, value: secret}
---
apiVersion: v1
kind: Service
metadata:
  name: postgres
spec:
  selector: {app: postgres}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 5
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
        - name: api
          image: acme/api:1.0
          command: ["gunicorn", "api.wsgi", "-w", "4"]
          env:
            - {name: DATABASE_URL, value: "postgresql://api@postgres:6432/api"}
            - {name: DB_POOL_SIZE, value: "10"}
            - {name: DB_MAX_OVERFLOW, value: "0"}
        - name: migrate
          image: acme/api:1.0
          command: ["gunicorn", "api.migrate", "-w", "1"]
          env:
            - {name: DATABASE_URL, value: "postgresql://api@postgres:5432/api"}
            - {name: DB_POOL_SIZE, value: "7"}
            - {name: DB_MAX_OVERFLOW, value: "0"}
"""


def test_one_service_for_database_and_sidecar_pooler_the_port_decides(tmp_path: Path) -> None:
    # api (port 6432) → the pgbouncer sidecar: 5 × 4 × 10 = 200; its pool: 1 replica × 20 = 20
    # migrate (port 5432) → postgres itself: 5 × 1 × 7 = 35; postgres: 20 + 35 = 55
    r = lint(tmp_path, {"k8s.yaml": SIDECAR_IN_DB_POD})
    [b] = r.facts[0].budgets
    assert [c.worker_vals[0][0] for c in b.clients] == ["migrate"]
    [share] = b.poolers
    assert (share.pooler.name, share.client_demand, share.demand) == ("postgres/pgbouncer", 200, 20)
    assert b.demand == 55


def test_zalando_replica_pooler_reaches_the_same_database(tmp_path: Path) -> None:
    # the -pooler-repl Service: replicas × (15 pool + 7 reserve) with maxDBConnections 60 ÷ 2 instances
    text = """\
apiVersion: acid.zalan.do/v1
kind: postgresql
metadata: {name: acid-main}
spec:
  teamId: acid
  numberOfInstances: 2
  enableConnectionPooler: true
  enableReplicaConnectionPooler: true
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reports}
spec:
  replicas: 2
  selector: {matchLabels: {app: reports}}
  template:
    metadata: {labels: {app: reports}}
    spec:
      containers:
        - name: reports
          image: acme/reports:1.0
          command: ["gunicorn", "reports.wsgi", "-w", "2"]
          env:
            - {name: DB_HOST, value: acid-main-pooler-repl}
            - {name: DB_POOL_SIZE, value: "10"}
            - {name: DB_MAX_OVERFLOW, value: "0"}
"""
    r = lint(tmp_path, {"k8s.yaml": text})
    [b] = r.facts[0].budgets
    [share] = b.poolers
    # reports 2 × 2 × 10 = 40 → min(40, 2 × 22 = 44) = 40
    assert (share.pooler.name, b.database.name, share.cap, share.demand) == ("acid-main-pooler-repl", "acid-main",
                                                                             44, 40)


# ============================================================================================
# the report's chain
# ============================================================================================

def test_report_shows_the_chain_with_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "compose.yaml").write_text(WORKED.format(worker_pool=5))
    monkeypatch.chdir(tmp_path)
    r = run(Options(paths=["compose.yaml"]), Config(), REGISTRY)
    [group] = [group_report(g, f) for g, f in zip(r.groups, r.facts)]
    text = render_text([group])
    assert text.splitlines()[1] == ("postgres (postgresql): max_connections 100 (default), reserved 3, available 97, "
                                    "demand 80, headroom 17 [ok]")
    assert "  pgbouncer   2         (20 pool + 0 reserve)  40            300              40" in text
    assert ("pooler pgbouncer (pgbouncer, bitnami; settings from env) → postgres: client demand 300 of "
            "2 replicas × 1000 max_client_conn = 2000 [ok]") in text
    assert "pool_mode transaction (compose.yaml:26:28)" in text and "reserve_pool_size 0 (default)" in text
    # (2000 − 0) ÷ 100 per replica = 20 replicas of api fit the client limit
    assert "  api       3         4        15 + 10        100            300          20" in text
    doc = json.loads(render_json([group], "0"))
    [pooler] = doc["groups"][0]["poolers"]
    assert (pooler["name"], pooler["mode"], pooler["client_limit"], pooler["demand"], pooler["databases"]) == (
        "pgbouncer", "transaction", 2000, 300, ["postgres"])
    mode = next(s for s in pooler["settings"] if s["name"] == "pool_mode")
    assert (mode["value"], mode["status"], mode["source"]) == ("transaction", "known", "compose.yaml:26:28")
    assert pooler["clients"][0]["database"] == "pgbouncer" and pooler["clients"][0]["connections"] == 300
    [share] = doc["groups"][0]["databases"][0]["poolers"]
    assert (share["server_limit"], share["client_demand"], share["connections"], share["binds"]) == (
        40, 300, 40, "pooler")
    md = render_markdown([group])
    assert "| `pgbouncer` | 2 | (20 pool + 0 reserve) | 40 | 300 | 40 |" in md
    assert "### ✅ pooler `pgbouncer` → `postgres` — client demand 300 of 2000 accepted" in md
    assert "| pool_mode | transaction | `compose.yaml:26:28` |" in md


def test_report_lists_a_pooler_without_a_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = WORKED.format(worker_pool=5).replace("POSTGRESQL_HOST: postgres", "POSTGRESQL_HOST: elsewhere") \
        .replace("  worker:", "  worker:\n    profiles: [never]").split("  postgres:")[0]
    (tmp_path / "compose.yaml").write_text(text)
    monkeypatch.chdir(tmp_path)
    r = run(Options(paths=["compose.yaml"]), Config(), REGISTRY)
    groups = [group_report(g, f) for g, f in zip(r.groups, r.facts)]
    out = render_text(groups)
    assert "pooler pgbouncer (pgbouncer, bitnami; settings from env) → no database found" in out
    assert "? pgbouncer: its backend host 'elsewhere' is not defined in the files linted" in out


# ============================================================================================
# bad input: a notice with a position, an unknown budget, never a traceback
# ============================================================================================

def test_host_path_mounts_are_not_read(tmp_path: Path) -> None:
    text = WORKED.format(worker_pool=5).replace(
        "    image: bitnami/pgbouncer:1.23.1\n",
        "    image: edoburu/pgbouncer:v1.23.1-p2\n    volumes:\n      - /etc/pgbouncer/pgbouncer.ini:/etc/pgbouncer/"
        "pgbouncer.ini:ro\n")
    r = lint(tmp_path, {"compose.yaml": text})
    [pooler] = r.facts[0].poolers
    assert pooler.settings.source == "unknown"
    [n] = [n for n in r.result.notices if "host path" in n.message]
    assert (n.line, n.column) == pos(text, "/etc/pgbouncer/pgbouncer.ini:/etc")


def test_env_values_that_are_not_numbers_are_unknown_not_guessed(tmp_path: Path) -> None:
    text = WORKED.format(worker_pool=5).replace('PGBOUNCER_MAX_CLIENT_CONN: "1000"',
                                                "PGBOUNCER_MAX_CLIENT_CONN: ${MAX_CONN}\n"
                                                "      PGBOUNCER_DEFAULT_POOL_SIZE: twenty")
    r = _only(tmp_path, {"compose.yaml": text}, "SL003", "SL007", "SL009")
    [f] = findings(r, "SL009")
    assert "'twenty' is not a whole number" in f.message and (f.line, f.column) == pos(text, "twenty")
    assert not findings(r, "SL007") and not findings(r, "SL003")
    [b] = r.facts[0].budgets
    # the pool size is unknown: pgbouncer's share is not counted, the budget is a lower bound
    assert (b.demand, b.complete) == (40, False)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(image=st.sampled_from(["bitnami/pgbouncer", "edoburu/pgbouncer", "pgbouncer/pgbouncer", "brainsam/pgbouncer",
                              "acme/pgbouncer", "bitnami/pgpool", "pgpool/pgpool", "proxysql/proxysql"]),
       env=st.dictionaries(st.sampled_from(["POOL_MODE", "PGBOUNCER_POOL_MODE", "DEFAULT_POOL_SIZE", "DB_HOST",
                                            "PGBOUNCER_PORT", "MAX_CLIENT_CONN", "POSTGRESQL_HOST", "POOL_SIZE",
                                            "DATABASE_URL", "PGPOOL_NUM_INIT_CHILDREN", "PGPOOL_BACKEND_NODES",
                                            "DATABASES_HOST", "PGBOUNCER_DATABASE", "LISTEN_PORT"]),
                           st.text(alphabet="0123456789abc:/@*-. =", max_size=12), max_size=6),
       ini=st.one_of(st.none(), st.text(alphabet="[]=;#\n abcdefghijklmnopqrstuvwxyz_*0123456789%'\"", max_size=120)),
       url=st.sampled_from(["postgresql://a@pooler:6432/db", "postgresql://pooler", "mysql://u@pooler:6033/x",
                            "postgresql://a@[pooler]:x/db?host=/tmp", "postgres://pooler:5432,db:5432/app"]))
def test_random_poolers_never_raise(tmp_path: Path, image: str, env: dict[str, str], ini: str | None,
                                    url: str) -> None:
    lines = "".join(f"      {k}: {json.dumps(v)}\n" for k, v in env.items())
    mount = "    volumes:\n      - ./p.ini:/etc/pgbouncer/pgbouncer.ini\n" if ini is not None else ""
    text = (f"services:\n  api:\n    image: acme/api:1\n    environment:\n      DATABASE_URL: {json.dumps(url)}\n"
            f"  pooler:\n    image: {image}\n{mount}" + ("    environment:\n" + lines if lines else "")
            + "  db:\n    image: postgres:16\n")
    files = {"compose.yaml": text}
    if ini is not None:
        files["p.ini"] = ini
    r = lint(tmp_path, files)
    assert r.facts[0].pooler_loads is not None
    for group in (group_report(g, f) for g, f in zip(r.groups, r.facts)):
        render_text([group]), render_json([group], "0"), render_markdown([group])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from([("postgresql.cnpg.io/v1", "Pooler"), ("acid.zalan.do/v1", "postgresql"),
                             ("postgres-operator.crunchydata.com/v1beta1", "PostgresCluster"),
                             ("pgv2.percona.com/v2", "PerconaPGCluster")]),
       spec=st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-5, 5000), st.text(max_size=8)),
                         lambda inner: st.dictionaries(st.sampled_from(
                             ["cluster", "name", "instances", "pgbouncer", "poolMode", "parameters", "proxy",
                              "pgBouncer", "replicas", "config", "global", "enableConnectionPooler",
                              "connectionPooler", "maxDBConnections", "numberOfInstances", "mode", "port",
                              "patroni", "dynamicConfiguration", "postgresql", "max_connections"]), inner, max_size=4),
                         max_leaves=12))
def test_random_operator_objects_never_raise(tmp_path: Path, kind: tuple[str, str], spec: object) -> None:
    doc = {"apiVersion": kind[0], "kind": kind[1], "metadata": {"name": "x"}, "spec": spec}
    client = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "c"}, "spec": {"template": {"spec": {
        "containers": [{"name": "c", "image": "a", "env": [{"name": "DB_HOST", "value": "x-pgbouncer"}]}]}}}}
    r = lint(tmp_path, {"k8s.yaml": json.dumps(doc) + "\n---\n" + json.dumps(client) + "\n"})
    for group in (group_report(g, f) for g, f in zip(r.groups, r.facts)):
        render_text([group])


def test_defaults_are_located_at_the_image(tmp_path: Path) -> None:
    # nothing sets max_client_conn: PgBouncer's 100 is the image's choice, reported at `image:`
    text = WORKED.format(worker_pool=5).replace('      PGBOUNCER_MAX_CLIENT_CONN: "1000"\n', "")
    r = _only(tmp_path, {"compose.yaml": text}, "SL007")
    [f] = findings(r, "SL007")
    # api 3 × 4 × 25 = 300 > 2 replicas × 100 = 200
    assert (f.line, f.column) == pos(text, "bitnami/pgbouncer")
    assert "more than the 2 replicas × 100 max_client_conn (default) = 200 it accepts" in f.message
    assert f.fix == "set PGBOUNCER_MAX_CLIENT_CONN ≥ 150 per replica, or run 3 pgbouncer replicas, or lower the " \
                    "clients' pools"


def test_assumed_listen_port_is_not_compared(tmp_path: Path) -> None:
    # an image scalelint does not know: its settings are PgBouncer's defaults, assumed; a port check on
    # an assumed 6432 would be a guess
    text = WORKED.format(worker_pool=5).replace("bitnami/pgbouncer:1.23.1", "acme/pgbouncer:1") \
        .replace("pgbouncer:6432/app", "pgbouncer:5432/app")
    r = _only(tmp_path, {"compose.yaml": text}, "SL009")
    assert not findings(r, "SL009")


def test_an_included_file_leaves_the_defaults_unknown(tmp_path: Path) -> None:
    # pgbouncer.ini %includes a file scalelint does not read: what it leaves unset here may be set there
    text = WORKED.format(worker_pool=5).replace(
        "    image: bitnami/pgbouncer:1.23.1\n",
        "    image: edoburu/pgbouncer:v1.23.1-p2\n    volumes:\n      - ./pgbouncer.ini:/etc/pgbouncer/pgbouncer.ini\n")
    ini = "[databases]\n* = host=postgres\n[pgbouncer]\nlisten_port = 6432\n%include /etc/pgbouncer/extra.ini\n"
    r = _only(tmp_path, {"compose.yaml": text, "pgbouncer.ini": ini}, "SL003", "SL007", "SL008")
    [pooler] = r.facts[0].poolers
    assert pooler.settings.listen_port.value == 6432  # written: known
    assert not pooler.settings.default_pool_size.known and not pooler.settings.max_client_conn.known
    [b] = r.facts[0].budgets
    assert (b.demand, b.complete) == (40, False)  # the worker's 1 × 4 × (5 + 5); pgbouncer's share unknown
    assert not r.result.findings


def test_a_pooler_without_clients_has_an_unknown_demand(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = WORKED.format(worker_pool=5).replace("pgbouncer:6432/app", "postgres:5432/app")
    (tmp_path / "compose.yaml").write_text(text)
    monkeypatch.chdir(tmp_path)
    r = run(Options(paths=["compose.yaml"]), Config(), REGISTRY)
    [group] = [group_report(g, f) for g, f in zip(r.groups, r.facts)]
    [pooler] = group.poolers
    assert (pooler.status, pooler.clients, pooler.databases) == ("unknown", (), ("postgres",))
    assert "→ postgres: client demand unknown (no client found) of 2 replicas" in render_text([group])
