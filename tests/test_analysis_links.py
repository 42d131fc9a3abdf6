"""Which workload connects to which database (SPEC §3 SL003, "W connects to D")."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from conftest import POSTGRES_K8S, REGISTRY, lint, pos

from scalelint.analyze.links import endpoints, kube_target
from scalelint.config import Config, ExternalDatabase
from scalelint.model import State, Val, known
from scalelint.pipeline import Options, Run, run

CLIENT_K8S = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: {namespace}
spec:
  replicas: 2
  selector:
    matchLabels: {{app: api}}
  template:
    metadata:
      labels: {{app: api}}
    spec:
      containers:
        - name: api
          image: example/api:1.0
          command: ["uvicorn", "app:app", "--workers", "2"]
{body}
"""






def links(r: Run) -> dict[str, set[str]]:
    """client workload → names of the databases it is counted against."""
    out: dict[str, set[str]] = {}
    for facts in r.facts:
        for b in facts.budgets:
            for c in b.clients:
                out.setdefault(c.workload.name, set()).add(b.database.name)
    return out


def client_of(r: Run, db: str, workload: str = "api"):
    for facts in r.facts:
        for b in facts.budgets:
            if b.database.name == db:
                for c in b.clients:
                    if c.workload.name == workload:
                        return c
    raise AssertionError(f"{workload} is not a client of {db}")


def k8s_client(body: str, namespace: str = "app") -> str:
    return CLIENT_K8S.format(namespace=namespace, body=textwrap.indent(textwrap.dedent(body).strip("\n"), " " * 10))


def env_body(name: str, value: str) -> str:
    return f"env:\n  - name: {name}\n    value: {json.dumps(value)}\n"


# --- Kubernetes DNS forms -------------------------------------------------------------------

DNS = [
    # (client namespace, host, linked?)
    ("db", "pg", True),  # bare service name: same namespace only
    ("app", "pg", False),
    ("app", "pg.db", True),
    ("app", "pg.db.svc", True),
    ("app", "pg.db.svc.cluster.local", True),
    ("app", "pg.db.svc.cluster.local.", True),  # fully qualified, trailing dot
    ("app", "PG.DB.SVC.CLUSTER.LOCAL", True),  # DNS is case-insensitive
    ("app", "postgres-0.postgres.db.svc.cluster.local", True),  # a StatefulSet pod via its governing service
    ("db", "postgres", True),  # the StatefulSet's own name (serviceName)
    ("app", "pg.other", False),  # right service, wrong namespace
    ("app", "pg.app", False),
]


@pytest.mark.parametrize("namespace,host,linked", DNS, ids=[f"{h} from {n}" for n, h, _ in DNS])
@pytest.mark.parametrize("form", ["url", "host-var"])
def test_kubernetes_dns_forms(tmp_path: Path, namespace: str, host: str, linked: bool, form: str) -> None:
    if form == "url":
        body = env_body("DATABASE_URL", f"postgresql+asyncpg://app:secret@{host}:5432/app")
    else:
        body = env_body("DB_HOST", host)
    r = lint(tmp_path, {"db.yaml": POSTGRES_K8S, "api.yaml": k8s_client(body, namespace)})
    assert links(r) == ({"api": {"postgres"}} if linked else {})
    unmatched = [n for n in r.result.notices if "is not defined in the files linted" in n.message]
    if linked:
        assert not unmatched
    else:
        assert len(unmatched) == 1
        assert "databases:" in unmatched[0].message and host.lower().rstrip(".") in unmatched[0].message


def test_kube_target_forms() -> None:
    assert kube_target("pg", "app") == ("app", "pg")
    assert kube_target("pg.db", "app") == ("db", "pg")
    assert kube_target("pg.db.svc", "app") == ("db", "pg")
    assert kube_target("pg.db.svc.cluster.local", "app") == ("db", "pg")
    assert kube_target("pod-0.pg.db.svc.cluster.local", "app") == ("db", "pg")
    assert kube_target("db.example.internal.corp", "app") is None


def test_service_must_select_the_database_pods(tmp_path: Path) -> None:
    other = POSTGRES_K8S.replace("selector: {app: postgres}\n  ports", "selector: {app: redis}\n  ports")
    r = lint(tmp_path, {"db.yaml": other, "api.yaml": k8s_client(env_body("DB_HOST", "pg.db"))})
    assert links(r) == {}


# --- host variables and URL schemes -----------------------------------------------------------

