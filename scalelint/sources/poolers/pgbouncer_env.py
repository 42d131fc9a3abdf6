"""What each PgBouncer image's entrypoint writes into ``pgbouncer.ini`` from env.

Each reader turns the container env into the :class:`~.ini.IniEntry` list the image's
entrypoint would write, so :func:`~.pgbouncer.settings_from_entries` checks it exactly as it
checks a mounted file, and every message names the env variable the user wrote.  Sources:

- bitnami (also ``bitnamilegacy``): github.com/bitnami/containers
  ``bitnami/pgbouncer/1/debian-12/rootfs/opt/bitnami/scripts/pgbouncer-env.sh`` (names and
  defaults) and ``libpgbouncer.sh`` ``pgbouncer_initialize`` (what is written where);
- edoburu: github.com/edoburu/docker-pgbouncer ``entrypoint.sh`` and ``tests/all-knobs``;
- brainsam: github.com/brainsam/pgbouncer ``entrypoint.sh``;
- pgbouncer/pgbouncer (Docker Hub; built from github.com/sportsru/docker-pgbouncer):
  ``entrypoint.sh``, which rewrites ``/etc/pgbouncer/pgbouncer.ini`` on every start.
"""
from __future__ import annotations

import re
from collections.abc import Mapping

from scalelint.findings import Loc
from scalelint.model import Val, default, known, unknown

from .ini import IniEntry
from .model import Problem, env_text, lookup
from .pgbouncer import PGBOUNCER_SETTINGS

__all__ = ["env_entries", "image_defaults", "reads", "unread_env"]


def _words(text: str) -> list[str]:
    return text.split()


# [pgbouncer] keys brainsam writes as `key = $KEY` when KEY is set (entrypoint.sh).
_BRAINSAM_KEYS = _words("""
logfile pidfile listen_addr listen_port unix_socket_dir unix_socket_mode unix_socket_group user auth_file
auth_hba_file auth_type auth_query pool_mode max_client_conn default_pool_size min_pool_size reserve_pool_size
reserve_pool_timeout max_db_connections max_user_connections server_round_robin ignore_startup_parameters
disable_pqexec application_name_add_host conffile job_name syslog syslog_ident syslog_facility log_connections
log_disconnections log_pooler_errors stats_period verbose admin_users stats_users server_reset_query
server_reset_query_always server_check_delay server_check_query server_lifetime server_idle_timeout
server_connect_timeout server_login_retry client_login_timeout autodb_idle_timeout dns_max_ttl dns_nxdomain_ttl
client_tls_sslmode client_tls_key_file client_tls_cert_file client_tls_ca_file client_tls_protocols
client_tls_ciphers client_tls_ecdhcurve client_tls_dheparams server_tls_sslmode server_tls_ca_file
server_tls_key_file server_tls_cert_file server_tls_protocols server_tls_ciphers query_timeout query_wait_timeout
client_idle_timeout idle_transaction_timeout pkt_buf max_packet_size listen_backlog sbuf_loopcnt suspend_timeout
tcp_defer_accept tcp_keepalive tcp_keepcnt tcp_keepidle tcp_keepintvl
""")
# pgbouncer/pgbouncer writes the same list from PGBOUNCER_<KEY>, plus auth_user.
_SPORTSRU_KEYS = [*_BRAINSAM_KEYS, "auth_user"]
# edoburu writes `key = $KEY` for these (tests/all-knobs/env lists every variable it reads).
# pool_size and timezone are among them although [pgbouncer] has no such settings.
_EDOBURU_KEYS = [k for k in _BRAINSAM_KEYS if k not in {
    "pidfile", "unix_socket_mode", "unix_socket_group", "user", "conffile", "job_name", "syslog", "syslog_ident",
    "syslog_facility"}] + _words("""
auth_user auth_dbname pool_size timezone max_prepared_statements log_stats tcp_user_timeout""")
# [databases] parameters pgbouncer/pgbouncer writes from DATABASES_<PARAM>.
_SPORTSRU_DB = _words("user password dbname auth_user pool_size reserve_pool connect_query pool_mode "
                      "max_db_connections client_encoding datestyle timezone")
