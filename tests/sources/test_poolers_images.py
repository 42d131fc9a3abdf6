"""Pooler images: recognition, each image's env, mounted config files, and what they get wrong."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scalelint.findings import Loc
from scalelint.model import State, Val, known, unknown
from scalelint.sources.poolers import (
    MountedConfig,
    PoolerSettings,
    PoolUse,
    config_paths,
    image_name,
    read_container_pooler,
    recognize_image,
    server_connections_per_replica,
)

IMAGE = Loc("compose.yml", 3, 12)


def _env(**values: str) -> dict[str, Val[str]]:
    """Env as a compose file would give it: one variable a line from line 10, value at column 9."""
    return {name: known(value, Loc("compose.yml", 10 + i, 9)) for i, (name, value) in enumerate(values.items())}


def _read(image: str, mounted: MountedConfig | None = None, /, **env: str) -> PoolerSettings:
    result = read_container_pooler(image, _env(**env), mounted=mounted, image_loc=IMAGE)
    assert result is not None
    return result


def _messages(result: PoolerSettings) -> list[str]:
    return [message for message, _ in result.problems]


@pytest.mark.parametrize(("image", "kind", "flavour"), [
    ("bitnami/pgbouncer", "pgbouncer", "bitnami"),
    ("docker.io/bitnami/pgbouncer:1.22.0-debian-12-r3", "pgbouncer", "bitnami"),
    ("bitnamilegacy/pgbouncer@sha256:abcdef", "pgbouncer", "bitnami"),
    ("registry.example.com:5000/mirror/edoburu/pgbouncer:v1.24.1-p1", "pgbouncer", "edoburu"),
    ("pgbouncer/pgbouncer", "pgbouncer", "pgbouncer/pgbouncer"),
    ("brainsam/pgbouncer:latest", "pgbouncer", "brainsam"),
    ("ghcr.io/cloudnative-pg/pgbouncer:1.25.1", "pgbouncer", "generic"),
    ("giggio/pgbouncer", "pgbouncer", "generic"),
    ("my-pgbouncer", "pgbouncer", "generic"),
    ("docker.io/bitnami/pgpool:4", "pgpool", "bitnami"),
    ("pgpool/pgpool:4.4", "pgpool", "pgpool/pgpool"),
    ("proxysql/proxysql:2.5.5", "proxysql", "proxysql"),
    ("severalnines/proxysql", "proxysql", "proxysql"),
])
def test_recognize(image: str, kind: str, flavour: str) -> None:
    found = recognize_image(image)
    assert found is not None and (found.kind, found.flavour) == (kind, flavour)


@pytest.mark.parametrize("image", [None, "", "postgres:16", "vitorsalgado/rinha-2024q1-bouncer", "${IMAGE}",
                                   "percona-postgresql-operator:main-pgbouncer18", "bitnami/postgresql"])
def test_not_poolers(image: str | None) -> None:
    assert recognize_image(image) is None
    assert read_container_pooler(image, {}) is None


def test_image_name_and_config_paths() -> None:
    assert image_name("localhost:5000/library/pgbouncer:1") == "pgbouncer"
    bitnami = recognize_image("bitnami/pgbouncer")
    assert bitnami is not None
    assert config_paths(bitnami) == ("/bitnami/pgbouncer/conf/pgbouncer.ini", "/opt/bitnami/pgbouncer/conf/pgbouncer.ini")
    edoburu = recognize_image("edoburu/pgbouncer")
    assert edoburu is not None and config_paths(edoburu) == ("/etc/pgbouncer/pgbouncer.ini",)
    pgpool = recognize_image("bitnami/pgpool")
    assert pgpool is not None and config_paths(pgpool, _env(PGPOOL_USER_CONF_FILE="/config/my.conf")) == (
        "/config/my.conf",)


def test_bitnami_env_and_defaults() -> None:
    result = _read("bitnami/pgbouncer:1", POSTGRESQL_HOST="pg", POSTGRESQL_PASSWORD="x",
                   PGBOUNCER_POOL_MODE="transaction", PGBOUNCER_DEFAULT_POOL_SIZE="25",
                   PGBOUNCER_RESERVE_POOL_SIZE="5", PGBOUNCER_MAX_CLIENT_CONN="500")
    assert result.problems == [] and result.source == "env"
    assert result.mode.value == "transaction" and result.mode.loc == Loc("compose.yml", 12, 9)
    assert (result.default_pool_size.value, result.reserve_pool_size.value, result.max_client_conn.value) == (25, 5, 500)
    assert result.listen_port.value == 6432 and result.listen_port.state is State.DEFAULT
    assert "pgbouncer-env.sh" in result.listen_port.reason
    assert [(b.host, b.port) for b in result.backends] == [("pg", 5432)]
    (database,) = result.databases
    assert database.name == "postgres" and not database.forced_user  # PGBOUNCER_DATABASE default
    # no forced user: one pool per client user — 2 users × (25 + 5) = 60
    uses = [PoolUse("postgres", "api"), PoolUse("postgres", "worker")]
    assert server_connections_per_replica(result, uses).value == 60


def test_bitnami_listen_port_env_is_not_read() -> None:
    result = _read("bitnami/pgbouncer", POSTGRESQL_PASSWORD="x", PGBOUNCER_LISTEN_PORT="5432", POOL_MODE="transaction")
    messages = _messages(result)
    assert any(m.startswith("PGBOUNCER_LISTEN_PORT is not read by bitnami/pgbouncer") and "PGBOUNCER_PORT" in m
               for m in messages)
    assert any(m.startswith("POOL_MODE is not read") and "PGBOUNCER_POOL_MODE" in m for m in messages)
    assert result.listen_port.value == 6432 and result.mode.value == "session"
    loc = {m.split(" ")[0]: loc for m, loc in result.problems}
    assert loc["PGBOUNCER_LISTEN_PORT"] == Loc("compose.yml", 11, 9)


def test_bitnami_forced_user_dsn_and_validation() -> None:
    result = _read("bitnami/pgbouncer", PGBOUNCER_SET_DATABASE_USER="yes", POSTGRESQL_USERNAME="app",
                   PGBOUNCER_DSN_0="reports=host=replica port=5433", PGBOUNCER_POOL_MODE="Transaction",
                   PGBOUNCER_PORT="64xx")
    messages = _messages(result)
    assert any("POSTGRESQL_PASSWORD" in m for m in messages)
    assert any("PGBOUNCER_POOL_MODE='Transaction'" in m for m in messages)
    assert any("PGBOUNCER_PORT='64xx'" in m for m in messages)
    main = next(d for d in result.databases if d.name == "postgres")
    assert main.user is not None and main.user.value == "app"
    reports = next(d for d in result.databases if d.name == "reports")
    assert reports.host is not None and reports.host.loc == Loc("compose.yml", 12, 22)  # value of host= in the DSN
    assert [(b.host, b.port) for b in result.backends] == [("postgresql", 5432), ("replica", 5433)]


def test_bitnami_mounted_ini() -> None:
    ini = MountedConfig("[pgbouncer]\npool_mode = transaction\n[databases]\n* = host=pg\n", "pgbouncer.ini",
                        target="/bitnami/pgbouncer/conf/pgbouncer.ini")
    result = _read("bitnami/pgbouncer", ini, POSTGRESQL_PASSWORD="x", PGBOUNCER_DEFAULT_POOL_SIZE="99")
    assert result.source == "ini" and result.mode.value == "transaction"
    assert result.default_pool_size.value == 20  # the file replaces env: PgBouncer's default
    assert any(m.startswith("PGBOUNCER_DEFAULT_POOL_SIZE is not read: the pgbouncer.ini mounted") for m in _messages(result))
    wrong = MountedConfig(ini.text, "pgbouncer.ini", target="/opt/bitnami/pgbouncer/conf/pgbouncer.ini")
    result = _read("bitnami/pgbouncer", wrong, POSTGRESQL_PASSWORD="x", PGBOUNCER_DEFAULT_POOL_SIZE="99")
    assert result.source == "env" and result.default_pool_size.value == 99
    assert any("mount it under /bitnami/pgbouncer/conf/" in m for m in _messages(result))


def test_edoburu_pool_size_refused_and_port_5432() -> None:
    result = _read("edoburu/pgbouncer", DB_HOST="db", POOL_SIZE="30", DEFAULT_POOL_SIZE="10", MAX_CLIENT_CONN="200")
    (message, loc), = result.problems
    assert message.startswith("POOL_SIZE: edoburu/pgbouncer writes `pool_size = 30` into [pgbouncer]")
    assert "does not start" in message and loc == Loc("compose.yml", 11, 9)
    assert result.listen_port.value == 5432 and "edoburu" in result.listen_port.reason
    assert (result.default_pool_size.value, result.max_client_conn.value) == (10, 200)
    (database,) = result.databases
    assert database.name == "*" and not database.forced_user  # auth_user=, not user=


def test_edoburu_database_url() -> None:
    result = _read("edoburu/pgbouncer:1.18.0", DATABASE_URL="postgres://myuser:secret@db:6543/crebito",
                   POOL_MODE="transaction", MAX_DB_CONNECTIONS="40", DEFAULT_POOL_SIZE="40", TIMEZONE="UTC")
    assert [(b.host, b.port) for b in result.backends] == [("db", 6543)]
    assert result.databases[0].name == "crebito"
    assert result.max_db_connections.value == 40 and result.mode.value == "transaction"
    assert any("`timezone = UTC` into [pgbouncer]" in m for m in _messages(result))
    bad = _read("edoburu/pgbouncer", DATABASE_URL="postgres://u:p@db/app?sslmode=disable")
    assert any("'app?sslmode=disable' as a [databases] key" in m for m in _messages(bad))
    missing = _read("edoburu/pgbouncer", POOL_MODE="session")
    assert any("needs DB_HOST or DATABASE_URL" in m for m in _messages(missing))


def test_edoburu_mounted_ini_overrides_env() -> None:
    text = "[databases]\napp = host=db user=svc pool_size=15\n[pgbouncer]\npool_mode = session\nlisten_port = 6432\n"
    result = _read("edoburu/pgbouncer", MountedConfig(text, "pgbouncer.ini"), DB_HOST="other",
                   POOL_MODE="transaction", DEFAULT_POOL_SIZE="50", DB_PASSWORD="x")
    assert result.source == "ini" and result.config_path == "pgbouncer.ini"
    assert result.mode.value == "session" and result.mode.loc == Loc("pgbouncer.ini", 4, 13)
    assert result.listen_port.value == 6432
    assert [(b.host, b.port) for b in result.backends] == [("db", 5432)]
    unread = sorted(m.split(" ")[0] for m in _messages(result))
    assert unread == ["DB_HOST", "DEFAULT_POOL_SIZE", "POOL_MODE"]  # DB_PASSWORD still feeds userlist.txt
    # forced user: one pool however many client users — 15 + 0 reserve
    uses = [PoolUse("app", "a"), PoolUse("app", "b"), PoolUse("app", "c")]
    assert server_connections_per_replica(result, uses).value == 15


def test_brainsam() -> None:
    result = _read("brainsam/pgbouncer", DB_HOST="pg", DB_USER="app", DATABASE_URL="postgres://x@y/z", POOL_SIZE="4",
                   MAX_CLIENT_CONN="300")
    assert result.listen_port.value == 6432  # no LISTEN_PORT: brainsam writes no listen_port
    assert result.databases[0].forced_user and result.max_client_conn.value == 300
    messages = _messages(result)
    assert any(m.startswith("DATABASE_URL is not read by brainsam/pgbouncer") for m in messages)
    assert any(m.startswith("POOL_SIZE is not read by brainsam/pgbouncer") for m in messages)
    assert _read("brainsam/pgbouncer", DB_HOST="pg", LISTEN_PORT="5432").listen_port.value == 5432


def test_pgbouncer_pgbouncer_pool_mode_ignored() -> None:
    result = _read("pgbouncer/pgbouncer", DATABASES_HOST="postgres", DATABASES_USER="postgres",
                   DATABASES_POOL_SIZE="20", PGBOUNCER_RESERVE_POOL_SIZE="50", PGBOUNCER_DEFAULT_POOL_SIZE="50",
                   POOL_MODE="transaction")
    (message, loc), = result.problems
    assert message == "POOL_MODE is not read by pgbouncer/pgbouncer: pgbouncer/pgbouncer reads PGBOUNCER_POOL_MODE"
    assert loc == Loc("compose.yml", 15, 9)
    assert result.mode.value == "session" and result.listen_port.value == 6432
    # forced user DATABASES_USER → one pool: per-database pool_size 20 + global reserve 50 = 70
    cap = server_connections_per_replica(result, [PoolUse("app", "a"), PoolUse("app", "b")])
    assert (cap.value, cap.state) == (70, State.KNOWN)


def test_pgbouncer_pgbouncer_overwrites_mounted_ini() -> None:
    result = _read("pgbouncer/pgbouncer", MountedConfig("[pgbouncer]\npool_mode = transaction\n", "p.ini"),
                   DATABASES_HOST="pg")
    assert result.source == "env" and result.mode.value == "session"
    assert any("rewrites /etc/pgbouncer/pgbouncer.ini from env on every start" in m for m in _messages(result))


def test_generic_image_assumes_defaults_or_reads_its_file() -> None:
    result = _read("giggio/pgbouncer", PGB_DATABASES="rinha = host=localhost pool_size=20")
    assert result.source == "defaults" and result.problems == []
    assert result.default_pool_size.state is State.ASSUMED and result.backends == []
    assert any("does not know how this image" in n.message for n in result.notices)
    mounted = _read("giggio/pgbouncer", MountedConfig("[pgbouncer]\n[databases]\nrinha = host=db\n", "b.ini"))
    assert mounted.source == "ini" and mounted.default_pool_size.state is State.DEFAULT


def test_bad_env_values_are_unknown_with_positions() -> None:
    env = _env(DB_HOST="db", DEFAULT_POOL_SIZE="abc", MAX_CLIENT_CONN="${CONN}")
    env["RESERVE_POOL_SIZE"] = unknown(Loc("compose.yml", 20, 9), "from Secret pooler")
    result = read_container_pooler("edoburu/pgbouncer", env, image_loc=IMAGE)
    assert result is not None
    assert result.default_pool_size.state is State.UNKNOWN and result.default_pool_size.loc == Loc("compose.yml", 11, 9)
    assert any("'abc' is not a whole number" in m for m in _messages(result))
    assert result.max_client_conn.state is State.UNKNOWN and "unresolved" in result.max_client_conn.reason
    assert result.reserve_pool_size.state is State.UNKNOWN
    assert server_connections_per_replica(result).state is State.UNKNOWN


PGPOOL_ENV = {"PGPOOL_BACKEND_NODES": "0:pg-0:5432,1:pg-1:5432", "PGPOOL_SR_CHECK_USER": "repmgr",
              "PGPOOL_SR_CHECK_PASSWORD": "x", "PGPOOL_POSTGRES_USERNAME": "postgres",
              "PGPOOL_POSTGRES_PASSWORD": "x", "PGPOOL_ADMIN_USERNAME": "admin", "PGPOOL_ADMIN_PASSWORD": "x"}


def test_bitnami_pgpool_defaults() -> None:
    result = _read("bitnami/pgpool:4", **PGPOOL_ENV)
    assert result.kind == "pgpool" and result.problems == []
    assert result.num_init_children is not None and result.max_pool is not None
    assert (result.num_init_children.value, result.max_pool.value, result.listen_port.value) == (32, 15, 5432)
    assert [(b.host, b.port) for b in result.backends] == [("pg-0", 5432), ("pg-1", 5432)]
    assert result.max_client_conn.value == 32
    # 32 children × 15 cached connections × 2 backends
    assert server_connections_per_replica(result).value == 960


def test_bitnami_pgpool_problems() -> None:
    result = _read("bitnami/pgpool", PGPOOL_NUM_INIT_CHILDREN="zero", PGPOOL_PORT="9999", PGPOOL_MAX_POOL="2")
    messages = _messages(result)
    assert any("needs PGPOOL_BACKEND_NODES" in m for m in messages)
    assert any("PGPOOL_ADMIN_USERNAME" in m for m in messages)
    assert any(m.startswith("PGPOOL_PORT is not read by bitnami/pgpool") and "PGPOOL_PORT_NUMBER" in m
               for m in messages)
    assert any("num_init_children 'zero'" in m for m in messages)
    assert result.num_init_children is not None and result.num_init_children.state is State.UNKNOWN


def test_official_pgpool_env_and_mounted_conf() -> None:
    result = _read("pgpool/pgpool", PGPOOL_PARAMS_BACKEND_HOSTNAME0="primary", PGPOOL_PARAMS_NUM_INIT_CHILDREN="10")
    assert result.num_init_children is not None and result.max_pool is not None
    assert (result.num_init_children.value, result.max_pool.value, result.listen_port.value) == (10, 4, 9999)
    assert [(b.host, b.port) for b in result.backends] == [("primary", 5432)]
    assert server_connections_per_replica(result).value == 40
    conf = MountedConfig("num_init_children = 20  # children\nmax_pool = '2'\nbackend_hostname0 = 'db'\n"
                         "backend_port0 = 5433\n", "pgpool.conf")
    mounted = _read("pgpool/pgpool", conf, PGPOOL_PARAMS_NUM_INIT_CHILDREN="10")
    assert mounted.num_init_children is not None and mounted.num_init_children.value == 20
    assert mounted.num_init_children.loc == Loc("pgpool.conf", 1, 21)
    assert [(b.host, b.port) for b in mounted.backends] == [("db", 5433)]
    assert any("PGPOOL_PARAMS_NUM_INIT_CHILDREN is not read" in m for m in _messages(mounted))


PROXYSQL_CNF = """\
datadir="/var/lib/proxysql"
mysql_variables=
{
    threads=4
    max_connections=512  // clients
    interfaces="0.0.0.0:3306;/tmp/proxysql.sock"
}
mysql_servers =
(
    { address="mysql-primary" , port=3306 , hostgroup=10, max_connections=100 },
    { address="mysql-replica" , hostgroup=20 }
)
/* users elsewhere */
"""


def test_proxysql_config() -> None:
    result = _read("proxysql/proxysql:2.5", MountedConfig(PROXYSQL_CNF, "proxysql.cnf"))
    assert result.kind == "proxysql" and result.problems == []
    assert result.max_client_conn.value == 512 and result.max_client_conn.loc == Loc("proxysql.cnf", 5, 21)
    assert result.listen_port.value == 3306
    caps = [(b.host, b.port, b.max_connections.value if b.max_connections else None) for b in result.backends]
    assert caps == [("mysql-primary", 3306, 100), ("mysql-replica", 3306, 1000)]  # ProxySQL default 1000
    assert server_connections_per_replica(result).value == 1100


def test_proxysql_without_or_with_broken_config() -> None:
    bare = _read("proxysql/proxysql")
    assert bare.max_client_conn.value == 2048 and bare.listen_port.value == 6033 and bare.backends == []
    assert server_connections_per_replica(bare).state is State.UNKNOWN
    broken = _read("proxysql/proxysql", MountedConfig("mysql_servers = ( { address = \"x\" ", "p.cnf"))
    assert broken.problems and broken.backends == []
    deep = _read("proxysql/proxysql", MountedConfig("a = " + "(" * 5000 + ")" * 5000, "p.cnf"))
    assert any("nested too deep" in m for m in _messages(deep))


def test_bitnami_file_variables_are_unknown() -> None:
    result = _read("bitnami/pgbouncer", POSTGRESQL_PASSWORD_FILE="/run/secrets/pw",
                   PGBOUNCER_DEFAULT_POOL_SIZE_FILE="/run/secrets/size")
    assert result.problems == []
    assert result.default_pool_size.state is State.UNKNOWN and "read from the file" in result.default_pool_size.reason
    # edoburu has no *_FILE convention: the plain variable still counts
    edoburu = _read("edoburu/pgbouncer", DB_HOST="db", DEFAULT_POOL_SIZE="7", DEFAULT_POOL_SIZE_FILE="/x")
    assert edoburu.default_pool_size.value == 7


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(["bitnami/pgbouncer", "edoburu/pgbouncer", "brainsam/pgbouncer", "pgbouncer/pgbouncer",
                        "x/pgbouncer", "bitnami/pgpool", "pgpool/pgpool", "proxysql/proxysql"]),
       st.dictionaries(st.sampled_from(["DB_HOST", "DATABASE_URL", "POOL_SIZE", "DEFAULT_POOL_SIZE", "PGBOUNCER_PORT",
                                        "PGBOUNCER_DSN_0", "DATABASES_HOST", "DATABASES_POOL_SIZE",
                                        "PGPOOL_BACKEND_NODES", "PGPOOL_PARAMS_BACKEND_HOSTNAME0", "CLIENT_ENCODING"]),
                       st.text(alphabet=st.sampled_from(list("ab:/@=?*$ {}()'0123456789.,;#\n-_")), max_size=24)),
       st.one_of(st.none(), st.text(max_size=60)))
def test_hostile_env_and_files_never_raise(image: str, values: dict[str, str], text: str | None) -> None:
    mounted = None if text is None else MountedConfig(text, "mounted")
    result = _read(image, mounted, **values)
    server_connections_per_replica(result, [PoolUse(None, None), PoolUse("a", "b")])
