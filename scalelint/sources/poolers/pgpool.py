"""Pgpool-II's pool settings from the bitnami/pgpool or pgpool/pgpool container env and pgpool.conf.

Pgpool-II pools per child process: ``num_init_children`` children each serve one client at a
time (more clients wait) and each keeps up to ``max_pool`` cached backend connections, so one
Pgpool-II opens up to ``num_init_children × max_pool`` connections to each backend
(https://www.pgpool.net/docs/latest/en/html/runtime-config-connection-pooling.html).

Sources of the image behaviour:

- bitnami/pgpool: github.com/bitnami/containers ``bitnami/pgpool/4/debian-12/rootfs/opt/bitnami/
  scripts/pgpool-env.sh`` (names, defaults) and ``libpgpool.sh`` (``pgpool_validate``,
  ``pgpool_create_config``: the sample config, then env, then the file named by
  ``PGPOOL_USER_CONF_FILE`` appended, so the file wins);
- pgpool/pgpool: github.com/pgpool/pgpool2_on_k8s ``pgpool.docker/entrypoint.sh``: a mounted
  ``/config/pgpool.conf`` is used as is, else every ``PGPOOL_PARAMS_<NAME>`` becomes
  ``name = 'value'``.
"""
from __future__ import annotations

import re
from collections.abc import Mapping

from scalelint.findings import Loc
from scalelint.model import State, Val, default, known, unknown

from .model import Backend, MountedConfig, PoolerSettings, Problem, env_text, lookup, notice, to_int

__all__ = ["parse_pgpool_conf", "read_pgpool"]

def _words(text: str) -> list[str]:
    return text.split()


_LINE = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=?\s*(.*)")
# bitnami reads these besides the pgpool-env.sh list (libpgpool.sh pgpool_create_config / pgpool_validate)
_BITNAMI_READS = frozenset(_words("""
USER_CONF_FILE USER_HBA_FILE PASSWD_FILE PORT_NUMBER ENABLE_POOL_HBA ENABLE_POOL_PASSWD ENABLE_LOAD_BALANCING
ENABLE_STATEMENT_LOAD_BALANCING DISABLE_LOAD_BALANCE_ON_WRITE ENABLE_CONNECTION_CACHE TIMEOUT CONNECT_TIMEOUT
MAX_POOL HEALTH_CHECK_PERIOD HEALTH_CHECK_TIMEOUT HEALTH_CHECK_MAX_RETRIES HEALTH_CHECK_RETRY_DELAY
HEALTH_CHECK_PSQL_TIMEOUT AUTO_FAILBACK DISCARD_STATUS SR_CHECK_USER SR_CHECK_PASSWORD SR_CHECK_DATABASE
SR_CHECK_PERIOD HEALTH_CHECK_USER HEALTH_CHECK_PASSWORD ADMIN_USERNAME ADMIN_PASSWORD POSTGRES_USERNAME
POSTGRES_PASSWORD POSTGRES_CUSTOM_USERS POSTGRES_CUSTOM_PASSWORDS ENABLE_LDAP AUTHENTICATION_METHOD AES_KEY
ENABLE_TLS TLS_CA_FILE TLS_CERT_FILE TLS_KEY_FILE TLS_PREFER_SERVER_CIPHERS ENABLE_LOG_CONNECTIONS
ENABLE_LOG_HOSTNAME ENABLE_LOG_PCP_PROCESSES ENABLE_LOG_PER_NODE_STATEMENT BACKEND_NODES BACKEND_APPLICATION_NAMES
FAILOVER_ON_BACKEND_SHUTDOWN FAILOVER_ON_BACKEND_ERROR DAEMON_USER DAEMON_GROUP NUM_INIT_CHILDREN
RESERVED_CONNECTIONS CHILD_MAX_CONNECTIONS CHILD_LIFE_TIME CONNECTION_LIFE_TIME CLIENT_IDLE_LIMIT
LOG_LINE_PREFIX CLIENT_MIN_MESSAGES
"""))
_OFFICIAL_READS = frozenset(_words("ENABLE_POOL_PASSWD PASSWORD_ENCRYPTION_METHOD SKIP_PASSWORD_ENCRYPTION PCP_USER "
                                   "PCP_PASSWORD"))

# https://www.pgpool.net/docs/latest/en/html/runtime-config-connection-pooling.html: num_init_children
# "Default is 32", max_pool "Default is 4"; backend_port (runtime-config-backend-settings) 5432.
_PGPOOL_CHILDREN, _PGPOOL_MAX_POOL = 32, 4