# bitnami: env name -> [pgbouncer] key (libpgbouncer.sh key_value_pairs and the TLS branches).
_BITNAMI_KEYS = {
    "PGBOUNCER_PORT": "listen_port", "PGBOUNCER_LISTEN_ADDRESS": "listen_addr",
    "PGBOUNCER_SOCKET_DIR": "unix_socket_dir", "PGBOUNCER_SOCKET_MODE": "unix_socket_mode",
    "PGBOUNCER_SOCKET_GROUP": "unix_socket_group", "PGBOUNCER_LOG_FILE": "logfile",
    "POSTGRESQL_USERNAME": "admin_users",
    **{f"PGBOUNCER_{k.upper()}": k for k in _words("""
auth_type auth_hba_file auth_ident_file auth_query stats_users client_tls_sslmode server_tls_sslmode
server_tls_ca_file server_tls_cert_file server_tls_key_file query_wait_timeout pool_mode max_client_conn
max_db_connections idle_transaction_timeout server_idle_timeout server_reset_query default_pool_size
min_pool_size reserve_pool_size reserve_pool_timeout ignore_startup_parameters log_connections
log_disconnections log_pooler_errors log_stats stats_period server_round_robin server_fast_close server_lifetime
server_connect_timeout server_login_retry client_login_timeout autodb_idle_timeout query_timeout
client_idle_timeout max_prepared_statements application_name_add_host client_tls_cert_file client_tls_key_file
client_tls_ca_file client_tls_ciphers server_tls_protocols server_tls_ciphers""")},
}
# every other name pgbouncer-env.sh reads (each also as NAME_FILE)
_BITNAMI_OTHER = _words("""
PGBOUNCER_DATABASE PGBOUNCER_AUTH_USER PGBOUNCER_INIT_SLEEP_TIME PGBOUNCER_INIT_MAX_RETRIES PGBOUNCER_EXTRA_FLAGS
PGBOUNCER_FAIL_ON_INVALID_DSN_FILE POSTGRESQL_PASSWORD POSTGRESQL_DATABASE POSTGRESQL_HOST POSTGRESQL_PORT
PGBOUNCER_SET_DATABASE_USER PGBOUNCER_SET_DATABASE_PASSWORD PGBOUNCER_USERLIST PGBOUNCER_CONNECT_QUERY
PGBOUNCER_FORCE_INITSCRIPTS PGBOUNCER_DAEMON_USER PGBOUNCER_DAEMON_GROUP""")

_READS: dict[str, frozenset[str]] = {
    "bitnami": frozenset([*_BITNAMI_KEYS, *_BITNAMI_OTHER]),
    "edoburu": frozenset([k.upper() for k in _EDOBURU_KEYS] + _words(
        "DATABASE_URL DB_HOST DB_PORT DB_NAME DB_USER DB_PASSWORD CLIENT_ENCODING ADMIN_PASSWORD ADMIN_PASSWORDS "
        "STATS_PASSWORDS")),
    "brainsam": frozenset([k.upper() for k in _BRAINSAM_KEYS] + _words("DB_HOST DB_PORT DB_USER DB_PASSWORD QUIET")),
    "pgbouncer/pgbouncer": frozenset([f"PGBOUNCER_{k.upper()}" for k in _SPORTSRU_KEYS]
                                     + [f"DATABASES_{p.upper()}" for p in _SPORTSRU_DB]
                                     + _words("DATABASES_HOST DATABASES_PORT DATABASES_CLIENT_SIDE_DBNAME QUIET")),
}
# env names that only feed authentication files: still read when a pgbouncer.ini is mounted
_AUTH_ONLY = frozenset(_words("DATABASE_URL DB_USER DB_PASSWORD AUTH_TYPE AUTH_FILE ADMIN_USERS ADMIN_PASSWORD "
                              "ADMIN_PASSWORDS STATS_USERS STATS_PASSWORDS POSTGRESQL_USERNAME POSTGRESQL_PASSWORD "
                              "PGBOUNCER_USERLIST"))
# names a user may mean for a PgBouncer setting on any image: what "does the image read it" is asked of
_CANDIDATES = frozenset(
    [s.upper() for s in PGBOUNCER_SETTINGS if s != "user"] + [f"PGBOUNCER_{s.upper()}" for s in PGBOUNCER_SETTINGS]
    + _words("POOL_SIZE DB_HOST DB_PORT DB_NAME DB_USER DATABASE_URL PGBOUNCER_PORT PGBOUNCER_DATABASE "
             "POSTGRESQL_HOST POSTGRESQL_PORT POSTGRESQL_DATABASE POSTGRESQL_USERNAME"))
