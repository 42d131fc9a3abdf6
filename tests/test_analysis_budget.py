"""Connection budgets (SPEC §3 SL003/SL013): max_connections sources, demand end to end, and
the "what still fits" arithmetic the report and the fix hint rely on."""
from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import findings, lint, pos
from hypothesis import given, settings
from hypothesis import strategies as st

from scalelint.analyze.budget import Budget, Client
from scalelint.analyze.capacity import group_report
from scalelint.analyze.databases import Database
from scalelint.analyze.links import Endpoint, Pool
from scalelint.config import Config
from scalelint.findings import Loc, ObjectRef
from scalelint.model import State, Workload, default, known

KNOWN, DEFAULT, UNKNOWN = State.KNOWN, State.DEFAULT, State.UNKNOWN








# ============================================================================================
# max_connections and reserved, per source
# ============================================================================================

PG_POD = """\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  serviceName: db
  selector:
    matchLabels: {{app: db}}
  template:
    metadata:
      labels: {{app: db}}
    spec:
      containers:
        - name: db
          image: {image}
{body}
"""

PG_SERVICE = """\
services:
  db:
    image: {image}
{body}
"""


@dataclass
class DbCase:
    id: str
    kind: str  # k8s | compose | raw (the whole file given)
    body: str
    max_connections: int | None
    reserved: int | None
    state: State
    needle: str | None  # where max_connections is set; None: at the database itself
    image: str = "postgres:16"
    extra: dict[str, str] = field(default_factory=dict)
    at_file: str | None = None
    engine: str = "postgresql"

    def main(self) -> tuple[str, str]:
        if self.kind == "raw":
            return "db.yaml", self.body
        body = textwrap.indent(textwrap.dedent(self.body).strip("\n"), " " * (10 if self.kind == "k8s" else 4))
        if self.kind == "k8s":
            return "db.yaml", PG_POD.format(image=self.image, body=body)
        return "compose.yaml", PG_SERVICE.format(image=self.image, body=body)


PG_CONF_CM = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: pg-conf
data:
  postgresql.conf: |
    listen_addresses = '*'

    # - Connection Settings -
    max_connections = 300           # (change requires restart)
      superuser_reserved_connections = 5
    shared_buffers = 1GB
"""

PG_CONF_MOUNT = """\
args: ["-c", "config_file=/etc/postgresql/postgresql.conf"]
volumeMounts:
  - name: conf
    mountPath: /etc/postgresql
"""

CNPG = """\
apiVersion: postgresql.cnpg.io/v1
kind: Cluster
metadata:
  name: main
  namespace: data
spec:
  instances: 3
  postgresql:
    parameters:
      max_connections: "400"
      superuser_reserved_connections: "4"
      reserved_connections: "2"
"""

ZALANDO = """\
apiVersion: acid.zalan.do/v1
kind: postgresql
metadata:
  name: acid-main
spec:
  teamId: acid
  numberOfInstances: 2
  postgresql:
    version: "16"
    parameters:
      max_connections: "250"
