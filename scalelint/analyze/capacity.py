"""The capacity report's rows (SPEC §5 ``scalelint report``, §9 the pooler chain), computed from facts.

Formatters print these rows; they never compute (DESIGN.md). A database row lists its direct
clients and, for each pooler in front of it, the share that pooler opens (:class:`PoolerShareRow`);
each pooler has a row of its own (:class:`PoolerRow`) with its settings, where each was written,
and its clients — so the chain client → pooler → database can be followed number by number.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scalelint.analyze.budget import Budget, Client, PoolerLoad, PoolerShare
from scalelint.analyze.facts import Facts
from scalelint.analyze.poolers import CLIENT_LIMIT_NAME
from scalelint.model import Group, State, Val


@dataclass(frozen=True)
class ClientRow:
    workload: str
    kind: str
    namespace: str | None
    database: str
    replicas_min: int | None
    replicas_max: int | None
    hpa: bool
    workers: int | None
    pool: int | None
    overflow: int | None
    connection_limit: int | None
    pool_assumed: bool
    per_replica: int | None
    connections: int | None
    largest_replicas: int | None
    location: str
    unknown: tuple[str, ...] = ()
    #: SPEC §8: threads per worker process, connections one process may hold ("unbounded" when nothing
    #: bounds them), and for each number where it was set (``path:line:col``) and its status
    #: (known / default / assumed / unknown)
    threads: int | None = None
    per_worker: int | str | None = None
    pool_text: str = ""
    sources: tuple[tuple[str, str], ...] = ()
    statuses: tuple[tuple[str, str], ...] = ()
    #: process groups with their own connections: (label, processes, connections per process)
    groups: tuple[tuple[str, int | None, str], ...] = ()


@dataclass(frozen=True)
class SettingRow:
    """One pooler setting: its value, whether it was written, and where (or whose default it is)."""

    name: str
    value: int | str | None
    status: str  # known | default | assumed | unknown
    source: str | None  # path:line:col where written
    reason: str = ""  # which default, or why unknown


@dataclass(frozen=True)
class PoolerShareRow:
    """What one pooler opens to a database: min(clients' demand, replicas × server connections per replica)."""

    pooler: str
    replicas: int | None
    hpa: bool
    server_per_replica: int | None
    server_description: str
    server_limit: int | None
    client_demand: int
    clients_complete: bool
    connections: int
    complete: bool
    binds: str  # "pooler": its pools decide; "clients": its clients need less
    clients: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()


@dataclass(frozen=True)
class PoolerRow:
    """A pooler with its settings and its clients (SPEC §9 ``report``: the chain's middle link)."""

    name: str
    kind: str  # pgbouncer | pgpool | proxysql
    flavour: str
    settings_from: str  # ini | env | operator | defaults | unknown
    config_path: str
    location: str
    namespace: str | None
    replicas: int | None
    hpa: bool
    mode: str | None
    client_limit_setting: str
    max_client_conn: int | None
    client_limit: int | None
    demand: int
    complete: bool
    status: str  # ok | over | unknown (clients' demand against the client limit)
    databases: tuple[str, ...] = ()
    settings: tuple[SettingRow, ...] = ()
    clients: tuple[ClientRow, ...] = ()
    unknown: tuple[str, ...] = ()


@dataclass(frozen=True)
class DatabaseRow:
    name: str
    engine: str
    max_connections: int | None
    max_connections_source: str
    reserved: int | None
    available: int | None
    demand: int
    complete: bool
    headroom: int | None
    status: str  # "ok" | "tight" | "over" | "unknown"
    location: str
    clients: tuple[ClientRow, ...] = ()
    #: why max_connections or reserved is unknown
    unknown: tuple[str, ...] = ()
    #: poolers in front of it, each with the connections it opens
    poolers: tuple[PoolerShareRow, ...] = ()


@dataclass
class GroupReport:
    id: str
    kind: str
    databases: list[DatabaseRow] = field(default_factory=list)
    poolers: list[PoolerRow] = field(default_factory=list)


def _v(val: Val[int] | None) -> int | None:
    if val is None or not val.known or val.value is None:
        return None
    return int(val.value)


def _client_row(b: Budget | PoolerLoad, c: Client) -> ClientRow:
    """A client of a database (``largest_replicas``: what its budget fits) or of a pooler (what its
    client limit accepts; ``database`` then names the pooler)."""
    wl = c.workload
    target = b.database.name if isinstance(b, Budget) else b.pooler.name
    per_worker: int | str | None = "unbounded" if c.unbounded else c.pool.per_worker
    pool_val = c.pool.limit if c.pool.limit is not None else (c.pool.size if c.pool.size.loc else None)
    values: dict[str, Val[Any] | None] = {
        "replicas": c.replicas, "workers": c.worker_vals[0][1] if len(c.worker_vals) == 1 else None,
        "threads": c.threads, "per_worker": pool_val,
    }
    sources = tuple((k, str(v.loc)) for k, v in values.items() if v is not None and v.loc is not None and v.loc.line)
    statuses = tuple((k, _status(v)) for k, v in values.items() if v is not None)
    if c.unbounded:
        statuses = tuple((k, "unknown" if k == "per_worker" else s) for k, s in statuses)
    return ClientRow(
        workload=wl.name, kind=wl.kind, namespace=wl.namespace, database=target,
        replicas_min=_v(c.min_replicas), replicas_max=_v(c.replicas), hpa=c.hpa, workers=c.workers,
        pool=_v(c.pool.size) if c.pool.limit is None else None,
        overflow=_v(c.pool.overflow) if c.pool.limit is None else None,
        connection_limit=_v(c.pool.limit) if c.pool.limit is not None else None,
        pool_assumed=c.pool.assumed, per_replica=c.per_replica, connections=c.demand,
        largest_replicas=b.largest_replicas(c), location=str(wl.loc), unknown=tuple(c.unknown_reasons()),
        threads=_v(c.threads), per_worker=per_worker, pool_text=c.pool.describe(), sources=sources,
        statuses=statuses,
        groups=tuple((label, _v(count), gp.describe()) for label, count, gp in c.groups),
    )


def _status(v: Val[Any]) -> str:
    return v.state.value if v.known or v.state.value == "unknown" else "unknown"


def group_report(group: Group, facts: Facts, warn_ratio: float = 0.9) -> GroupReport:
    out = GroupReport(group.id, group.kind)
    for b in facts.budgets + [Budget(db) for db in facts.idle_databases]:
        db = b.database
        avail = b.available
        demand = b.demand
        if avail is None:
            status = "unknown"
        elif demand > avail:
            status = "over"  # the known part alone is over: the unknown ones only add to it
        elif not b.complete:
            status = "unknown"  # a lower bound that fits says nothing about the whole
        elif demand > warn_ratio * avail:
            status = "tight"
        else:
            status = "ok"
        mc = db.max_connections
        source = "set" if mc.state.value == "known" else (mc.reason or mc.state.value)
        out.databases.append(DatabaseRow(
            name=db.name, engine=db.engine, max_connections=_v(mc), max_connections_source=source,
            reserved=_v(db.reserved), available=avail, demand=demand, complete=b.complete,
            headroom=None if avail is None else avail - demand, status=status, location=str(db.loc),
            clients=tuple(_client_row(b, c) for c in b.clients),
            unknown=tuple(dict.fromkeys(v.reason or f"{what} unknown" for what, v in
                                        (("max_connections", mc), ("reserved", db.reserved)) if not v.known)),
            poolers=tuple(_share_row(share) for share in b.poolers),
        ))
    out.databases.sort(key=lambda d: (d.name, d.location))
    out.poolers = [_pooler_row(load) for load in facts.pooler_loads]
    out.poolers.sort(key=lambda p: (p.name, p.location))
    return out


def _share_row(share: PoolerShare) -> PoolerShareRow:
    p = share.pooler
    return PoolerShareRow(
        pooler=p.name, replicas=_v(p.replicas), hpa=p.hpa, server_per_replica=_v(share.server),
        server_description=share.per_replica_text(), server_limit=share.cap, client_demand=share.client_demand,
        clients_complete=share.clients_complete,
        connections=share.demand, complete=share.complete, binds=share.binds,
        clients=tuple(c.workload.name for c in share.clients + share.unrouted),
        unknown=tuple(share.unknown_reasons()))


#: the settings the report shows, per pooler kind
_SHOWN = {
    "pgbouncer": ("mode", "max_client_conn", "default_pool_size", "reserve_pool_size", "max_db_connections",
                  "max_user_connections", "listen_port"),
    "pgpool": ("num_init_children", "max_pool", "listen_port"),
    "proxysql": ("max_client_conn", "listen_port"),
}


def _setting(name: str, val: Val[Any] | None) -> SettingRow:
    if val is None:
        return SettingRow(name, None, "unknown", None, "not read")
    source = str(val.loc) if val.loc is not None and val.loc.line and val.state is State.KNOWN else None
    status = val.state.value if val.value is not None or val.state is State.UNKNOWN else "unknown"
    value = val.value if isinstance(val.value, (int, str)) and not isinstance(val.value, bool) else None
    return SettingRow(name, value, status, source, val.reason)


def _pooler_row(load: PoolerLoad) -> PoolerRow:
    p, s = load.pooler, load.pooler.settings
    shown = [_setting("replicas", p.replicas)]
    for attr in _SHOWN.get(s.kind, ()):
        label = {"mode": "pool_mode", "max_client_conn": CLIENT_LIMIT_NAME.get(s.kind, "max_client_conn")}.get(attr, attr)
        val = getattr(s, attr)
        if attr.startswith("max_") and attr.endswith("_connections") and val.state is State.DEFAULT and not val.value:
            continue  # "no limit", nobody's choice: noise
        shown.append(_setting(label, val))
    for entry in s.databases:  # per-database overrides of the global pool settings
        for key in ("pool_mode", "pool_size", "reserve_pool_size", "max_db_connections"):
            if getattr(entry, key) is not None:
                shown.append(_setting(f"[databases] {entry.name} {key}", getattr(entry, key)))
    capacity = load.capacity
    if capacity is None or not load.clients:  # no client in these files: its demand is not known
        status = "unknown"
    elif load.demand > capacity:
        status = "over"
    else:
        status = "ok" if load.complete else "unknown"
    unknown = list(load.unknown) + [f"{row.name}: {row.reason}" for row in shown if row.status == "unknown"]
    return PoolerRow(
        name=p.name, kind=s.kind, flavour=s.flavour, settings_from=s.source, config_path=s.config_path,
        location=str(p.loc), namespace=p.namespace, replicas=_v(p.replicas), hpa=p.hpa,
        mode=str(s.mode.value) if s.mode.known else None,
        client_limit_setting=CLIENT_LIMIT_NAME.get(s.kind, "max_client_conn"),
        max_client_conn=_v(s.max_client_conn), client_limit=capacity, demand=load.demand, complete=load.complete,
        status=status, databases=tuple(load.databases), settings=tuple(shown),
        clients=tuple(_client_row(load, c) for c in load.clients), unknown=tuple(dict.fromkeys(unknown)))