_SYNONYMS = {"PORT": ("LISTEN_PORT",), "LISTEN_PORT": ("PORT",), "HOST": ("DB_HOST",), "DB_HOST": ("HOST",)}


def reads(flavour: str, name: str) -> bool:
    """Whether the image's entrypoint reads env ``name`` (bitnami also reads ``NAME_FILE``)."""
    if flavour == "bitnami":
        base = name.removesuffix("_FILE")
        return name in _READS["bitnami"] or base in _READS["bitnami"] or bool(re.fullmatch(r"PGBOUNCER_DSN_\d+(_FILE)?",
                                                                                         name))
    return name in _READS.get(flavour, frozenset())


def _stem(name: str) -> str:
    for prefix in ("PGBOUNCER_", "DATABASES_", "POSTGRESQL_", "DB_"):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def _suggest(flavour: str, image: str, name: str) -> str:
    """The env name the image reads for what ``name`` seems to mean."""
    if flavour == "bitnami" and name in ("PGBOUNCER_LISTEN_PORT", "LISTEN_PORT"):
        return f"{image} sets the listen port from PGBOUNCER_PORT (default 6432)"
    if name == "DATABASE_URL":
        hosts = {"bitnami": "POSTGRESQL_HOST/POSTGRESQL_PORT/POSTGRESQL_DATABASE", "brainsam": "DB_HOST/DB_PORT",
                 "pgbouncer/pgbouncer": "DATABASES_HOST/DATABASES_PORT/DATABASES_DBNAME"}
        return f"{image} takes the server from {hosts.get(flavour, 'its own variables')}"
    stem = _stem(name)
    ranked = sorted(_READS.get(flavour, frozenset()), key=lambda n: (n.startswith(("DATABASES_", "DB_", "POSTGRESQL_")), n))
    for candidate in ranked:
        if _stem(candidate) in (stem, *_SYNONYMS.get(stem, ())) and candidate != name:
            return f"{image} reads {candidate}"
    return f"{image} ignores it"


def unread_env(flavour: str, image: str, env: Mapping[str, Val[str]]) -> list[Problem]:
    """Env names that look like PgBouncer settings but the image never reads (SPEC §9 SL009)."""
    problems: list[Problem] = []
    for name, value in env.items():
        if (name in _CANDIDATES or name.startswith("DATABASES_")) and not reads(flavour, name):
            problems.append((f"{name} is not read by {image}: {_suggest(flavour, image, name)}", value.loc))
    return problems


def replaced_by_file(flavour: str, image: str, env: Mapping[str, Val[str]], target: str) -> list[Problem]:
    """Setting env the image would have written, now ignored because a mounted file replaces it."""
    return [((f"{name} is not read: the pgbouncer.ini mounted at {target} replaces the file {image} would write "
             "from env"), value.loc)
            for name, value in env.items()
            if lookup(env, name) is not None and name not in _AUTH_ONLY and reads(flavour, name)
            and not name.endswith("_FILE") and name not in ("QUIET",)]


def image_defaults(flavour: str, image_loc: Loc | None) -> dict[str, Val[int]]:
    """Settings the image writes itself when env says nothing (each with its source)."""
    if flavour == "edoburu":
        return {"listen_port": default(5432, image_loc, "edoburu/pgbouncer writes listen_port = "
                                       "${LISTEN_PORT:-5432} (entrypoint.sh)")}
    if flavour == "bitnami":
        return {"listen_port": default(6432, image_loc, "bitnami/pgbouncer writes listen_port from PGBOUNCER_PORT, "
                                       "default 6432 (pgbouncer-env.sh)")}
    return {}


def _entry(section: str, key: str, value: Val[str], origin: str, params: dict[str, Val[str]] | None = None) -> IniEntry:
    return IniEntry(section, key, value, value.loc, origin, params)


def _get(env: Mapping[str, Val[str]], name: str, files: bool = False) -> Val[str] | None:
    """An env value as the entrypoint sees it, unknown when unreadable.

    With ``files`` (bitnami's ``*_FILE`` convention, pgbouncer-env.sh), ``NAME_FILE`` makes
    ``NAME`` come from a file at start: unknown here.
    """
    value = lookup(env, name)
    if value is None and files and lookup(env, f"{name}_FILE") is not None:
        source = env[f"{name}_FILE"]
        return unknown(source.loc, f"{name} is read from the file {source.value} at start")
    if value is None:
        return None
    text, why = env_text(value)
    return why if text is None else known(text, value.loc)