HOST_VARS = ["DB_HOST", "POSTGRES_HOST", "PGHOST", "DATABASE_HOST", "MYSQL_HOST"]


@pytest.mark.parametrize("var", HOST_VARS)
def test_host_only_env(tmp_path: Path, var: str) -> None:
    r = lint(tmp_path, {"db.yaml": POSTGRES_K8S, "api.yaml": k8s_client(env_body(var, "pg.db.svc.cluster.local:5432"))})
    assert links(r) == {"api": {"postgres"}}
    c = client_of(r, "postgres")
    assert c.endpoint.var == var and c.endpoint.host == "pg.db.svc.cluster.local"


def test_unrelated_variable_holding_the_name_is_no_link(tmp_path: Path) -> None:
    r = lint(tmp_path, {"db.yaml": POSTGRES_K8S, "api.yaml": k8s_client(env_body("CACHE_HOST", "pg.db"))})
    assert links(r) == {}


URLS = [
    ("postgres://u:p@{h}/app", True),
    ("postgresql://u:p@{h}:5432/app", True),
    ("postgresql+asyncpg://u:p@{h}:5432/app", True),
    ("postgresql+psycopg2://{h}/app?sslmode=disable", True),
    ("postgresql+psycopg://u@{h}:5432,other-host:5432/app", True),  # multi-host (libpq)
    ("mysql+pymysql://u:p@{h}:3306/app", True),
    ("mysql://u:p@{h}/app", True),
    ("mariadb://u:p@{h}/app", True),
    ("redis://{h}:6379/0", False),
    ("http://{h}:5432/", False),
]


@pytest.mark.parametrize("template,linked", URLS, ids=[u for u, _ in URLS])
def test_url_schemes(tmp_path: Path, template: str, linked: bool) -> None:
    r = lint(tmp_path, {"db.yaml": POSTGRES_K8S,
                        "api.yaml": k8s_client(env_body("DATABASE_URL", template.format(h="pg.db")))})
    assert links(r) == ({"api": {"postgres"}} if linked else {})


def test_mysql_url_links_a_mysql_database(tmp_path: Path) -> None:
    compose = """\
services:
  api:
    image: example/api:1.0
    environment:
      SQLALCHEMY_DATABASE_URI: mysql+pymysql://app:secret@mysql:3306/app
  mysql:
    image: mysql:8.4
"""
    r = lint(tmp_path, {"compose.yaml": compose})
    assert links(r) == {"api": {"mysql"}}
    b = r.facts[0].budgets[0]
    assert b.database.engine == "mysql" and b.available == 151


def test_password_from_a_secret_keeps_the_host(tmp_path: Path) -> None:
    body = """\
        env:
          - name: DB_PASSWORD
            valueFrom:
              secretKeyRef: {name: db-credentials, key: password}
          - name: DATABASE_URL
            value: "postgresql+asyncpg://app:$(DB_PASSWORD)@pg.db.svc.cluster.local:5432/app"
        """
    api = k8s_client(body)
    r = lint(tmp_path, {"db.yaml": POSTGRES_K8S, "api.yaml": api})
    assert links(r) == {"api": {"postgres"}}
    wl = next(w for w in r.groups[0].workloads if w.name == "api")
    url = r.facts[0].env(wl, wl.containers[0])["DATABASE_URL"]
    assert url.state is State.UNKNOWN and "DB_PASSWORD" in url.reason
    assert "$(DB_PASSWORD)" in str(url.value)  # never resolved, never guessed
    c = client_of(r, "postgres")
    assert c.endpoint.loc is not None and (c.endpoint.loc.line, c.endpoint.loc.column) == pos(api, '"postgresql')
    # the pool does not depend on the password: the budget is still complete
    assert c.demand == 2 * 2 * 15


def test_url_from_a_configmap(tmp_path: Path) -> None:
    cm = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: api-config
  namespace: app
data:
  DATABASE_URL: postgresql://app@pg.db:5432/app?pool_size=3&max_overflow=2