"""

DB_CASES = [
    DbCase("compose: postgres default", "compose", "", 100, 3, DEFAULT, None),
    DbCase("k8s: postgres default", "k8s", "", 100, 3, DEFAULT, None),
    DbCase("compose: -c in command string", "compose", "command: postgres -c max_connections=200", 200, 3, KNOWN,
           "max_connections=200"),
    DbCase("k8s: -c in command", "k8s", 'command: ["postgres", "-c", "max_connections=200"]', 200, 3, KNOWN,
           '"max_connections=200"'),
    DbCase("k8s: -c in args (entrypoint adds postgres)", "k8s", 'args: ["-c", "max_connections=250"]', 250, 3, KNOWN,
           '"max_connections=250"'),
    DbCase("k8s: --max_connections=N", "k8s", 'args: ["postgres", "--max_connections=180"]', 180, 3, KNOWN,
           '"--max_connections=180"'),
    DbCase("k8s: -N N", "k8s", 'args: ["-N", "50"]', 50, 3, KNOWN, '"50"'),
    DbCase("compose: -N in a list", "compose", 'command: ["postgres", "-N", "75"]', 75, 3, KNOWN, '"75"'),
    DbCase("k8s: inside sh -c", "k8s",
           'command: ["sh", "-c", "chown -R postgres /data && exec docker-entrypoint.sh postgres '
           '-c max_connections=500"]',
           500, 3, KNOWN, 'max_connections=500'),
    DbCase("k8s: the last -c wins", "k8s", 'args: ["-c", "max_connections=50", "-c", "max_connections=60"]', 60, 3,
           KNOWN, '"max_connections=60"'),
    DbCase("k8s: value through $(VAR)", "k8s", """\
        args: ["-c", "max_connections=$(PG_MAX)"]
        env:
          - {name: PG_MAX, value: "220"}
        """, 220, 3, KNOWN, '"max_connections=$(PG_MAX)"'),
    DbCase("k8s: value from a Secret is unknown", "k8s", """\
        args: ["-c", "max_connections=$(PG_MAX)"]
        env:
          - name: PG_MAX
            valueFrom: {secretKeyRef: {name: pg, key: max}}
        """, None, 3, UNKNOWN, '"max_connections=$(PG_MAX)"'),
    DbCase("compose: bitnami POSTGRESQL_MAX_CONNECTIONS", "compose", """\
        environment:
          POSTGRESQL_MAX_CONNECTIONS: "300"
        """, 300, 3, KNOWN, '"300"', image="bitnami/postgresql:16"),
    DbCase("k8s: bitnami POSTGRESQL_MAX_CONNECTIONS", "k8s", """\
        env:
          - name: POSTGRESQL_MAX_CONNECTIONS
            value: "320"
        """, 320, 3, KNOWN, '"320"', image="docker.io/bitnami/postgresql:16.3.0"),
    DbCase("k8s: command line beats bitnami env", "k8s", """\
        args: ["-c", "max_connections=90"]
        env:
          - {name: POSTGRESQL_MAX_CONNECTIONS, value: "320"}
        """, 90, 3, KNOWN, '"max_connections=90"', image="bitnami/postgresql:16"),
    DbCase("k8s: postgresql.conf from a mounted ConfigMap", "raw",
           PG_POD.format(image="postgres:16", body=textwrap.indent(PG_CONF_MOUNT, " " * 10)) + textwrap.indent(
               "volumes:\n  - name: conf\n    configMap: {name: pg-conf}\n", " " * 6),
           300, 5, KNOWN, "max_connections = 300", extra={"cm.yaml": PG_CONF_CM}, at_file="cm.yaml"),
    DbCase("k8s: command line beats postgresql.conf", "raw",
           PG_POD.format(image="postgres:16", body=textwrap.indent(
               PG_CONF_MOUNT.replace('"-c", "config', '"-c", "max_connections=111", "-c", "config'), " " * 10))
           + textwrap.indent("volumes:\n  - name: conf\n    configMap: {name: pg-conf}\n", " " * 6),
           111, 5, KNOWN, '"max_connections=111"', extra={"cm.yaml": PG_CONF_CM}),
    DbCase("k8s: superuser_reserved_connections and reserved_connections", "k8s",
           'args: ["-c", "max_connections=200", "-c", "superuser_reserved_connections=5", '
           '"-c", "reserved_connections=10"]', 200, 15, KNOWN, '"max_connections=200"'),
    DbCase("compose: reserved_connections alone", "compose",
           "command: postgres -c reserved_connections=7", 100, 10, DEFAULT, None),
    DbCase("CloudNativePG Cluster", "raw", CNPG, 400, 6, KNOWN, '"400"'),
    DbCase("Zalando postgresql", "raw", ZALANDO, 250, 3, KNOWN, '"250"'),
    DbCase("compose: mysql default", "compose", "", 151, 0, DEFAULT, None, image="mysql:8.4", engine="mysql"),
    DbCase("compose: mariadb default", "compose", "", 151, 0, DEFAULT, None, image="mariadb:11", engine="mysql"),
    DbCase("compose: mysql --max-connections=N", "compose", "command: --max-connections=500", 500, 0, KNOWN,
           "--max-connections=500", image="mysql:8.4", engine="mysql"),
    DbCase("k8s: mysql --max_connections=N", "k8s", 'args: ["--max_connections=600"]', 600, 0, KNOWN,
           '"--max_connections=600"', image="mysql:8.4", engine="mysql"),
    DbCase("k8s: mariadbd --max-connections N", "k8s", 'command: ["mariadbd", "--max-connections", "700"]', 700, 0,
           KNOWN, '"700"', image="mariadb:11.4", engine="mysql"),
    DbCase("compose: percona", "compose", "command: mysqld --max_connections=250", 250, 0, KNOWN, "--max_connections=250",
           image="percona/percona-server:8.0", engine="mysql"),
]


@pytest.mark.parametrize("case", DB_CASES, ids=[c.id for c in DB_CASES])
def test_max_connections_sources(tmp_path: Path, case: DbCase) -> None:
    name, text = case.main()
    files = {name: text, **case.extra}
    r = lint(tmp_path, files)
    dbs = [d for f in r.facts for d in f.databases]
    assert len(dbs) == 1, dbs
    db = dbs[0]
    assert db.engine == case.engine
    assert db.max_connections.value == case.max_connections
    assert db.max_connections.state is case.state, db.max_connections
    assert db.reserved.value == case.reserved, db.reserved
    if case.max_connections is not None and case.reserved is not None:
        assert db.available == case.max_connections - case.reserved
    else:
        assert db.available is None
    if case.needle is not None:
        at = case.at_file or name
        expected = Loc(str(tmp_path / at), *pos(files[at], case.needle))
        assert db.max_connections.loc == expected
        if case.state is KNOWN:
            assert db.loc == expected  # SL003 points where max_connections is set
    elif case.kind != "raw":
        # nothing written: SL003 points at the database container's name (compose: its service key)
        needle = "- name: db" if case.kind == "k8s" else "db:"
        line, col = pos(text, needle)
        assert db.loc == Loc(str(tmp_path / name), line, col + (8 if case.kind == "k8s" else 0))


def test_postgresql_conf_one_line_value_is_on_the_key_line(tmp_path: Path) -> None:
    cm = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: pg-conf
data:
  postgresql.conf: "max_connections = 42"
"""
    pod = PG_POD.format(image="postgres:16", body=textwrap.indent(PG_CONF_MOUNT, " " * 10)) + textwrap.indent(
        "volumes:\n  - name: conf\n    configMap: {name: pg-conf}\n", " " * 6)
    r = lint(tmp_path, {"db.yaml": pod, "cm.yaml": cm})
    db = r.facts[0].databases[0]
    assert db.max_connections.value == 42
    assert db.max_connections.loc is not None
    assert db.max_connections.loc.line == pos(cm, "max_connections")[0]


