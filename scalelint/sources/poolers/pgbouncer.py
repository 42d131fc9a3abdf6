"""PgBouncer's settings from ``pgbouncer.ini`` entries, checked the way PgBouncer checks them.

The entries come from a mounted file (:func:`~.ini.parse_pgbouncer_ini`) or from what an
image's entrypoint writes from env (:mod:`.images`), so one set of checks serves both: a key
PgBouncer does not know, a number it cannot parse, a pool mode it cannot look up all stop
PgBouncer at start (libusual ``cfparser.c``: any failing ``cf_set`` fails ``cf_load_file``,
and ``main.c`` ``load_config`` dies with "cannot load config file").

Accepted names are those of the PgBouncer documentation, https://www.pgbouncer.org/config.html
(and its source, ``src/main.c`` ``bouncer_params``, ``src/loader.c`` ``parse_database`` /
``parse_user``), as of PgBouncer 1.25.  Names added by newer releases are accepted for every
version: scalelint does not know which PgBouncer an image tag ships.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from scalelint.findings import Loc, Notice
from scalelint.model import State, Val, default, known, unknown

from .ini import IniEntry, IniFile, parse_connstring
from .model import POOL_MODES, Backend, DatabaseEntry, PoolerSettings, Problem, UserEntry, c_int, env_text, notice

__all__ = [
    "DATABASE_PARAMS", "PGBOUNCER_DEFAULTS", "PGBOUNCER_SETTINGS", "USER_PARAMS", "settings_from_entries",
    "settings_from_ini",
]

def _words(text: str) -> list[str]:
    return text.split()


# [pgbouncer] section — https://www.pgbouncer.org/config.html "Generic settings" through
# "Low-level network settings".
PGBOUNCER_SETTINGS = frozenset(_words("""
admin_users application_name_add_host auth_dbname auth_file auth_hba_file auth_ident_file auth_ldap_options
auth_query auth_type auth_user autodb_idle_timeout cancel_wait_timeout client_idle_timeout client_login_timeout
client_tls13_ciphers client_tls_ca_file client_tls_cert_file client_tls_ciphers client_tls_dheparams
client_tls_ecdhcurve client_tls_key_file client_tls_protocols client_tls_sslmode conffile default_pool_size
disable_pqexec dns_max_ttl dns_nxdomain_ttl dns_zone_check_period idle_transaction_timeout
ignore_startup_parameters job_name listen_addr listen_backlog listen_port log_connections log_disconnections
log_pooler_errors log_stats logfile login_notify_message max_client_conn max_db_client_connections
max_db_connections max_packet_size max_prepared_statements max_user_client_connections max_user_connections
min_pool_size peer_id pidfile pkt_buf pool_idle_timeout pool_mode query_timeout query_wait_notify
query_wait_timeout reserve_pool_size reserve_pool_timeout resolv_conf sbuf_loopcnt scram_iterations
server_check_delay server_check_query server_connect_timeout server_fast_close server_idle_timeout
server_lifetime server_login_retry server_reset_query server_reset_query_always server_round_robin
server_tls13_ciphers server_tls_ca_file server_tls_cert_file server_tls_ciphers server_tls_key_file
server_tls_protocols server_tls_sslmode service_name so_reuseport stats_period stats_users suspend_timeout
syslog syslog_facility syslog_ident tcp_defer_accept tcp_keepalive tcp_keepcnt tcp_keepidle tcp_keepintvl
tcp_socket_buffer tcp_user_timeout track_extra_parameters transaction_timeout unix_socket_dir
unix_socket_group unix_socket_mode user verbose
"""))

# Connection-string parameters of a [databases] entry — config.html#section-databases
# (``reserve_pool`` is the old name of ``reserve_pool_size``, still accepted).
DATABASE_PARAMS = frozenset(_words("""
dbname host port user password auth_user auth_query auth_dbname client_encoding datestyle timezone pool_size
min_pool_size reserve_pool reserve_pool_size max_db_connections max_db_client_connections server_lifetime
pool_mode connect_query application_name load_balance_hosts query_wait_timeout target_session_attrs
"""))

# [users] — config.html#section-users
USER_PARAMS = frozenset(_words("""
pool_mode max_user_connections pool_size reserve_pool_size query_timeout query_wait_timeout
idle_transaction_timeout transaction_timeout client_idle_timeout max_user_client_connections
"""))

# CF_INT/CF_UINT settings of main.c bouncer_params: cf_set_int refuses anything but a whole number.
_INT_SETTINGS = frozenset(_words("""
application_name_add_host default_pool_size disable_pqexec listen_backlog listen_port log_connections
log_disconnections log_pooler_errors log_stats max_client_conn max_db_client_connections max_db_connections
max_prepared_statements max_user_client_connections max_user_connections min_pool_size peer_id pkt_buf
sbuf_loopcnt scram_iterations server_fast_close server_reset_query_always server_round_robin so_reuseport
stats_period syslog tcp_keepalive tcp_keepcnt tcp_keepidle tcp_keepintvl tcp_socket_buffer tcp_user_timeout
verbose reserve_pool_size unix_socket_mode max_packet_size tcp_defer_accept
"""))
# CF_TIME_USEC settings: seconds, a non-negative decimal (cfparser.c parse_time).
_TIME_SETTINGS = frozenset(_words("""
autodb_idle_timeout cancel_wait_timeout client_idle_timeout client_login_timeout dns_max_ttl dns_nxdomain_ttl
dns_zone_check_period idle_transaction_timeout pool_idle_timeout query_timeout query_wait_timeout
reserve_pool_timeout server_check_delay server_connect_timeout server_idle_timeout server_lifetime
server_login_retry suspend_timeout transaction_timeout
"""))
_TIME = re.compile(r"\+?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
# CF_LOOKUP settings and the values main.c's maps hold (matched case-insensitively).
_LOOKUPS: dict[str, tuple[str, ...]] = {
    "pool_mode": POOL_MODES,
    "auth_type": ("any", "trust", "plain", "md5", "cert", "hba", "pam", "scram-sha-256", "ldap"),
    "client_tls_sslmode": ("disable", "allow", "prefer", "require", "verify-ca", "verify-full"),
    "server_tls_sslmode": ("disable", "allow", "prefer", "require", "verify-ca", "verify-full"),
}
_KNOWN_SECTIONS = ("pgbouncer", "databases", "users", "peers")

# PgBouncer's own defaults — https://www.pgbouncer.org/config.html (each setting's "Default:"),
# the same values as main.c bouncer_params.
PGBOUNCER_DEFAULTS: dict[str, Any] = {
    "pool_mode": "session",  # config.html#pool_mode: "session ... Default."
    "max_client_conn": 100,  # config.html#max_client_conn "Default: 100"
    "default_pool_size": 20,  # config.html#default_pool_size "Default: 20"
    "reserve_pool_size": 0,  # config.html#reserve_pool_size "Default: 0 (disabled)"
    "max_db_connections": 0,  # config.html#max_db_connections "Default: 0 (unlimited)"
    "max_user_connections": 0,  # config.html#max_user_connections "Default: 0 (unlimited)"
    "listen_port": 6432,  # config.html#listen_port "Default: 6432"
}
_TRACKED = tuple(PGBOUNCER_DEFAULTS)


def _fmt_origin(entry: IniEntry, writer: str) -> str:
    """How a message names the entry: the env name and what the entrypoint wrote from it."""
    if not entry.origin:
        return f"[{entry.section}] {entry.key}" if entry.section else entry.key
    if entry.params is not None:
        shown = " ".join(f"{k}={v.value if v.value is not None else '…'}" for k, v in entry.params.items())
    else:
        shown = str(entry.value.value) if entry.value.value is not None else "…"
    return f"{entry.origin}: {writer} writes `{entry.key} = {shown}` into [{entry.section}]"


def _where(entry: IniEntry) -> Loc | None:
    return entry.value.loc or entry.key_loc


def _check_value(entry: IniEntry, writer: str, problems: list[Problem], notices: list[Notice]) -> Val[Any]:
    """The entry's value converted for its setting; a refused value is a problem and unknown."""
    value, key = entry.value, entry.key
    text, why = env_text(value)
    if why is not None:  # ${VAR}: a template something renders before PgBouncer starts, or not
        notices.append(notice(f"{_fmt_origin(entry, writer)}: {why.reason}; its value is unknown", _where(entry)))
        return why
    text = str(text)
    bad = ""
    converted: Any = text
    if key in _INT_SETTINGS:
        converted = c_int(text)
        bad = "" if converted is not None else "is not a whole number"
    elif key in _TIME_SETTINGS:
        bad = "" if _TIME.fullmatch(text.lstrip()) else "is not a number of seconds"
    elif key in _LOOKUPS:
        converted = text.lower()
        bad = "" if converted in _LOOKUPS[key] else f"is not one of {', '.join(_LOOKUPS[key])}"
    if bad:
        problems.append((f"{_fmt_origin(entry, writer)}: {text!r} {bad}; PgBouncer refuses it and does not start",
                         _where(entry)))
        return unknown(value.loc, f"{text!r} {bad}")
    if value.state is State.DEFAULT:
        return default(converted, value.loc, value.reason)
    return known(converted, value.loc)