"""
    for body in ("envFrom:\n  - configMapRef: {name: api-config}\n",
                 ("env:\n  - name: DATABASE_URL\n    valueFrom:\n"
                  "      configMapKeyRef: {name: api-config, key: DATABASE_URL}\n")):
        r = lint(tmp_path, {"db.yaml": POSTGRES_K8S, "cm.yaml": cm, "api.yaml": k8s_client(body)})
        assert links(r) == {"api": {"postgres"}}
        c = client_of(r, "postgres")
        assert c.endpoint.loc is not None and c.endpoint.loc.path == str(tmp_path / "cm.yaml")
        assert (c.endpoint.loc.line, c.endpoint.loc.column) == pos(cm, "postgresql://")
        # pool settings in the URL's query string
        assert c.pool.per_worker == 5 and not c.pool.assumed
        assert c.demand == 2 * 2 * 5


def test_configmap_in_another_namespace_is_not_read(tmp_path: Path) -> None:
    cm = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: api-config
  namespace: other
data:
  DATABASE_URL: postgresql://app@pg.db:5432/app
"""
    r = lint(tmp_path, {"db.yaml": POSTGRES_K8S, "cm.yaml": cm,
                        "api.yaml": k8s_client("envFrom:\n  - configMapRef: {name: api-config}\n")})
    assert links(r) == {}


# --- compose names ----------------------------------------------------------------------------

COMPOSE_DB = """\
services:
  api:
    image: example/api:1.0
    command: uvicorn app:app --workers 2
    environment:
      {var}: {value}
  database:
    image: postgres:16-alpine
    container_name: main-postgres
    hostname: pg-host
    networks:
      backend:
        aliases: [primary-db]
networks:
  backend: {{}}
"""


@pytest.mark.parametrize("host,linked", [
    ("database", True), ("main-postgres", True), ("primary-db", True), ("pg-host", True),
    ("DATABASE", True), ("api", False), ("postgres", False),
])
def test_compose_names(tmp_path: Path, host: str, linked: bool) -> None:
    for var, value in (("DATABASE_URL", f"postgresql://app:pw@{host}:5432/app"), ("POSTGRES_HOST", host)):
        r = lint(tmp_path, {"compose.yaml": COMPOSE_DB.format(var=var, value=value)})
        assert links(r) == ({"api": {"database"}} if linked else {}), (var, value)


def test_compose_url_interpolated_from_env(tmp_path: Path) -> None:
    compose = COMPOSE_DB.format(var="DATABASE_URL", value="postgresql://app:${DB_PASSWORD}@${DB_HOST:-database}/app")
    r = lint(tmp_path, {"compose.yaml": compose, ".env": "DB_PASSWORD=s3cret\n"})
    assert links(r) == {"api": {"database"}}
    r = lint(tmp_path, {"compose.yaml": compose, ".env": "DB_PASSWORD=s3cret\nDB_HOST=primary-db\n"})
    assert links(r) == {"api": {"database"}}


def test_a_database_does_not_count_itself(tmp_path: Path) -> None:
    compose = """\
services:
  database:
    image: postgres:16
    environment:
      PGHOST: database
"""
    r = lint(tmp_path, {"compose.yaml": compose})
    assert links(r) == {}


def test_two_urls_to_the_same_database_count_once(tmp_path: Path) -> None:
    compose = """\
services:
  api:
    image: example/api:1.0
    environment:
      DATABASE_URL: postgresql://app@database/app
      DB_HOST: database
  database:
    image: postgres:16
"""
    r = lint(tmp_path, {"compose.yaml": compose})
    assert links(r) == {"api": {"database"}}
    assert len(r.facts[0].budgets[0].clients) == 1


# --- hosts outside the files --------------------------------------------------------------------

def test_unknown_host_gets_a_notice_suggesting_databases(tmp_path: Path) -> None:
    compose = """\
services:
  api:
    image: example/api:1.0
    environment:
      DATABASE_URL: postgresql://app@prod-db.abc123.eu-west-1.rds.amazonaws.com:5432/app
      CACHE_URL: redis://cache:6379/0
"""
    r = lint(tmp_path, {"compose.yaml": compose})
    assert links(r) == {}
    notes = [n for n in r.result.notices if "is not defined in the files linted" in n.message]
    assert len(notes) == 1
    n = notes[0]
    assert "prod-db.abc123.eu-west-1.rds.amazonaws.com" in n.message and "DATABASE_URL" in n.message
    assert "`databases:`" in n.message
    assert (n.path, n.line, n.column) == (str(tmp_path / "compose.yaml"), *pos(compose, "postgresql://"))


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "/var/run/postgresql"])
def test_local_hosts_are_not_noticed(tmp_path: Path, host: str) -> None:
    value = f"postgresql://app@{host}/app" if not host.startswith("/") else f"postgresql:///app?host={host}"
    compose = f"services:\n  api:\n    image: example/api:1.0\n    environment:\n      DATABASE_URL: {value}\n"
    r = lint(tmp_path, {"compose.yaml": compose})
    assert not [n for n in r.result.notices if "is not defined in the files linted" in n.message]