def test_operator_services_link_clients(tmp_path: Path) -> None:
    api = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: web
spec:
  replicas: 4
  template:
    spec:
      containers:
        - name: api
          image: example/api:1.0
          command: ["gunicorn", "-w", "5", "app:app"]
          env:
            - {name: DATABASE_URL, value: "postgresql://app@main-rw.data.svc.cluster.local/app"}
            - {name: DB_POOL_SIZE, value: "10"}
            - {name: DB_MAX_OVERFLOW, value: "10"}
"""
    r = lint(tmp_path, {"cnpg.yaml": CNPG, "api.yaml": api})
    b = r.facts[0].budgets[0]
    assert b.database.name == "main" and b.demand == 4 * 5 * 20 == 400 and b.available == 394
    [f] = findings(r, "SL003")
    assert "main: demand 400 > 394 available (max_connections 400 − 6 reserved)" in f.message
    assert (f.path, f.line, f.column) == (str(tmp_path / "cnpg.yaml"), *pos(CNPG, '"400"'))
    related = {(x.path, x.line, x.column): x.message for x in f.related}
    assert related[(str(tmp_path / "cnpg.yaml"), *pos(CNPG, '"4"'))] == "6 reserved connections"
    assert related[(str(tmp_path / "api.yaml"), *pos(api, '"5"'))] == "api: gunicorn -w 5 → 5 workers"
    assert related[(str(tmp_path / "api.yaml"), *pos(api, "replicas: 4"))] == "api: 4 replicas"


# ============================================================================================
# budgets end to end
# ============================================================================================

WORKED = """\
services:
  api:
    image: example/api:1.0
    command: uvicorn app.main:app --host 0.0.0.0 --workers ${{UVICORN_WORKERS:-4}}
{deploy}    environment:
      DATABASE_URL: postgresql+asyncpg://app:secret@postgres:5432/app
      DB_POOL_SIZE: ${{DB_POOL_SIZE:-15}}
      DB_MAX_OVERFLOW: ${{DB_MAX_OVERFLOW:-10}}
  postgres:
    image: postgres:16
"""


def test_spec_worked_example_one_pod(tmp_path: Path) -> None:
    text = WORKED.format(deploy="")
    r = lint(tmp_path, {"compose.yaml": text})
    [f] = findings(r, "SL003")
    assert "100 > 97" in f.message
    assert "4 workers × (15 pool + 10 overflow) = 100" in f.message
    assert f.message == ("postgres: demand 100 > 97 available (max_connections 100 − 3 reserved): "
                         "api 1 replica × 4 workers × (15 pool + 10 overflow) = 100")
    assert "assumed" not in f.message
    # at the database's service key: max_connections is not written anywhere
    assert (f.path, f.line, f.column) == (str(tmp_path / "compose.yaml"), *pos(text, "postgres:\n"))
    assert f.fix == "set DB_POOL_SIZE + DB_MAX_OVERFLOW ≤ 24 per worker, or put PgBouncer in front, or raise " \
                    "max_connections"
    assert not findings(r, "SL013")


def test_spec_worked_example_three_replicas(tmp_path: Path) -> None:
    text = WORKED.format(deploy="    deploy:\n      replicas: 3\n")
    r = lint(tmp_path, {"compose.yaml": text})
    [f] = findings(r, "SL003")
    assert "300 > 97" in f.message
    assert "api 3 replicas × 4 workers × (15 pool + 10 overflow) = 300" in f.message
    assert f.fix is not None and f.fix.startswith("set DB_POOL_SIZE + DB_MAX_OVERFLOW ≤ 8 per worker")  # 97 // 12
    path = str(tmp_path / "compose.yaml")
    related = {(r.path, r.line, r.column): r.message for r in f.related}
    assert related == {
        (path, *pos(text, "replicas: 3")): "api: 3 replicas",
        (path, *pos(text, "4}")): "api: uvicorn --workers 4 → 4 workers",  # the default in ${UVICORN_WORKERS:-4}
        (path, *pos(text, "postgresql+asyncpg")): "api: DATABASE_URL names postgres",
        (path, *pos(text, "${DB_POOL_SIZE")): "api: pool size 15",
        (path, *pos(text, "${DB_MAX_OVERFLOW")): "api: max overflow 10",
    }


def test_worked_example_values_from_dotenv(tmp_path: Path) -> None:
    text = WORKED.format(deploy="")
    r = lint(tmp_path, {"compose.yaml": text, ".env": "UVICORN_WORKERS=2\nDB_POOL_SIZE=20\nDB_MAX_OVERFLOW=0\n"})
    assert not findings(r, "SL003")
    assert not findings(r, "SL013")
    b = r.facts[0].budgets[0]
    assert b.demand == 40


def budget_compose(workers: int, pool: int, overflow: int, replicas: int = 1, extra: str = "") -> str:
    return f"""\