def _int_param(params: dict[str, Val[str]], key: str, what: str, problems: list[Problem]) -> Val[int] | None:
    """A numeric connection-string parameter (loader.c reads them with atoi)."""
    value = params.get(key)
    if value is None:
        return None
    if value.state is State.UNKNOWN or value.value is None:
        return unknown(value.loc, value.reason or f"{key} is not readable")
    text = str(value.value)
    if re.fullmatch(r"\s*[+-]?\d+", text):
        return known(int(text), value.loc) if value.state is not State.DEFAULT else default(
            int(text), value.loc, value.reason)
    problems.append(((f"{what}: {key}={text!r} is not a whole number (PgBouncer reads it as "
                     f"{_atoi(text)}, atoi)"), value.loc))
    return unknown(value.loc, f"{key}={text!r} is not a whole number")


def _atoi(text: str) -> int:
    match = re.match(r"\s*([+-]?\d+)", text)
    return int(match.group(1)) if match else 0


def _database(entry: IniEntry, writer: str, problems: list[Problem], notices: list[Notice]) -> DatabaseEntry | None:
    """One [databases] entry; its refusals are problems (parse_database fails the load)."""
    name, what = entry.key, _fmt_origin(entry, writer)
    if name == "pgbouncer":
        problems.append(((f"{what}: the database name \"pgbouncer\" is reserved for the admin console; "
                         "PgBouncer refuses it and does not start"), entry.key_loc or _where(entry)))
        return None
    # "*" is stored unparsed (loader.c set_autodb): its errors surface when a client connects.
    fails = ("PgBouncer refuses it when a client asks for a database not listed" if name == "*"
             else "PgBouncer refuses the entry and does not start")
    params, errors = (dict(entry.params), []) if entry.params is not None else parse_connstring(entry.value)
    _, why = env_text(entry.value)
    if entry.params is None and why is not None:
        notices.append(notice(f"{what}: {why.reason}; its host and pool settings are unknown", _where(entry)))
        params = {"host": unknown(entry.value.loc, why.reason)}
    for error in errors:
        problems.append((f"{what}: syntax error in the connection string ({error}); {fails}", _where(entry)))
    for key, value in params.items():
        if key not in DATABASE_PARAMS:
            problems.append((f"{what}: unknown connection parameter {key!r}; {fails}", value.loc))
    result = DatabaseEntry(name, entry.key_loc or _where(entry), params=params)
    result.host = params.get("host")
    result.dbname = params.get("dbname")
    result.user = params.get("user")
    result.port = _int_param(params, "port", what, problems)
    if result.port is not None and result.port.value == 0:
        problems.append((f"{what}: port 0 is invalid; {fails}", result.port.loc))
    result.pool_size = _int_param(params, "pool_size", what, problems)
    result.reserve_pool_size = _int_param(params, "reserve_pool_size" if "reserve_pool_size" in params
                                          else "reserve_pool", what, problems)
    result.max_db_connections = _int_param(params, "max_db_connections", what, problems)
    mode = params.get("pool_mode")
    if mode is not None and (mode.state is State.UNKNOWN or mode.value is None):
        result.pool_mode = unknown(mode.loc, mode.reason or "pool_mode is not readable")
    elif mode is not None:
        if str(mode.value).lower() in POOL_MODES:
            result.pool_mode = known(str(mode.value).lower(), mode.loc)
        else:
            problems.append((f"{what}: invalid pool_mode {mode.value!r}; {fails}", mode.loc))
            result.pool_mode = unknown(mode.loc, f"invalid pool_mode {mode.value!r}")
    return result


