"""The capacity report's rows (SPEC §5 ``scalelint report``), computed from facts.

Formatters print these rows; they never compute (DESIGN.md).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from scalelint.analyze.budget import Budget, Client
from scalelint.analyze.facts import Facts
from scalelint.model import Group, Val


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


@dataclass
class GroupReport:
    id: str
    kind: str
    databases: list[DatabaseRow] = field(default_factory=list)


def _v(val: Val[int] | None) -> int | None:
    if val is None or not val.known or val.value is None:
        return None
    return int(val.value)


def _client_row(b: Budget, c: Client) -> ClientRow:
    wl = c.workload
    return ClientRow(
        workload=wl.name, kind=wl.kind, namespace=wl.namespace, database=b.database.name,
        replicas_min=_v(c.min_replicas), replicas_max=_v(c.replicas), hpa=c.hpa, workers=c.workers,
        pool=_v(c.pool.size) if c.pool.limit is None else None,
        overflow=_v(c.pool.overflow) if c.pool.limit is None else None,
        connection_limit=_v(c.pool.limit) if c.pool.limit is not None else None,
        pool_assumed=c.pool.assumed, per_replica=c.per_replica, connections=c.demand,
        largest_replicas=b.largest_replicas(c), location=str(wl.loc), unknown=tuple(c.unknown_reasons()),
    )


def group_report(group: Group, facts: Facts, warn_ratio: float = 0.9) -> GroupReport:
    out = GroupReport(group.id, group.kind)
    for b in facts.budgets:
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
        ))
    out.databases.sort(key=lambda d: (d.name, d.location))
    return out