def _settings(env: Mapping[str, Val[str]], mapping: Mapping[str, str], files: bool = False) -> list[IniEntry]:
    return [_entry("pgbouncer", key, value, name) for name, key in mapping.items()
            if (value := _get(env, name, files)) is not None]


def _require(value: Val[str] | None, name: str, image: str, image_loc: Loc | None, problems: list[Problem]) -> None:
    if value is None:
        problems.append((f"{image} needs {name}: its entrypoint exits when it is not set", image_loc))


def _edoburu(env: Mapping[str, Val[str]], image: str, image_loc: Loc | None, problems: list[Problem]) -> list[IniEntry]:
    host, port, name, user = (_get(env, n) for n in ("DB_HOST", "DB_PORT", "DB_NAME", "DB_USER"))
    url = _get(env, "DATABASE_URL")
    if url is not None and url.value is None:
        host = port = name = user = unknown(url.loc, url.reason)
    elif url is not None:  # entrypoint.sh splits the URL with sed/cut, overriding DB_*
        rest = str(url.value).split("://", 1)[-1]
        userpass, _, hostpath = rest.rpartition("@")
        hostport, _, path = hostpath.partition("/")
        user = known(userpass.split(":")[0], url.loc) if userpass else None
        host = known(hostport.split(":")[0], url.loc)
        if ":" in hostport:
            port = known(hostport.split(":")[1], url.loc)
        name = known(path, url.loc) if path else None
        if name is not None and not re.fullmatch(r"[A-Za-z0-9_.*-]+", str(name.value)):
            problems.append(((f"DATABASE_URL: {image} writes {name.value!r} as a [databases] key; PgBouncer stops at "
                             "the syntax error and does not start"), url.loc))
    _require(host, "DB_HOST or DATABASE_URL", image, image_loc, problems)
    db_key = str(name.value) if name is not None and name.value else "*"
    params: dict[str, Val[str]] = {}
    if host is not None:
        params["host"] = host
    params["port"] = port or default("5432", image_loc, "edoburu/pgbouncer writes port=${DB_PORT:-5432}")
    # the current entrypoint logs in as the client (auth_user=, not a forced user=)
    params["auth_user"] = user or default("postgres", image_loc, "edoburu/pgbouncer writes auth_user=${DB_USER:-postgres}")
    origin = "DATABASE_URL" if url is not None else "DB_HOST"
    entries = [_entry("databases", db_key, host or unknown(image_loc, "no DB_HOST"), origin, params)]
    if (encoding := _get(env, "CLIENT_ENCODING")) is not None:  # written under [databases], a bug of the image
        entries.append(_entry("databases", "client_encoding", encoding, "CLIENT_ENCODING"))
    return entries + _settings(env, {k.upper(): k for k in _EDOBURU_KEYS})


def _brainsam(env: Mapping[str, Val[str]], image: str, image_loc: Loc | None, problems: list[Problem]) -> list[IniEntry]:
    host, port, user = (_get(env, n) for n in ("DB_HOST", "DB_PORT", "DB_USER"))
    _require(host, "DB_HOST", image, image_loc, problems)
    params = {"port": port or default("5432", image_loc, "brainsam/pgbouncer writes port=${DB_PORT:-5432}")}
    if host is not None:
        params["host"] = host
    if user is not None:  # ${DB_USER:+user=...}: a forced user only when DB_USER is set
        params["user"] = user
    entries = [_entry("databases", "*", host or unknown(image_loc, "no DB_HOST"), "DB_HOST", params)]
    return entries + _settings(env, {k.upper(): k for k in _BRAINSAM_KEYS})


def _sportsru(env: Mapping[str, Val[str]], image: str, image_loc: Loc | None, problems: list[Problem]) -> list[IniEntry]:
    host = _get(env, "DATABASES_HOST")
    _require(host, "DATABASES_HOST", image, image_loc, problems)
    params = {"port": _get(env, "DATABASES_PORT") or default("5432", image_loc, "pgbouncer/pgbouncer writes "
                                                                                "port=${DATABASES_PORT:-5432}")}
    if host is not None:
        params["host"] = host
    params.update({p: v for p in _SPORTSRU_DB if (v := _get(env, f"DATABASES_{p.upper()}")) is not None})
    name = _get(env, "DATABASES_CLIENT_SIDE_DBNAME")
    entries = [_entry("databases", str(name.value) if name is not None and name.value else "*",
                      host or unknown(image_loc, "no DATABASES_HOST"), "DATABASES_HOST", params)]
    return entries + _settings(env, {f"PGBOUNCER_{k.upper()}": k for k in _SPORTSRU_KEYS})