def _user(entry: IniEntry, writer: str, problems: list[Problem]) -> UserEntry:
    what = _fmt_origin(entry, writer)
    params, errors = parse_connstring(entry.value)
    for error in errors:
        problems.append((f"{what}: syntax error in user settings ({error}); PgBouncer does not start", _where(entry)))
    for key, value in params.items():
        if key not in USER_PARAMS:
            problems.append((f"{what}: unknown user parameter {key!r}; PgBouncer does not start", value.loc))
    result = UserEntry(entry.key, entry.key_loc or _where(entry))
    result.pool_size = _int_param(params, "pool_size", what, problems)
    result.reserve_pool_size = _int_param(params, "reserve_pool_size", what, problems)
    result.max_user_connections = _int_param(params, "max_user_connections", what, problems)
    mode = params.get("pool_mode")
    if mode is not None:
        ok = str(mode.value).lower() in POOL_MODES
        if not ok:
            problems.append((f"{what}: invalid pool_mode {mode.value!r}; PgBouncer does not start", mode.loc))
        result.pool_mode = known(str(mode.value).lower(), mode.loc) if ok else unknown(mode.loc, "invalid pool_mode")
    return result


def backends_of(databases: Iterable[DatabaseEntry], notices: list[Notice]) -> list[Backend]:
    """The servers the [databases] entries point at (``host`` may list several, comma-separated).

    Unix-socket hosts (``/dir``, ``@abstract``) and entries without ``host`` reach no other
    workload and are left out.
    """
    seen: set[tuple[str, int | None]] = set()
    result: list[Backend] = []
    for entry in databases:
        if entry.host is None:
            continue
        if entry.host.state is State.UNKNOWN or entry.host.value is None:
            notices.append(notice(f"[databases] {entry.name}: host is not readable ({entry.host.reason}); "
                                  "the pooler's database is unknown", entry.host.loc))
            continue
        port = entry.port.value if entry.port is not None and entry.port.known else 5432  # config.html#port
        for host in str(entry.host.value).split(","):
            host = host.strip()
            if host and not host.startswith(("/", "@")) and (host, port) not in seen:
                seen.add((host, port))
                result.append(Backend(host, port, entry.host.loc))
    return result


