"""The capacity report's rows (SPEC §5 ``scalelint report``), computed from facts.

Formatters print these rows; they never compute (DESIGN.md).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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
        workload=wl.name, kind=wl.kind, namespace=wl.namespace, database=b.database.name,
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
