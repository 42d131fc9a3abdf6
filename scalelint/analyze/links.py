"""Which workloads connect to which database, and with how many connections per worker.

Hosts come from database URLs in env values and from host variables
(``DB_HOST`` …). Names are matched through hash indexes — compose service
names and aliases, Kubernetes Service DNS forms resolved to (namespace, name),
config ``databases`` hosts — never by scanning workloads × services.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from scalelint.analyze.env import Env
from scalelint.config import Config
from scalelint.findings import Loc
from scalelint.model import State, Val, assumed, default, known, unknown

URL = re.compile(r"^\s*(postgres(?:ql)?|mysql|mariadb)(?:\+[\w.-]+)?://", re.IGNORECASE)
HOST_VARS = ("DB_HOST", "DB_HOSTNAME", "POSTGRES_HOST", "PGHOST", "DATABASE_HOST", "DATABASE_HOSTNAME", "MYSQL_HOST",
             "POSTGRES_SERVER", "DB_SERVER", "DATABASE_SERVER", "POSTGRESQL_HOST")
#: a client's own address: a sidecar of its pod, or the host under host networking
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
#: a variable that says a container talks to a database (DB_HOSTNAME, POSTGRES_PASSWORD, MYSQL_DATABASE...)
_DB_VAR = re.compile(r"^(?:DB|DATABASE|POSTGRES(?:QL)?|PG|MYSQL|MARIADB)_")
SQLALCHEMY_POOL = 5
SQLALCHEMY_OVERFLOW = 10


@dataclass(frozen=True)
class Endpoint:
    """A database host a container names, and where it is named."""

    host: str
    var: str
    loc: Loc | None
    #: pool settings from the URL's query string
    query: dict[str, str]


@dataclass(frozen=True)
class Pool:
    """Connections one worker process may hold: pool size + max overflow (SQLAlchemy's model), a
    per-process total (``connection_limit``, a Django thread × alias count, asyncpg's ``max_size``),
    or no bound at all."""

    size: Val[int]
    overflow: Val[int]
    #: a per-process total replacing size + overflow (Prisma's ``connection_limit``, or what the
    #: application's source says: Django threads × aliases, an asyncpg or psycopg pool)
    limit: Val[int] | None = None
    #: the settings' names as the workload spells them, for fix hints
    size_name: str = "pool size"
    overflow_name: str = "max overflow"
    #: how ``limit`` is made up, for messages ("4 threads × 1 alias, Django"); empty: connection_limit
    text: str = ""
    #: why one process has no bound (Django under an ASGI server, NullPool): the budget cannot be proven
    unbounded: str | None = None
    #: what the numbers were read from (``SQLAlchemy 2.0``, ``Django``), None for env and URL settings
    library: str | None = None

    @property
    def per_worker(self) -> int | None:
        if self.unbounded is not None:
            return None
        if self.limit is not None:
            return int(self.limit.value) if self.limit.known and self.limit.value is not None else None
        if self.size.known and self.overflow.known:
            return int(self.size.value or 0) + int(self.overflow.value or 0)
        return None

    @property
    def assumed(self) -> bool:
        """Nothing said how big the pool is: SQLAlchemy's defaults are scalelint's guess."""
        return (self.limit is None and self.unbounded is None
                and State.ASSUMED in (self.size.state, self.overflow.state))

    def describe(self) -> str:
        if self.unbounded is not None:
            return "(unbounded)"
        if self.limit is not None:
            value = self.limit.value if self.limit.known else "?"
            return f"({self.text} = {value})" if self.text else f"connection_limit {value}"
        size = self.size.value if self.size.known else "?"
        over = self.overflow.value if self.overflow.known else "?"
        tag = " assumed" if self.assumed else ""
        return f"({size} pool + {over} overflow{tag})"


def unlinked_reason(env: Env, missing_env_files: list[str]) -> str | None:
    """Why a container no link was read for seems to use a database: a host the files do not define, a
    local address, database variables without a host, an env_file that is missing; None: nothing says so."""
    for ep in endpoints(env):
        if ep.host in LOCAL_HOSTS:
            return f"{ep.var} names {ep.host}: the database at that address is not in the files linted"
        return f"{ep.var} names {ep.host!r}, which is not defined in the files linted"
    names = sorted(n for n in env if _DB_VAR.search(n))
    if names:
        return f"it sets {names[0]} but no database host scalelint reads"
    if missing_env_files:
        return f"env_file {missing_env_files[0]} is not found: a database link may be in it"
    return None


def endpoints(env: Env) -> list[Endpoint]:
    out: list[Endpoint] = []
    for name in sorted(env):
        val = env[name]
        text = val.value
        if not isinstance(text, str) or not text:
            continue
        if URL.match(text):
            out.extend(_url_hosts(name, text, val.loc))
        elif name in HOST_VARS:
            host = text.strip().split(":", 1)[0].rstrip(".").lower()
            if host:
                out.append(Endpoint(host, name, val.loc, {}))
    return out


def _url_hosts(var: str, url: str, loc: Loc | None) -> list[Endpoint]:
    try:
        parts = urlsplit(url.strip())
        netloc = parts.netloc.rsplit("@", 1)[-1]
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    except ValueError:
        return []
    hosts = []
    for item in netloc.split(","):
        host = item.strip()
        if host.startswith("["):
            host = host[1:].split("]", 1)[0]
        else:
            host = host.split(":", 1)[0]
        host = host.rstrip(".").lower()
        if host:
            hosts.append(Endpoint(host, var, loc, query))
    # ?host=/path (unix sockets) or ?host=name overrides an empty netloc
    if not hosts and query.get("host"):
        hosts.append(Endpoint(query["host"].lower(), var, loc, query))
    return hosts


def kube_target(host: str, namespace: str) -> tuple[str, str] | None:
    """A Kubernetes DNS name → (namespace, service); ``svc``, ``svc.ns``, ``svc.ns.svc``,
    ``svc.ns.svc.cluster.local`` and ``pod.svc.ns.svc.cluster.local``."""
    name = host.rstrip(".")
    for suffix in (".svc.cluster.local", ".svc"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    parts = name.split(".")
    if len(parts) == 1:
        return namespace, parts[0]
    if len(parts) == 2:
        return parts[1], parts[0]
    if len(parts) == 3:
        return parts[2], parts[1]
    return None


def pool(env: Env, endpoint: Endpoint | None, config: Config, loc: Loc) -> Pool:
    size, size_name = _first(env, config.pool_size_env)
    overflow, overflow_name = _first(env, config.max_overflow_env)
    query = endpoint.query if endpoint else {}
    where = endpoint.loc if endpoint and endpoint.loc else loc
    if "connection_limit" in query:
        zero = default(0, where, "")
        return Pool(zero, zero, _parse(query["connection_limit"], where, "connection_limit"),
                    "connection_limit", "connection_limit")
    if size is None and "pool_size" in query:
        size, size_name = _parse(query["pool_size"], where, "pool_size"), "pool_size"
    if overflow is None and "max_overflow" in query:
        overflow, overflow_name = _parse(query["max_overflow"], where, "max_overflow"), "max_overflow"
    if size is None:
        size = assumed(SQLALCHEMY_POOL, None, f"no pool size set: SQLAlchemy's default {SQLALCHEMY_POOL} assumed")
    if overflow is None:
        overflow = assumed(SQLALCHEMY_OVERFLOW, None,
                           f"no max overflow set: SQLAlchemy's default {SQLALCHEMY_OVERFLOW} assumed")
    size_name = size_name or (config.pool_size_env[0] if config.pool_size_env else "pool size")
    overflow_name = overflow_name or (config.max_overflow_env[0] if config.max_overflow_env else "max overflow")
    return Pool(size, overflow, None, size_name, overflow_name)


def _first(env: Env, names: list[str]) -> tuple[Val[int] | None, str]:
    for name in names:
        var = env.get(name)
        if var is None:
            continue
        if not var.known:
            return unknown(var.loc, f"{name}: {var.reason}"), name
        return _parse(str(var.value), var.loc, name), name
    return None, ""


def _parse(text: str, loc: Loc | None, what: str) -> Val[int]:
    text = text.strip().strip("'\"")
    if text.isdigit():
        return known(int(text), loc)
    return unknown(loc, f"{what}={text!r} is not a number")
