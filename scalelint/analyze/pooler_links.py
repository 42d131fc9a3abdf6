"""How clients reach a pooler and a pooler its database (SPEC §9, §11).

Clients are linked to a pooler exactly as to a database (:mod:`scalelint.analyze.links`): a
compose service name or alias, or a Kubernetes DNS name resolved from the client's file
outward — a Service and the pods it selects, a workload of that name, an operator's pooler
Service (CloudNativePG ``Pooler``, Zalando ``<cluster>-pooler``, Crunchy/Percona
``<cluster>-pgbouncer``). The pooler reaches its database by its backend hosts, resolved the
same way from the pooler's own file. What a client asks the pooler for — database, user, port —
comes from its URL or the usual variables.

Decisions where SPEC §9 is silent:

- One name that reaches both a database and a pooler (a PgBouncer sidecar in the database's
  pod behind one Service) goes to the pooler when the client's port is the pooler's listen port,
  else to the database.
- A client that connects to ``localhost`` reaches a pooler sidecar of its own pod.
- A client that names no port in a URL uses the driver's default (PostgreSQL 5432, MySQL
  3306); one that names its host in a variable and no port anywhere has an unknown port (its
  code may have a default of its own).
- A client whose database cannot be told (a PgBouncer with several ``[databases]`` entries on
  different servers, and a client whose URL names no database) may reach any of them: it is
  left out of each of their budgets, which are then lower bounds ("at least").
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from scalelint.analyze.databases import Database, operator_service_owners
from scalelint.analyze.links import LOCAL_HOSTS, URL, Endpoint, kube_target
from scalelint.analyze.poolers import Pooler
from scalelint.load.spans import find_after
from scalelint.model import References, Service, State, Val, default, known
from scalelint.model.kube import WORKLOAD_KINDS
from scalelint.sources import poolers as poolerlib

if TYPE_CHECKING:
    from scalelint.sources.poolers import Backend, Pool, PoolerSettings, PoolUse

__all__ = [
    "LOCAL_HOSTS", "Routed", "client_port", "client_use", "cluster_service_owners", "kube_reach",
    "pooler_service_owners", "refuses", "route", "split",
]

_USER_VARS = ("DB_USER", "DB_USERNAME", "POSTGRES_USER", "PGUSER", "DATABASE_USER", "DATABASE_USERNAME",
              "POSTGRESQL_USERNAME", "MYSQL_USER")
_NAME_VARS = ("DB_NAME", "DB_DATABASE", "POSTGRES_DB", "PGDATABASE", "DATABASE_NAME", "POSTGRESQL_DATABASE",
              "MYSQL_DATABASE")
_PORT_VARS = ("DB_PORT", "POSTGRES_PORT", "PGPORT", "DATABASE_PORT", "POSTGRESQL_PORT", "MYSQL_PORT")


# --------------------------------------------------------------------------------- names

def pooler_service_owners(service: str) -> list[tuple[str, str]]:
    """(kind, name) of the operator objects whose pooler Service could be called ``service``:
    a CloudNativePG ``Pooler`` (its own name), Zalando ``<cluster>-pooler``/``-pooler-repl``,
    Crunchy and Percona ``<cluster>-pgbouncer``."""
    out = [("Pooler", service)]
    for suffix, kinds in (("-pooler", ("postgresql",)), ("-pooler-repl", ("postgresql",)),
                          ("-pgbouncer", ("PostgresCluster", "PerconaPGCluster"))):
        if service.endswith(suffix) and len(service) > len(suffix):
            out += [(kind, service[: -len(suffix)]) for kind in kinds]
    return out


def cluster_service_owners(service: str) -> list[tuple[str, str]]:
    """Crunchy/Percona clusters whose database Service could be called ``service`` (``-primary``, ``-replicas``)."""
    out: list[tuple[str, str]] = []
    for suffix in ("-primary", "-replicas"):
        if service.endswith(suffix) and len(service) > len(suffix):
            out += [(kind, service[: -len(suffix)]) for kind in ("PostgresCluster", "PerconaPGCluster")]
    return out


# --------------------------------------------------------------------------------- Kubernetes names


def _unique(items: list[Any]) -> list[Any]:
    return list({id(item): item for item in items}.values())


def kube_reach(refs: References, host: str, origin: str, namespace: str, dbs: Mapping[int, Database],
               poolers: Mapping[int, list[Pooler]], port: Callable[[], Val[int] | None] | None = None,
               ) -> tuple[list[Database], list[Pooler], list[Service]]:
    """The databases or poolers a host name reaches from ``origin``, and the Services it went through.

    First match wins: a Service (any DNS form) and the pods it selects; a workload of that name
    (a StatefulSet's governing name); an operator's pooler Service; an operator's database
    Service (CloudNativePG ``<cluster>-rw``, Zalando ``<cluster>``, Crunchy ``<cluster>-primary``).
    ``poolers`` maps ``id(workload or KubeObject)`` to the poolers it runs; without ``port`` (a
    pooler's backend) poolers are not looked for.
    """
    target = kube_target(host, namespace)
    if target is None:
        return [], [], []
    ns, name = target
    services = [s for s in refs.named(origin, "Service", ns, name) if isinstance(s, Service)]
    parts: list[Any] = [w for s in services for w in refs.selected(s.loc.path, ns, s.selector, [])]
    if not _hits(parts, dbs, poolers, port):
        services = []
        parts = [w for kind in sorted(WORKLOAD_KINDS) for w in refs.named(origin, kind, ns, name)]
    if not _hits(parts, dbs, poolers, port) and port is not None:
        found = [p for kind, base in pooler_service_owners(name) for o in refs.named(origin, kind, ns, base)
                 for p in poolers.get(id(o), []) if name in p.settings.services]
        if found:
            return [], _unique(found), []
    if not _hits(parts, dbs, poolers, port):  # the operator object also runs its poolers: only its database here
        owners = operator_service_owners(name) + cluster_service_owners(name)
        parts = [o for kind, base in owners for o in refs.named(origin, kind, ns, base)]
        return _unique([dbs[id(p)] for p in parts if id(p) in dbs]), [], []
    found_dbs = _unique([dbs[id(p)] for p in parts if id(p) in dbs])
    found_poolers = _unique([q for p in parts for q in poolers.get(id(p), [])]) if port is not None else []
    if found_dbs and found_poolers:  # one Service in front of both: the port says which (module docstring)
        wanted = port() if port is not None else None
        chosen = [p for p in found_poolers if wanted is not None and p.settings.listen_port.value == wanted.value]
        return ([], chosen, services) if chosen else (found_dbs, [], services)
    return found_dbs, found_poolers, services


def _hits(parts: list[Any], dbs: Mapping[int, Database], poolers: Mapping[int, list[Pooler]],
          port: Callable[[], Val[int] | None] | None) -> bool:
    return any(id(p) in dbs or (port is not None and id(p) in poolers) for p in parts)


# --------------------------------------------------------------------------------- routing


@dataclass
class Routed:
    """The clients of one pooler whose traffic reaches one database, and what the pooler opens for them."""

    database: Database
    #: indexes into the pooler's clients: those that reach it, those that may
    clients: list[int] = field(default_factory=list)
    unrouted: list[int] = field(default_factory=list)
    server: Val[int] = field(default_factory=lambda: Val(None, None, State.UNKNOWN, "no client"))
    pools: list[Pool] = field(default_factory=list)


def split(settings: PoolerSettings, uses: list[PoolUse], reached: list[tuple[Backend, list[Database]]]) -> list[Routed]:
    """Route each client (its :class:`PoolUse`) to the databases its backends reach, and compute per
    database the server connections one pooler replica opens for the clients routed there."""
    everywhere = _unique([db for _, found in reached for db in found])
    out: dict[int, Routed] = {}
    for index, use in enumerate(uses):
        backends = route(settings, use)
        targets = None if backends is None else _unique(
            [db for b in backends for r, found in reached if (r.host, r.port) == (b.host, b.port) for db in found])
        if targets is None and len(everywhere) == 1:
            targets = everywhere
        for db in targets if targets is not None else everywhere:
            routed = out.setdefault(id(db), Routed(db))
            (routed.clients if targets is not None else routed.unrouted).append(index)
    for routed in out.values():
        here = [b for b, found in reached if any(db is routed.database for db in found)]
        mine = [uses[i] for i in routed.clients]
        scoped = dataclasses.replace(settings, backends=here)
        routed.server = poolerlib.server_connections_per_replica(scoped, mine)
        if settings.kind == "pgbouncer":
            routed.pools = poolerlib.plan_pools(scoped, mine)[0]
    order = {id(db): i for i, db in enumerate(everywhere)}
    return sorted(out.values(), key=lambda r: order[id(r.database)])


# --------------------------------------------------------------------------------- clients

def client_use(env: Mapping[str, Val[str]], ep: Endpoint) -> PoolUse:
    """The (database, user) a client asks the pooler for: the URL's path and user, else the usual variables."""
    database = user = None
    text = _text(env.get(ep.var))
    if text is not None and URL.match(text):
        rest = text.strip().split("://", 1)[1]
        netloc, _, path = rest.partition("/")
        userinfo = netloc.rpartition("@")[0]
        user = (unquote(userinfo.split(":", 1)[0]) or None) if userinfo else None
        database = unquote(path.split("?", 1)[0]) or None
    if user is None:
        user = next((t for n in _USER_VARS if (t := _text(env.get(n)))), None)
    if database is None:
        database = next((t for n in _NAME_VARS if (t := _text(env.get(n)))), None)
    return poolerlib.PoolUse(database, user)


def client_port(env: Mapping[str, Val[str]], ep: Endpoint) -> Val[int] | None:
    """The port a client connects to, where it is written; None when nothing says (module docstring)."""
    value = env.get(ep.var)
    text = _text(value)
    if value is None or text is None:
        return None
    if URL.match(text):
        netloc = text.strip().split("://", 1)[1].split("/", 1)[0].split("?", 1)[0].rpartition("@")[2]
        for item in netloc.split(","):
            host, port = _host_port(item)
            if host == ep.host:
                if port is None:
                    mysql = text.lstrip().lower().startswith(("mysql", "mariadb"))
                    number = 3306 if mysql else 5432
                    return default(number, value.loc, f"no port in {ep.var}: the driver's default {number}")
                return _port_val(port, value, text)
        return None
    host, port = _host_port(text.strip())
    if port is not None:
        return _port_val(port, value, text)
    for name in _PORT_VARS:
        port_text = _text(env.get(name))
        if port_text is not None:
            other = env[name]
            return known(int(port_text), other.loc) if port_text.strip().isdigit() else None
    return None


def _host_port(item: str) -> tuple[str, str | None]:
    item = item.strip()
    if item.startswith("["):
        host, _, rest = item[1:].partition("]")
        return host.lower(), rest[1:] if rest.startswith(":") else None
    host, sep, port = item.partition(":")
    return host.rstrip(".").lower(), port if sep else None


def _port_val(port: str, value: Val[str], text: str) -> Val[int] | None:
    if not port.isdigit():
        return None
    where = value.loc
    # the port's own position only where the loader kept where each character is (a quoted scalar's
    # start is its quote otherwise); else the value's start
    if value.spot is not None and value.spot.anchors:
        written = value.spot.source if value.spot.source is not None else text
        offset = find_after(written, [f":{port}"])
        where = value.spot.at(offset + 1) if offset >= 0 else value.loc
    return known(int(port), where)


def _text(value: Val[str] | None) -> str | None:
    if value is None or value.state is State.UNKNOWN or not isinstance(value.value, str) or not value.value:
        return None
    return value.value


def refuses(settings: PoolerSettings, use: PoolUse) -> bool:
    """PgBouncer refuses a client whose database has no ``[databases]`` entry and no ``*`` fallback."""
    if settings.kind != "pgbouncer" or use.database is None or not settings.databases:
        return False
    return not any(d.name in (use.database, "*") for d in settings.databases)


def route(settings: PoolerSettings, use: PoolUse) -> list[Backend] | None:
    """The backends a client's traffic reaches through the pooler; None when it cannot be told apart.

    PgBouncer picks the ``[databases]`` entry named like the client's database, else ``*``; a
    client whose database is not known reaches the only entry there is. Pgpool-II and ProxySQL
    (and PgBouncer entries listing several hosts) spread every client over all their backends.
    An empty list: the pooler refuses the client (no entry for its database).
    """
    if settings.kind != "pgbouncer":
        return list(settings.backends)
    named = {d.name: d for d in settings.databases}
    listed = [d for d in settings.databases if d.name != "*"]
    if use.database is not None:
        entry = named.get(use.database) or named.get("*")
    elif not listed:
        entry = named.get("*")
    elif len(listed) == 1 and "*" not in named:
        entry = listed[0]
    else:
        return None
    if entry is None or entry.host is None:
        return []  # refused, or a Unix socket: no workload of the group
    if not entry.host.known:
        return None
    hosts = {h.strip().lower() for h in str(entry.host.value).split(",")}
    return [b for b in settings.backends if b.host.lower() in hosts]