services:
  api:
    image: example/api:1.0
    command: gunicorn -w {workers} app:app
    deploy:
      replicas: {replicas}
    environment:
      DATABASE_URL: postgresql://app@db/app
      DB_POOL_SIZE: "{pool}"
      DB_MAX_OVERFLOW: "{overflow}"
{extra}  db:
    image: postgres:16
"""


@pytest.mark.parametrize("workers,pool,overflow,replicas,sl003,sl013", [
    (1, 60, 37, 1, False, True),  # 97: exactly the limit
    (1, 60, 38, 1, True, False),  # 98: one over
    (1, 60, 36, 1, False, True),  # 96: one under, still above 0.9
    (8, 6, 5, 1, False, True),  # 88 > 87.3
    (3, 20, 9, 1, False, False),  # 87 ≤ 87.3
    (2, 10, 5, 2, False, False),  # 60
    (4, 5, 5, 3, True, False),  # 120
])
def test_limit_boundaries(tmp_path: Path, workers: int, pool: int, overflow: int, replicas: int,
                          sl003: bool, sl013: bool) -> None:
    demand = replicas * workers * (pool + overflow)
    r = lint(tmp_path, {"compose.yaml": budget_compose(workers, pool, overflow, replicas)})
    assert r.facts[0].budgets[0].demand == demand
    assert bool(findings(r, "SL003")) is sl003
    assert bool(findings(r, "SL013")) is sl013
    if sl003:
        [f] = findings(r, "SL003")
        assert f"demand {demand} > 97 available" in f.message
        noun = "replica" if replicas == 1 else "replicas"
        wnoun = "worker" if workers == 1 else "workers"
        assert (f"api {replicas} {noun} × {workers} {wnoun} × ({pool} pool + {overflow} overflow) = {demand}"
                in f.message)
        fits = 97 // (replicas * workers)
        assert f"≤ {fits} per worker" in (f.fix or "")
        assert replicas * workers * fits <= 97 < replicas * workers * (fits + 1)
    if sl013:
        [f] = findings(r, "SL013")
        assert f.severity.label == "warning"
        assert f"demand {demand} is {demand * 100 // 97}% of the 97 available" in f.message


def test_sum_over_several_clients(tmp_path: Path) -> None:
    worker = """\
  worker:
    image: example/api:1.0
    command: celery -A proj worker -c 4
    environment:
      DATABASE_URL: postgresql://app@db/app
      POOL_SIZE: "2"
      MAX_OVERFLOW: "0"
"""
    text = budget_compose(4, 10, 2, 2, extra=worker)
    r = lint(tmp_path, {"compose.yaml": text})
    b = r.facts[0].budgets[0]
    assert sorted(c.workload.name for c in b.clients) == ["api", "worker"]
    assert b.demand == 2 * 4 * 12 + 1 * 4 * 2 == 104
    [f] = findings(r, "SL003")
    assert "demand 104 > 97" in f.message
    assert "api 2 replicas × 4 workers × (10 pool + 2 overflow) = 96" in f.message
    assert "worker 1 replica × 4 workers × (2 pool + 0 overflow) = 8" in f.message
    # the largest pool that fits if every worker used it: 97 // (2×4 + 1×4) = 8
    assert b.largest_pool_per_worker() == 8 and "≤ 8 per worker" in (f.fix or "")
    # every contributor's settings are related locations
    messages = {x.message for x in f.related}
    assert {"worker: celery -c 4 → 4 workers", "worker: pool size 2", "worker: max overflow 0",
            "api: pool size 10", "api: 2 replicas"} <= messages


def test_sqlalchemy_defaults_are_said_assumed(tmp_path: Path) -> None:
    text = """\
services:
  api:
    image: example/api:1.0
    command: uvicorn app:app --workers 8
    environment:
      DATABASE_URL: postgresql://app@db/app
  db:
    image: postgres:16