RDS = ExternalDatabase(name="orders-db", hosts=("orders.abc123.eu-west-1.rds.amazonaws.com", "orders-db.internal"),
                       max_connections=400, reserved=3)


@pytest.mark.parametrize("host", ["orders.abc123.eu-west-1.rds.amazonaws.com", "ORDERS-DB.internal", "orders-db"])
def test_config_databases_matched_by_host_compose(tmp_path: Path, host: str) -> None:
    compose = f"""\
services:
  api:
    image: example/api:1.0
    command: gunicorn -w 4 app:app
    deploy:
      replicas: 3
    environment:
      DATABASE_URL: postgresql+psycopg://app@{host}:5432/orders
      DB_POOL_SIZE: "20"
      DB_MAX_OVERFLOW: "15"
"""
    r = lint(tmp_path, {"compose.yaml": compose}, Config(databases=[RDS]))
    assert links(r) == {"api": {"orders-db"}}
    b = r.facts[0].budgets[0]
    assert b.database.external and b.available == 397
    assert b.demand == 3 * 4 * 35 == 420
    sl003 = [f for f in r.result.findings if f.code == "SL003"]
    assert len(sl003) == 1 and "orders-db: demand 420 > 397 available" in sl003[0].message
    assert not [n for n in r.result.notices if "is not defined in the files linted" in n.message]


def test_config_databases_matched_by_host_kubernetes(tmp_path: Path) -> None:
    api = k8s_client(env_body("DB_HOST", "orders-db.internal"))
    r = lint(tmp_path, {"api.yaml": api}, Config(databases=[RDS]))
    assert links(r) == {"api": {"orders-db"}}


def test_in_graph_service_wins_over_a_config_entry_with_the_same_name(tmp_path: Path) -> None:
    ext = ExternalDatabase(name="pg", hosts=("pg.db",), max_connections=1000, reserved=0)
    r = lint(tmp_path, {"db.yaml": POSTGRES_K8S, "api.yaml": k8s_client(env_body("DB_HOST", "pg.db"))},
             Config(databases=[ext]))
    assert links(r) == {"api": {"postgres"}}


# --- the endpoint parser on its own -----------------------------------------------------------

def _env(**values: str) -> dict[str, Val[str]]:
    return {k: known(v, None) for k, v in values.items()}


def test_endpoints_parse_hosts_and_query() -> None:
    eps = endpoints(_env(
        DATABASE_URL="postgresql+asyncpg://u:p%40ss@Db.Example:6543/app?pool_size=7&max_overflow=3",
        PGHOST="pg.db:5432",
        OTHER="not a url",
    ))
    assert [(e.var, e.host) for e in eps] == [("DATABASE_URL", "db.example"), ("PGHOST", "pg.db")]
    assert eps[0].query == {"pool_size": "7", "max_overflow": "3"}


def test_endpoints_ipv6_and_multi_host() -> None:
    eps = endpoints(_env(DATABASE_URL="postgresql://u@[::1]:5432,db2:5433/app"))
    assert [e.host for e in eps] == ["::1", "db2"]


def test_config_database_finding_points_at_its_config_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from scalelint.config.file import load_config

    (tmp_path / ".scalelint.yaml").write_text(
        "databases:\n"
        "  - name: orders-db\n"
        "    hosts: [orders-db.internal]\n"
        "    max-connections: 50\n")
    compose = """\
services:
  api:
    image: example/api:1.0
    command: gunicorn -w 4 app:app
    environment:
      DATABASE_URL: postgresql://app@orders-db.internal/orders
"""
    (tmp_path / "compose.yaml").write_text(compose)
    monkeypatch.chdir(tmp_path)
    config = load_config(None, str(tmp_path))
    r = run(Options(paths=["compose.yaml"]), config, REGISTRY)
    [f] = [f for f in r.result.findings if f.code == "SL003"]
    assert f.message.startswith("orders-db: demand 60 > 47 available (max_connections 50 − 3 reserved)")
    assert (f.path, f.line, f.column) == (".scalelint.yaml", 4, 5)  # the `max-connections:` key
