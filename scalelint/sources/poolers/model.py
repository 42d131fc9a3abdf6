"""What every pooler reader returns, and the small value helpers they share.

A reader fills :class:`PoolerSettings` from one source (a ``pgbouncer.ini``, an image's
env, an operator's custom resource).  Every number is a :class:`~scalelint.model.Val`:
``known`` when written, ``default`` when a documented default applies (the reason names
whose default and where it is documented), ``assumed`` when scalelint has to guess
(an image whose env names it does not know), ``unknown`` when written but unreadable.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from scalelint.findings import Loc, Notice
from scalelint.model import State, Val, default, known, unknown

__all__ = [
    "POOL_MODES", "Backend", "DatabaseEntry", "Locate", "MountedConfig", "PoolerSettings", "Problem",
    "UserEntry", "c_int", "env_text", "lookup", "notice", "to_int",
]

#: ``locate(path)`` → where the value at ``path`` (keys and list indexes from the object's
#: root) is written, or None.  Operator readers take it instead of a YAML node type so they
#: work on plain mappings as well as the loader's position-carrying nodes.
Locate = Callable[[tuple[str | int, ...]], "Loc | None"]

#: (message, where) — something that makes the pooler fail to start or behave other than
#: the manifest says (SPEC §9 SL009).
Problem = tuple[str, "Loc | None"]

# https://www.pgbouncer.org/config.html#pool_mode — the only values PgBouncer's lookup accepts
# (case-insensitively: libusual cfparser.c cf_set_lookup uses strcasecmp).
POOL_MODES = ("session", "transaction", "statement")


@dataclass(frozen=True)
class MountedConfig:
    """A configuration file the caller found mounted into the container.

    ``line_offset``/``column_offset`` shift every position, for text embedded in a YAML block
    scalar (a ConfigMap's ``data``): line ``n`` of the text is line ``line_offset + n`` of
    ``path`` and its column ``c`` is ``column_offset + c``.
    """

    text: str
    path: str
    #: where it is mounted inside the container ("" = at the image's own config path)
    target: str = ""
    line_offset: int = 0
    column_offset: int = 0


@dataclass
class DatabaseEntry:
    """One ``[databases]`` line: ``name = host=... port=... user=...``.

    Parameters that are not set are None (the global setting applies); ``params`` keeps every
    parameter as written, for messages.
    """

    name: str  # client-side name; "*" is the fallback for names not listed
    loc: Loc | None
    host: Val[str] | None = None
    port: Val[int] | None = None
    dbname: Val[str] | None = None
    user: Val[str] | None = None  # a forced user: one pool for the whole database
    pool_size: Val[int] | None = None
    reserve_pool_size: Val[int] | None = None
    pool_mode: Val[str] | None = None
    max_db_connections: Val[int] | None = None
    params: dict[str, Val[str]] = field(default_factory=dict)

    @property
    def forced_user(self) -> bool:
        """A ``user=`` makes every client share one pool for this database (config.html#user)."""
        return self.user is not None


@dataclass
class UserEntry:
    """One ``[users]`` line: per-user overrides (config.html#section-users)."""

    name: str
    loc: Loc | None
    pool_size: Val[int] | None = None
    reserve_pool_size: Val[int] | None = None
    pool_mode: Val[str] | None = None
    max_user_connections: Val[int] | None = None


class Backend(NamedTuple):
    """A server the pooler connects to.  ``max_connections`` is ProxySQL's per-server cap."""

    host: str
    port: int | None
    loc: Loc | None
    max_connections: Val[int] | None = None


def _unset(reason: str) -> Val[Any]:
    return Val(None, None, State.UNKNOWN, reason)


@dataclass
class PoolerSettings:
    """The settings of one pooler, each with where it came from.

    ``kind`` is ``pgbouncer``, ``pgpool`` or ``proxysql``; ``flavour`` names the image or the
    operator (``bitnami``, ``edoburu``, ``brainsam``, ``pgbouncer/pgbouncer``, ``generic``,
    ``pgpool/pgpool``, ``proxysql``, ``cnpg``, ``zalando``, ``crunchy``, ``percona``).
    ``source`` says what the settings were read from: ``ini`` (a mounted file), ``env``,
    ``operator``, ``defaults`` (nothing readable: the values are assumed defaults).
    """

    kind: str
    flavour: str
    source: str = "defaults"
    mode: Val[str] = field(default_factory=lambda: _unset("not read"))
    max_client_conn: Val[int] = field(default_factory=lambda: _unset("not read"))
    default_pool_size: Val[int] = field(default_factory=lambda: _unset("not read"))
    reserve_pool_size: Val[int] = field(default_factory=lambda: _unset("not read"))
    max_db_connections: Val[int] = field(default_factory=lambda: _unset("not read"))  # 0 = no limit
    max_user_connections: Val[int] = field(default_factory=lambda: _unset("not read"))  # 0 = no limit
    listen_port: Val[int] = field(default_factory=lambda: _unset("not read"))
    databases: list[DatabaseEntry] = field(default_factory=list)
    users: list[UserEntry] = field(default_factory=list)
    backends: list[Backend] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    #: the object the settings belong to (operator custom resources)
    name: str = ""
    #: pooler pods the operator runs (None for containers: the workload's replicas apply)
    replicas: Val[int] | None = None
    #: Service names clients use to reach an operator's pooler
    services: list[str] = field(default_factory=list)
    #: Pgpool-II: child processes (each serves one client at a time) and cached backend
    #: connections per child (https://www.pgpool.net/docs/latest/en/html/runtime-config-connection-pooling.html)
    num_init_children: Val[int] | None = None
    max_pool: Val[int] | None = None
    #: the configuration file the settings were read from, when one was
    config_path: str = ""


def notice(message: str, loc: Loc | None, fallback_path: str = "") -> Notice:
    """A :class:`Notice` at ``loc`` (or at ``fallback_path`` without a position)."""
    if loc is None:
        return Notice(message, fallback_path)
    return Notice(message, loc.path, loc.line, loc.column)


_C_INT = re.compile(r"[+-]?(?:0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)")
_INT32_MAX = 2**31 - 1


def c_int(text: str) -> int | None:
    """``text`` read as PgBouncer reads an integer setting, or None when it refuses it.

    libusual cfparser.c ``cf_set_int`` calls ``strtol(value, &end, 0)`` and rejects a partial
    parse: leading blanks and a sign are allowed, ``0x`` means hex and a leading ``0`` octal
    (``010`` is 8), anything after the digits is an error.
    """
    stripped = text.lstrip(" \t\n\v\f\r")
    if not _C_INT.fullmatch(stripped):
        return None
    value = int(stripped, 0) if not re.fullmatch(r"[+-]?0[0-7]+", stripped) else int(stripped, 8)
    return value if -_INT32_MAX - 1 <= value <= _INT32_MAX else None


_UNRESOLVED = re.compile(r"\$\{[^}]*\}?|\$\([^)]*\)?|\{\{.*?\}\}")


def env_text(value: Val[Any] | None) -> tuple[str | None, Val[Any] | None]:
    """The text of an env value, or (None, why-unknown) when it cannot be read statically.

    Values that still hold ``${VAR}`` / ``$(VAR)`` / ``{{ }}`` were never resolved by the tool
    that should have (compose interpolation, Kubernetes dependent env, Helm): they are unknown,
    not numbers to guess at.
    """
    if value is None:
        return None, None
    if value.state is State.UNKNOWN or value.value is None:
        return None, unknown(value.loc, value.reason or "not readable statically")
    text = str(value.value)
    if _UNRESOLVED.search(text):
        return None, unknown(value.loc, f"{text!r} holds an unresolved reference")
    return text, None


def to_int(value: Val[Any], what: str, notices: list[Notice], *, minimum: int | None = None) -> Val[int]:
    """An integer from a written value (string or number), or unknown with a notice.

    Booleans are not numbers here, although YAML and Python agree they are.
    """
    raw = value.value
    if value.state is State.UNKNOWN or raw is None:
        return unknown(value.loc, value.reason or f"{what} is not readable")
    if isinstance(raw, bool) or isinstance(raw, float) and not raw.is_integer():
        number = None
    elif isinstance(raw, (int, float)):
        number = int(raw)
    else:
        text, why = env_text(value)
        if why is not None:
            notices.append(notice(f"{what}: {why.reason}", value.loc))
            return unknown(value.loc, why.reason)
        number = c_int(str(text).strip())
    if number is None:
        notices.append(notice(f"{what}: {raw!r} is not a whole number", value.loc))
        return unknown(value.loc, f"{raw!r} is not a whole number")
    if minimum is not None and number < minimum:
        notices.append(notice(f"{what}: {number} is below {minimum}", value.loc))
        return unknown(value.loc, f"{number} is below {minimum}")
    if value.state is State.DEFAULT:
        return default(number, value.loc, value.reason)
    return known(number, value.loc)


def lookup(env: Mapping[str, Val[Any]], name: str) -> Val[Any] | None:
    """The env value of ``name``, None when unset or empty.

    Every entrypoint read here tests variables with ``${VAR:-…}``/``${VAR:+…}`` or bitnami's
    ``is_empty_value``: an empty value counts as unset.
    """
    value = env.get(name)
    if value is None or value.state is not State.UNKNOWN and value.value in ("", None):
        return None
    return value