"""
    r = lint(tmp_path, {"compose.yaml": text})
    [f] = findings(r, "SL003")
    assert "demand 120 > 97" in f.message
    assert "8 workers × (5 pool + 10 overflow assumed) = 120" in f.message
    assert "unset pool settings assumed from SQLAlchemy's defaults (5 pool + 10 overflow)" in f.message
    c = r.facts[0].budgets[0].clients[0]
    assert c.pool.assumed and c.pool.size.state is State.ASSUMED and c.pool.overflow.state is State.ASSUMED
    assert "SQLAlchemy" in c.pool.size.reason


def test_only_overflow_set_assumes_the_pool_size(tmp_path: Path) -> None:
    text = """\
services:
  api:
    image: example/api:1.0
    environment:
      DATABASE_URL: postgresql://app@db/app
      DB_MAX_OVERFLOW: "0"
  db:
    image: postgres:16
"""
    r = lint(tmp_path, {"compose.yaml": text})
    c = r.facts[0].budgets[0].clients[0]
    assert c.pool.per_worker == 5 and c.pool.assumed
    assert c.pool.describe() == "(5 pool + 0 overflow assumed)"


POOL_SIZE_ONLY = """\
services:
  api:
    image: example/api:1.0
    command: {command}
    environment:
      DATABASE_URL: {scheme}://app@db/app
      DB_POOL_SIZE: "30"
    deploy:
      replicas: 3
  db:
    image: postgres:16
"""


@pytest.mark.parametrize("command, scheme, overflow", [
    ("./api-native", "postgres", 0),  # a JVM native image, an Elixir release: no SQLAlchemy in sight
    ("./api-native", "postgresql+psycopg", 10),  # a SQLAlchemy URL says the overflow applies
    ("uvicorn app:app", "postgresql", 10),  # a Python server
    ("python -m app", "postgresql", 10),
])
def test_a_bare_pool_size_gets_overflow_only_for_python(tmp_path: Path, command: str, scheme: str,
                                                         overflow: int) -> None:
    r = lint(tmp_path, {"compose.yaml": POOL_SIZE_ONLY.format(command=command, scheme=scheme)})
    c = r.facts[0].budgets[0].clients[0]
    assert (c.pool.size.value, c.pool.overflow.value, c.pool.overflow.state) == (30, overflow, State.ASSUMED)
    demand = 3 * (30 + overflow)
    if overflow == 0:  # 90 of 97: the warning, saying what it took for granted
        [f] = findings(r, "SL013")
        assert "(30 pool + 0 overflow assumed) = 90" in f.message
        assert "a pool size without overflow taken as the whole cap" in f.message
        assert "SQLAlchemy's defaults" not in f.message
    else:
        [f] = findings(r, "SL003")
        assert f"= {demand}" in f.message and "unset max overflow assumed from SQLAlchemy's default 10" in f.message
        assert "unset pool settings" not in f.message  # the pool size was set


@pytest.mark.parametrize("command, assumed_pool", [
    ('["./server.sh"]', False),  # a shell app (psql per request): 5 + 10 would be made up
    ('["node", "dist/main.js"]', False),
    (None, False),  # the image's own command, and nothing Python about it
    ('["gunicorn", "-w", "4", "app:app"]', True),  # a Python server: SQLAlchemy's defaults are the guess
    ('["python", "-m", "app"]', True),
])
def test_sqlalchemy_defaults_stand_in_only_for_a_python_app(tmp_path: Path, command: str | None,
                                                            assumed_pool: bool) -> None:
    text = ("services:\n  api:\n    image: example/api:1.0\n"
            + (f"    command: {command}\n" if command else "")
            + "    environment:\n      DATABASE_URL: postgresql://app@db/app\n  db:\n    image: postgres:16\n")
    r = lint(tmp_path, {"compose.yaml": text})
    c = r.facts[0].budgets[0].clients[0]
    assert c.pool.assumed is assumed_pool
    if not assumed_pool:
        reason = c.pool.size.reason or ""
        assert c.pool.per_worker is None
        assert "not a Python app" in reason or "is a Python app using SQLAlchemy" in reason, reason


DJANGO = """\
services:
  api:
    image: example/shop:1.0
    command: {command}
    environment:
      DATABASE_URL: postgresql://app@db/app
    deploy:
      replicas: 2
  db:
    image: postgres:16