def parse_pgpool_conf(text: str, path: str, *, line_offset: int = 0,
                      column_offset: int = 0) -> tuple[dict[str, Val[str]], list[Problem]]:
    """Settings of a ``pgpool.conf`` (``name = value``, ``#`` comments, ``'quoted'`` values),
    the last of a name winning, each with the position of its value."""
    settings: dict[str, Val[str]] = {}
    problems: list[Problem] = []
    for number, raw in enumerate(text.lstrip("\ufeff").split("\n"), start=1):
        line = raw.rstrip("\r")
        body = _strip_comment(line)
        if not body.strip():
            continue
        match = _LINE.fullmatch(body)
        loc = Loc(path, number + line_offset, len(line) - len(line.lstrip()) + 1 + column_offset)
        if match is None:
            problems.append((f"pgpool.conf: cannot read {body.strip()!r}; Pgpool-II stops with a syntax error", loc))
            continue
        value = match.group(2).strip()
        if value.startswith("'") and value.endswith("'") and len(value) >= 2:
            value = value[1:-1].replace("''", "'")
        settings[match.group(1).lower()] = known(value, Loc(path, number + line_offset, match.start(2) + 1
                                                             + column_offset))
    return settings, problems


def _strip_comment(line: str) -> str:
    quoted = False
    for i, char in enumerate(line):
        if char == "'":
            quoted = not quoted
        elif char == "#" and not quoted:
            return line[:i]
    return line


def _get(env: Mapping[str, Val[str]], name: str) -> Val[str] | None:
    value = lookup(env, name)
    if value is None and lookup(env, f"{name}_FILE") is not None:
        return unknown(env[f"{name}_FILE"].loc, f"{name} is read from a file at start")
    if value is None:
        return None
    text, why = env_text(value)
    return why if text is None else known(text, value.loc)


def _bitnami_nodes(value: Val[str], problems: list[Problem]) -> list[Backend]:
    """PGPOOL_BACKEND_NODES: ``num:host[:port[:weight[:dir[:flag]]]]`` separated by ``,`` or ``;``."""
    backends: list[Backend] = []
    for node in re.split(r"[,;\s]+", str(value.value).strip()):
        fields = node.split(":")
        if not node:
            continue
        if len(fields) < 2 or not fields[0] or not fields[1]:
            problems.append(((f"PGPOOL_BACKEND_NODES entry {node!r} needs num:host; bitnami/pgpool exits "
                             "(libpgpool.sh pgpool_validate)"), value.loc))
            continue
        port = fields[2] if len(fields) > 2 and fields[2] else "5432"  # pgpool_create_backend_config default
        backends.append(Backend(fields[1], int(port) if port.isdigit() else None, value.loc))
    return backends


def _conf_backends(conf: Mapping[str, Val[str]]) -> list[Backend]:
    backends: list[Backend] = []
    for key in sorted(k for k in conf if re.fullmatch(r"backend_hostname\d+", k)):
        host = conf[key]
        port = conf.get(key.replace("hostname", "port"))
        number = port.value if port is not None and str(port.value).isdigit() else "5432"
        if host.value:
            backends.append(Backend(str(host.value), int(str(number)), host.loc))
    return backends