def _yes(value: Val[str] | None) -> bool:
    return value is not None and str(value.value).lower() in ("yes", "true", "1")  # libvalidations is_boolean_yes


def _bitnami(env: Mapping[str, Val[str]], image: str, image_loc: Loc | None, problems: list[Problem]) -> list[IniEntry]:
    def why(reason: str) -> str:
        return f"bitnami/pgbouncer default {reason} (pgbouncer-env.sh)"

    db_name = _get(env, "PGBOUNCER_DATABASE", True) or default("postgres", image_loc, why("PGBOUNCER_DATABASE=postgres"))
    params: dict[str, Val[str]] = {
        "host": _get(env, "POSTGRESQL_HOST", True) or default("postgresql", image_loc, why("POSTGRESQL_HOST=postgresql")),
        "port": _get(env, "POSTGRESQL_PORT", True) or default("5432", image_loc, why("POSTGRESQL_PORT=5432")),
    }
    if _yes(_get(env, "PGBOUNCER_SET_DATABASE_USER", True)):
        params["user"] = _get(env, "POSTGRESQL_USERNAME", True) or default("postgres", image_loc,
                                                                       why("POSTGRESQL_USERNAME=postgres"))
    if db_name.value != "*":
        params["dbname"] = _get(env, "POSTGRESQL_DATABASE", True) or db_name
    if (auth_user := _get(env, "PGBOUNCER_AUTH_USER", True)) is not None:
        params["auth_user"] = auth_user
    key = str(db_name.value) if db_name.value else "postgres"
    entries = [_entry("databases", key, params["host"], "PGBOUNCER_DATABASE", params)]
    index = 0
    while (dsn := _get(env, f"PGBOUNCER_DSN_{index}", True)) is not None:  # stops at the first missing index
        if dsn.value is not None and "=" in str(dsn.value):
            name, _, connstr = str(dsn.value).partition("=")
            loc = None if dsn.loc is None else Loc(dsn.loc.path, dsn.loc.line, dsn.loc.column + len(name) + 1)
            entries.append(_entry("databases", name.strip(), known(connstr, loc), f"PGBOUNCER_DSN_{index}"))
        index += 1
    mode = _get(env, "PGBOUNCER_POOL_MODE", True)
    if mode is not None and mode.value is not None and mode.value not in ("session", "statement", "transaction"):
        problems.append(((f"PGBOUNCER_POOL_MODE={mode.value!r}: {image} accepts only session, statement or "
                         "transaction (lower case) and exits (libpgbouncer.sh pgbouncer_validate)"), mode.loc))
    port = _get(env, "PGBOUNCER_PORT", True)
    if port is not None and port.value is not None and not re.fullmatch(r"\d{1,5}", str(port.value)):
        problems.append((f"PGBOUNCER_PORT={port.value!r} is not a port: {image} exits (pgbouncer_validate)", port.loc))
    auth = _get(env, "PGBOUNCER_AUTH_TYPE", True)
    if (auth is None or auth.value != "trust") and _get(env, "POSTGRESQL_PASSWORD", True) is None:
        problems.append(((f"{image} needs POSTGRESQL_PASSWORD unless PGBOUNCER_AUTH_TYPE=trust: its entrypoint exits "
                         "(pgbouncer_validate)"), image_loc))
    return entries + _settings(env, _BITNAMI_KEYS, files=True)


_READERS = {"bitnami": _bitnami, "edoburu": _edoburu, "brainsam": _brainsam, "pgbouncer/pgbouncer": _sportsru}


def env_entries(flavour: str, image: str, env: Mapping[str, Val[str]], image_loc: Loc | None,
                problems: list[Problem]) -> list[IniEntry] | None:
    """The entries ``flavour``'s entrypoint writes from ``env``; None for an image scalelint
    does not know the env of."""
    reader = _READERS.get(flavour)
    return None if reader is None else reader(env, image, image_loc, problems)