"""


@pytest.mark.parametrize("command, per_worker, text", [
    ('["gunicorn", "shop.wsgi:application", "-w", "8"]', 1, "(1 thread × 1 alias assumed, Django = 1)"),
    ('["gunicorn", "shop.wsgi", "-w", "8", "--threads", "4"]', 4, "(4 threads × 1 alias assumed, Django = 4)"),
    ('["python", "manage.py", "runserver"]', None, ""),  # threads unknown: no guess
    ('["gunicorn", "shop.asgi:application", "-k", "uvicorn.workers.UvicornWorker", "-w", "8"]', None, ""),
])
def test_django_without_its_settings_is_not_a_sqlalchemy_pool(tmp_path: Path, command: str,
                                                               per_worker: int | None, text: str) -> None:
    """A Django app holds one connection per thread and alias; 5 + 10 would be SQLAlchemy's."""
    r = lint(tmp_path, {"compose.yaml": DJANGO.format(command=command)})
    c = r.facts[0].budgets[0].clients[0]
    assert c.pool.per_worker == per_worker
    assert "SQLAlchemy" not in (c.pool.size.reason or "")
    if per_worker is not None:
        assert c.pool.describe() == text and c.pool.library == "Django"
    else:
        assert any("serves the Django app" in n.message for n in r.result.notices)


RAILS = """\
services:
  api:
    image: example/store:1.0
{command}    environment:
      DATABASE_URL: postgres://app@db/app
      WEB_CONCURRENCY: "3"
{env}    deploy:
      replicas: 2
  db:
    image: postgres:16
"""


@pytest.mark.parametrize("command, env, per_worker, text", [
    ('    command: ["bundle", "exec", "puma", "-C", "config/puma.rb"]\n', '      RAILS_MAX_THREADS: "6"\n', 6,
     "(RAILS_MAX_THREADS 6 assumed, ActiveRecord = 6)"),
    ("", "      RAILS_ENV: production\n", 5, "(5 assumed, ActiveRecord = 5)"),  # the image's CMD, RAILS_ENV
    ('    command: bin/rails server\n', '      RAILS_MAX_THREADS: "${THREADS}"\n', None, ""),
])
def test_rails_holds_activerecord_pool_not_sqlalchemy(tmp_path: Path, command: str, env: str,
                                                      per_worker: int | None, text: str) -> None:
    """ActiveRecord's pool is database.yml's `pool:`, generated as RAILS_MAX_THREADS (5 when unset):
    a per-process cap with no overflow, never SQLAlchemy's 5 + 10."""
    r = lint(tmp_path, {"compose.yaml": RAILS.format(command=command, env=env)})
    c = r.facts[0].budgets[0].clients[0]
    assert c.pool.per_worker == per_worker
    assert "SQLAlchemy" not in (c.pool.size.reason or "") and not c.pool.assumed
    if per_worker is not None:
        assert c.pool.describe() == text and c.pool.library == "ActiveRecord"
        assert c.pool.limit is not None and "config/database.yml" in c.pool.limit.reason
        assert c.demand == 2 * 3 * per_worker
    else:
        assert "RAILS_MAX_THREADS is not known" in (c.pool.size.reason or "")


def test_report_marks_an_assumed_connection_limit(tmp_path: Path) -> None:
    from scalelint.cli import main as cli_main

    (tmp_path / "compose.yaml").write_text(RAILS.format(command="", env='      RAILS_MAX_THREADS: "6"\n'))
    result = CliRunner().invoke(cli_main, ["report", "--isolated", str(tmp_path / "compose.yaml")])
    row = next(line for line in result.output.splitlines() if line.strip().startswith("api "))
    assert row.split()[:6] == ["api", "2", "3", "limit", "6", "(assumed)"], row


HPA_K8S = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: api
          image: example/api:1.0
          command: ["gunicorn", "--workers", "4", "app:app"]
          env:
            - {name: DATABASE_URL, value: "postgresql://app@postgres/app"}
            - {name: DB_POOL_SIZE, value: "5"}
            - {name: DB_MAX_OVERFLOW, value: "0"}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: api
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
  minReplicas: 2
  maxReplicas: 6
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: postgres
spec:
  selector:
    matchLabels: {app: postgres}
  template:
    metadata:
      labels: {app: postgres}
    spec:
      containers:
        - name: postgres
          image: postgres:16