def read_pgpool(flavour: str, image: str, env: Mapping[str, Val[str]], *, mounted: MountedConfig | None = None,
                image_loc: Loc | None = None) -> PoolerSettings:
    """Pgpool-II settings of a bitnami/pgpool or pgpool/pgpool container."""
    settings = PoolerSettings("pgpool", flavour, source="env")
    problems = settings.problems
    conf: dict[str, Val[str]] = {}
    if mounted is not None:
        conf, conf_problems = parse_pgpool_conf(mounted.text, mounted.path, line_offset=mounted.line_offset,
                                                column_offset=mounted.column_offset)
        problems.extend(conf_problems)
        settings.config_path = mounted.path
    if flavour == "bitnami":
        children = _get(env, "PGPOOL_NUM_INIT_CHILDREN") or default(
            str(_PGPOOL_CHILDREN), image_loc, "Pgpool-II default num_init_children = 32 (bitnami/pgpool writes it "
            "only when PGPOOL_NUM_INIT_CHILDREN is set)")
        max_pool = _get(env, "PGPOOL_MAX_POOL") or default("15", image_loc, "bitnami/pgpool default "
                                                            "PGPOOL_MAX_POOL=15 (pgpool-env.sh)")
        port = _get(env, "PGPOOL_PORT_NUMBER") or default("5432", image_loc, "bitnami/pgpool default "
                                                          "PGPOOL_PORT_NUMBER=5432 (pgpool-env.sh)")
        nodes = _get(env, "PGPOOL_BACKEND_NODES")
        if nodes is None:
            problems.append(("bitnami/pgpool needs PGPOOL_BACKEND_NODES: its entrypoint exits (pgpool_validate)",
                             image_loc))
        elif nodes.value is not None:
            settings.backends = _bitnami_nodes(nodes, problems)
        _bitnami_required(env, image_loc, problems)
        user_conf = _get(env, "PGPOOL_USER_CONF_FILE")
        if user_conf is not None and mounted is None:
            settings.notices.append(notice(f"PGPOOL_USER_CONF_FILE={user_conf.value}: that file is appended to "
                                           "pgpool.conf and may change these settings; scalelint was not given it",
                                           user_conf.loc))
        prefix = "PGPOOL_"
        reads = _BITNAMI_READS
    else:
        use_conf = mounted is not None
        params = {} if use_conf else {name[len("PGPOOL_PARAMS_"):].lower(): value for name in env
                                      if name.startswith("PGPOOL_PARAMS_") and (value := _get(env, name)) is not None}
        if use_conf:
            problems.extend(((f"{name} is not read: pgpool/pgpool uses the mounted pgpool.conf instead of "
                             "PGPOOL_PARAMS_* env"), value.loc) for name, value in env.items()
                            if name.startswith("PGPOOL_PARAMS_"))
        elif "backend_hostname0" not in params:
            problems.append((("pgpool/pgpool needs PGPOOL_PARAMS_BACKEND_HOSTNAME0 (or a mounted /config/pgpool.conf): "
                             "its entrypoint exits"), image_loc))
        children = params.get("num_init_children") or default(
            str(_PGPOOL_CHILDREN), image_loc, "Pgpool-II default num_init_children = 32")
        max_pool = params.get("max_pool") or default(str(_PGPOOL_MAX_POOL), image_loc, "Pgpool-II default max_pool = 4")
        port = params.get("port") or default("9999", image_loc, "pgpool/pgpool entrypoint.sh default PGPOOL_PARAMS_PORT=9999")
        if not use_conf:
            params.setdefault("backend_port0", default("5432", image_loc, "pgpool/pgpool entrypoint.sh default "
                                                       "PGPOOL_PARAMS_BACKEND_PORT0=5432"))
            settings.backends = _conf_backends(params)
        prefix, reads = "PGPOOL_", _OFFICIAL_READS
    if conf:  # a file appended (bitnami) or used instead of env (pgpool/pgpool) wins
        children = conf.get("num_init_children", children)
        max_pool = conf.get("max_pool", max_pool)
        port = conf.get("port", port)
        settings.backends = _conf_backends(conf) or settings.backends
        settings.source = "ini"
    for name, value in env.items():
        bare = name[len(prefix):]
        if name.startswith(prefix) and not name.startswith("PGPOOL_PARAMS_" if flavour != "bitnami" else "\0") \
                and bare not in reads and bare.removesuffix("_FILE") not in reads:
            hint = " (bitnami/pgpool reads PGPOOL_PORT_NUMBER)" if name == "PGPOOL_PORT" else ""
            problems.append((f"{name} is not read by {image}{hint}", value.loc))
    settings.num_init_children = _count(children, "num_init_children", settings)
    settings.max_pool = _count(max_pool, "max_pool", settings)
    settings.listen_port = _count(port, "port", settings)
    settings.max_client_conn = settings.num_init_children
    settings.mode = default("session", image_loc, "Pgpool-II: a child serves one client session at a time")
    for field_name in ("default_pool_size", "reserve_pool_size", "max_db_connections", "max_user_connections"):
        setattr(settings, field_name, unknown(None, "not a Pgpool-II setting: see num_init_children and max_pool"))
    return settings


def _count(value: Val[str], what: str, settings: PoolerSettings) -> Val[int]:
    """A positive integer setting; a written value that is not one stops Pgpool-II (and bitnami's
    pgpool_validate) at start."""
    result = to_int(value, what, settings.notices, minimum=1)
    if value.state is not State.UNKNOWN and value.value is not None and result.state is State.UNKNOWN:
        settings.problems.append((f"{what} {value.value!r} is not a positive whole number: Pgpool-II does not start",
                                  value.loc))
    return result


def _bitnami_required(env: Mapping[str, Val[str]], image_loc: Loc | None, problems: list[Problem]) -> None:
    """Credentials libpgpool.sh pgpool_validate insists on (the container exits without them)."""
    def missing(*names: str) -> list[str]:
        return [n for n in names if _get(env, n) is None]

    lacking = missing("PGPOOL_ADMIN_USERNAME", "PGPOOL_ADMIN_PASSWORD")
    period = _get(env, "PGPOOL_SR_CHECK_PERIOD")
    if period is None or str(period.value) != "0":  # default 30 (pgpool-env.sh)
        lacking += missing("PGPOOL_SR_CHECK_USER", "PGPOOL_SR_CHECK_PASSWORD")
    else:  # the health check user defaults to the SR check user and is always required
        for own, fallback in (("PGPOOL_HEALTH_CHECK_USER", "PGPOOL_SR_CHECK_USER"),
                              ("PGPOOL_HEALTH_CHECK_PASSWORD", "PGPOOL_SR_CHECK_PASSWORD")):
            if missing(own, fallback) == [own, fallback]:
                lacking.append(own)
    enabled = _get(env, "PGPOOL_ENABLE_POOL_PASSWD")
    if enabled is None or str(enabled.value).lower() in ("yes", "true", "1"):
        lacking += missing("PGPOOL_POSTGRES_PASSWORD")
    if lacking:
        problems.append((f"bitnami/pgpool needs {', '.join(lacking)}: its entrypoint exits (pgpool_validate)",
                         image_loc))