def settings_from_entries(
    entries: Iterable[IniEntry],
    settings: PoolerSettings,
    *,
    writer: str = "",
    defaults: Mapping[str, Val[Any]] | None = None,
    default_loc: Loc | None = None,
) -> PoolerSettings:
    """Fill ``settings`` from PgBouncer config entries, later entries winning.

    ``defaults`` are what the image or operator uses where the entries say nothing (each a
    ``default``/``assumed`` Val naming its source); PgBouncer's own defaults fill the rest.
    """
    found: dict[str, Val[Any]] = {}
    databases: dict[str, DatabaseEntry] = {}
    users: dict[str, UserEntry] = {}
    problems, notices = settings.problems, settings.notices
    for entry in entries:
        what = _fmt_origin(entry, writer)
        if entry.section == "":
            problems.append(((f"{what}: a setting before any [section]; PgBouncer refuses the file and does not "
                             "start"), entry.key_loc or _where(entry)))
        elif entry.section not in _KNOWN_SECTIONS:
            problems.append(((f"{what}: unknown section [{entry.section}]; PgBouncer refuses the file and does not "
                             "start"), entry.key_loc or _where(entry)))
        elif entry.section == "pgbouncer":
            if entry.key not in PGBOUNCER_SETTINGS:
                hint = " (pool_size belongs in a [databases] entry; the global is default_pool_size)" \
                    if entry.key == "pool_size" else ""
                problems.append(((f"{what}: PgBouncer has no setting {entry.key!r} in [pgbouncer]{hint}; it refuses "
                                 "the file and does not start"), entry.key_loc or _where(entry)))
                continue
            found[entry.key] = _check_value(entry, writer, problems, notices)
        elif entry.section == "databases":
            database = _database(entry, writer, problems, notices)
            if database is not None:
                databases[entry.key] = database
        elif entry.section == "users":
            users[entry.key] = _user(entry, writer, problems)
    for key in _TRACKED:
        value = found.get(key)
        if value is None and defaults is not None:
            value = defaults.get(key)
        if value is None:
            value = default(PGBOUNCER_DEFAULTS[key], default_loc, f"PgBouncer default {key} = "
                            f"{PGBOUNCER_DEFAULTS[key]} (https://www.pgbouncer.org/config.html#{key})")
        setattr(settings, "mode" if key == "pool_mode" else key, value)
    settings.databases = list(databases.values())
    settings.users = list(users.values())
    settings.backends = backends_of(settings.databases, notices)
    return settings


def settings_from_ini(
    ini: IniFile,
    settings: PoolerSettings,
    *,
    defaults: Mapping[str, Val[Any]] | None = None,
    default_loc: Loc | None = None,
) -> PoolerSettings:
    """Fill ``settings`` from a parsed ``pgbouncer.ini`` (its syntax problems included)."""
    settings.problems.extend(ini.problems)
    settings.notices.extend(ini.notices)
    settings.source, settings.config_path = "ini", ini.path
    if not any(name == "pgbouncer" for name, _ in ini.sections) and not ini.includes:
        settings.problems.append((("the file has no [pgbouncer] section; PgBouncer refuses it (\"main section "
                                  "missing\") and does not start"), Loc(ini.path, 1, 1)))
    return settings_from_entries(ini.entries, settings, defaults=defaults, default_loc=default_loc)