"""


def test_hpa_max_is_used_for_demand_and_min_is_reported(tmp_path: Path) -> None:
    r = lint(tmp_path, {"k.yaml": HPA_K8S})
    c = r.facts[0].budgets[0].clients[0]
    assert c.hpa and c.replicas.value == 6 and c.min_replicas.value == 2
    assert c.demand == 6 * 4 * 5 == 120
    [f] = findings(r, "SL003")
    assert "api 6 replicas (HPA max) × 4 workers × (5 pool + 0 overflow) = 120" in f.message
    path = str(tmp_path / "k.yaml")
    assert Loc(path, *pos(HPA_K8S, "maxReplicas")) in {Loc(x.path, x.line, x.column) for x in f.related}
    assert "api: 6 replicas (HPA max)" in {x.message for x in f.related}
    [db] = group_report(r.groups[0], r.facts[0]).databases
    [row] = db.clients
    assert (row.replicas_min, row.replicas_max, row.hpa) == (2, 6, True)
    assert row.largest_replicas == 97 // 20 == 4


def test_hpa_without_min_replicas(tmp_path: Path) -> None:
    text = HPA_K8S.replace("  minReplicas: 2\n", "")
    r = lint(tmp_path, {"k.yaml": text})
    c = r.facts[0].budgets[0].clients[0]
    assert c.min_replicas.value == 1 and c.min_replicas.state is DEFAULT


# --- unknowns never fire by themselves --------------------------------------------------------

UNKNOWN_POOL = HPA_K8S.replace(
    '- {name: DB_POOL_SIZE, value: "5"}',
    "- name: DB_POOL_SIZE\n              valueFrom: {secretKeyRef: {name: db, key: pool}}")


def test_unknown_pool_is_a_notice_not_a_finding(tmp_path: Path) -> None:
    r = lint(tmp_path, {"k.yaml": UNKNOWN_POOL})
    assert not findings(r, "SL003") and not findings(r, "SL013")
    b = r.facts[0].budgets[0]
    assert not b.complete and b.demand == 0
    notes = [n.message for n in r.result.notices if "connection budget of postgres" in n.message]
    assert notes == ["connection budget of postgres: api counted as unknown (DB_POOL_SIZE: from Secret db)"]
    [db] = group_report(r.groups[0], r.facts[0]).databases
    assert db.status == "unknown" and not db.complete  # 0 known says nothing about the whole
    assert db.clients[0].unknown == ("DB_POOL_SIZE: from Secret db",)
    assert db.clients[0].connections is None and db.clients[0].largest_replicas is None


@pytest.mark.parametrize("body,reason", [
    ('command: ["sh", "-c", "exec gunicorn -w $(nproc) app:app"]', "command substitution"),
    ('command: ["gunicorn", "-w", "$(W)", "app:app"]', "Secret s"),
])
def test_unknown_workers_never_fire(tmp_path: Path, body: str, reason: str) -> None:
    text = f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 50
  template:
    spec:
      containers:
        - name: api
          image: example/api:1.0
          {body}
          env:
            - name: W
              valueFrom: {{secretKeyRef: {{name: s, key: w}}}}
            - {{name: DATABASE_URL, value: "postgresql://app@postgres/app"}}
---
apiVersion: v1
kind: Pod
metadata:
  name: postgres
  labels: {{app: postgres}}
spec:
  containers:
    - name: postgres
      image: postgres:16
"""
    r = lint(tmp_path, {"k.yaml": text})
    assert not findings(r, "SL002") and not findings(r, "SL003") and not findings(r, "SL013")
    c = r.facts[0].budgets[0].clients[0]
    assert c.workers is None and c.demand is None
    assert any(reason in x for x in c.unknown_reasons())
    notes = [n.message for n in r.result.notices]
    assert any("connection budget of postgres: api counted as unknown" in n and reason in n for n in notes)
    assert any(n.startswith("worker count of api in Deployment default/api is unknown") for n in notes)
    [db] = group_report(r.groups[0], r.facts[0]).databases
    assert db.status == "unknown" and db.clients[0].workers is None
    assert any(reason in x for x in db.clients[0].unknown)


def test_known_part_over_the_limit_still_fires_and_says_at_least(tmp_path: Path) -> None:
    other = """\
  batch:
    image: example/api:1.0
    environment:
      DATABASE_URL: postgresql://app@db/app
      DB_POOL_SIZE: ${BATCH_POOL}
"""
    r = lint(tmp_path, {"compose.yaml": budget_compose(8, 10, 5, 1, extra=other)})
    [f] = findings(r, "SL003")
    assert "demand 120 > 97 available (at least: some clients are unknown)" in f.message
    # no command: the image's own, which is not in the files linted, so its workers are unknown too (SPEC §8)
    assert "batch 1 replica × ? workers × (? pool + 10 overflow assumed) = ?" in f.message


def test_daemonset_replicas_unknown_without_nodes(tmp_path: Path) -> None:
    ds = HPA_K8S.split("---\n")[0].replace("kind: Deployment", "kind: DaemonSet").replace("  replicas: 2\n", "")
    pg = HPA_K8S.split("---\n")[2]
    r = lint(tmp_path, {"k.yaml": ds + "---\n" + pg})
    c = r.facts[0].budgets[0].clients[0]
    assert c.replicas.state is UNKNOWN and c.demand is None
    assert not findings(r, "SL003")
    r = lint(tmp_path, {"k.yaml": ds + "---\n" + pg}, Config(nodes=5))
    c = r.facts[0].budgets[0].clients[0]
    assert c.replicas.value == 5 and c.demand == 5 * 4 * 5


def test_mysql_has_no_reserved_connections(tmp_path: Path) -> None:
    text = """\
services:
  api:
    image: example/api:1.0
    command: gunicorn -w 4 app:app
    deploy: {replicas: 3}
    environment:
      DATABASE_URL: mysql+pymysql://app:pw@mysql/app
      DB_POOL_SIZE: "10"
      DB_MAX_OVERFLOW: "3"
  mysql:
    image: mysql:8.4
"""
    r = lint(tmp_path, {"compose.yaml": text})
    [f] = findings(r, "SL003")
    assert "mysql: demand 156 > 151 available (max_connections 151 − 0 reserved)" in f.message
    assert "add a connection proxy" in (f.fix or "") and "PgBouncer" not in (f.fix or "")


# ============================================================================================
# the arithmetic, checked by brute force
# ============================================================================================

_LOC = Loc("x.yaml", 1, 1)


def _workload(name: str) -> Workload:
    return Workload(kind="Deployment", name=name, namespace="default", path="x.yaml", loc=_LOC,
                    replicas=known(1, _LOC))


def _client(name: str, replicas: int, workers: int, size: int, overflow: int) -> Client:
    pool = Pool(known(size, _LOC), known(overflow, _LOC), None, "DB_POOL_SIZE", "DB_MAX_OVERFLOW")
    return Client(_workload(name), known(replicas, _LOC), known(1, _LOC), workers, [], pool,
                  Endpoint("db", "DB_HOST", _LOC, {}))


def _budget(max_connections: int, reserved: int, clients: list[Client]) -> Budget:
    db = Database("db", "postgresql", _LOC, ObjectRef("StatefulSet", "db"), known(max_connections, _LOC),
                  default(reserved, _LOC, "default"))
    return Budget(db, clients)


CLIENTS = st.lists(
    st.tuples(st.integers(1, 20), st.integers(1, 16), st.integers(0, 30), st.integers(0, 30)),
    min_size=1, max_size=4,
)


@settings(max_examples=100, deadline=None)
@given(CLIENTS, st.integers(1, 5000), st.integers(0, 10), st.data())
def test_largest_replicas_is_exact(specs, max_connections, reserved, data) -> None:
    clients = [_client(f"w{i}", *spec) for i, spec in enumerate(specs)]
    b = _budget(max_connections, reserved, clients)
    target = data.draw(st.sampled_from(clients))
    avail = max_connections - reserved
    others = sum(c.demand for c in clients if c is not target)
    per = target.per_replica
    assert per is not None

    def fits(n: int) -> bool:
        return others + n * per <= avail

    got = b.largest_replicas(target)
    if per == 0:
        # any replica count adds nothing: no largest one exists
        assert got is None
        return
    assert got is not None and got >= 0
    if fits(0):
        assert fits(got) and not fits(got + 1)
        # brute force: the largest n ≥ 0 that fits
        assert got == max(n for n in range(avail // per + 2) if fits(n))
    else:
        assert got == 0  # not even without this workload: nothing fits, reported as 0


@settings(max_examples=100, deadline=None)
@given(CLIENTS, st.integers(1, 5000), st.integers(0, 10))
def test_largest_pool_per_worker_is_exact(specs, max_connections, reserved) -> None:
    clients = [_client(f"w{i}", *spec) for i, spec in enumerate(specs)]
    b = _budget(max_connections, reserved, clients)
    avail = max_connections - reserved
    total_workers = sum(r * w for r, w, _, _ in specs)
    got = b.largest_pool_per_worker()
    best = max((c for c in range(avail + 1) if total_workers * c <= avail), default=None)
    if avail < 0:
        assert got == 0
    else:
        assert got == best
    # and the hint's promise holds: with every worker at that pool, the demand fits
    if got:
        assert sum(r * w * got for r, w, _, _ in specs) <= avail


def test_largest_replicas_through_the_report(tmp_path: Path) -> None:
    worker = """\
  worker:
    image: example/api:1.0
    command: celery -A proj worker -c 2
    environment:
      DATABASE_URL: postgresql://app@db/app
      DB_POOL_SIZE: "1"
      DB_MAX_OVERFLOW: "0"
"""
    r = lint(tmp_path, {"compose.yaml": budget_compose(2, 5, 5, 1, extra=worker)})
    [db] = group_report(r.groups[0], r.facts[0]).databases
    rows = {c.workload: c for c in db.clients}
    # api: 20 per replica, worker uses 2 → (97 − 2) // 20 = 4; worker: 2 per replica → (97 − 20) // 2 = 38
    assert rows["api"].largest_replicas == 4
    assert rows["worker"].largest_replicas == 38


@pytest.mark.parametrize("key", ["SL013", "connection-budget-tight"])
def test_warn_ratio_is_configurable(tmp_path: Path, key: str) -> None:
    text = budget_compose(2, 10, 5, 2)  # 60 of 97: 61%
    r = lint(tmp_path, {"compose.yaml": text})
    assert not findings(r, "SL013")
    r = lint(tmp_path, {"compose.yaml": text}, Config(rule_params={key: {"warn-ratio": 0.6}}))
    [f] = findings(r, "SL013")
    assert f.message.startswith("db: demand 60 is 61% of the 97 available, above the 0.6 warning ratio")
    [db] = group_report(r.groups[0], r.facts[0], warn_ratio=0.6).databases
    assert db.status == "tight"
