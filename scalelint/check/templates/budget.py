"""SL003 / SL013: connections all clients may open against what the database accepts."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from scalelint.analyze.budget import Budget
from scalelint.analyze.links import Pool
from scalelint.check.templates.base import BoundRule, Context, Template
from scalelint.findings import Finding, Related
from scalelint.model import State


def breakdown(b: Budget) -> str:
    """``postgres: demand 140 > 97 available (max_connections 100 − 3 reserved): pgbouncer 2 replicas ×
    (20 pool + 0 reserve) = 40 for api … = 300; worker … = 100`` — poolers first, then direct clients."""
    db = b.database
    mc = db.max_connections.value
    rs = db.reserved.value
    terms = "; ".join([share.formula() for share in b.poolers] + [c.formula() for c in b.clients])
    return f"(max_connections {mc} − {rs} reserved): {terms}"


def fix_hint(b: Budget, ratio: float = 1.0) -> str:
    """``ratio``: what the fix must get the demand under (SL013: its warn-ratio of the available)."""
    fits = b.largest_pool_per_worker(ratio) if b.clients else None
    parts = []
    if fits is not None:
        first = b.clients[0].pool
        names = (first.size_name if first.limit is not None
                 else f"{first.size_name} + {first.overflow_name}")
        parts.append(f"set {names} ≤ {fits} per worker" if fits > 0 else
                     "cut workers or replicas: not even 1 connection per worker fits")
    for share in b.poolers:
        room = b.largest_pooler_server(share)
        if share.binds != "pooler" or not room:
            continue
        name = share.pooler.name
        if share.pooler.settings.flavour == "zalando" and len(share.pools) == 1:
            parts.append(_zalando_hint(name, room, share.pooler.replicas.value))
        elif share.pooler.settings.kind == "pgbouncer" and share.pools and room // len(share.pools):
            parts.append(f"keep {name}'s pool_size + reserve_pool_size ≤ {room // len(share.pools)} per pool")
        elif share.pooler.settings.kind == "pgpool":
            parts.append(f"keep {name}'s num_init_children × max_pool ≤ {room}")
    if not b.poolers:
        parts.append("put PgBouncer in front" if b.database.engine == "postgresql" else "add a connection proxy")
    parts.append("raise max_connections")
    return ", or ".join(parts)


def _zalando_hint(name: str, room: int, instances: object) -> str:
    """The Zalando operator derives each pod's pool from ``maxDBConnections``: pool = maxDBConnections ÷
    instances ÷ 2 and reserve = pool ÷ 2 (integer division); the largest value whose pool + reserve fits."""
    pods = instances if isinstance(instances, int) and instances > 0 else 1
    pool = max(p for p in range(room + 1) if p + p // 2 <= room)
    return f"set {name}'s spec.connectionPooler.maxDBConnections ≤ {pods * (2 * pool + 2) - 1} ({pool} pool + " \
           f"{pool // 2} reserve per pod)"


class ConnectionBudget(Template):
    """Demand of every client workload above the database's available connections (or above a share of it)."""

    name = "connection-budget"
    reads_trees = False
    description = "replicas x workers x pool must fit max_connections"
    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"warn-ratio": {"type": "number", "exclusiveMinimum": 0, "maximum": 1}},
    }
    defaults: ClassVar[dict[str, Any]] = {"warn-ratio": 1.0}

    def check(self, ctx: Context, rule: BoundRule) -> Iterator[Finding]:
        ratio = float(rule.params["warn-ratio"])
        tight = ratio < 1.0
        for b in ctx.facts.budgets:
            avail = b.available
            if avail is None:
                continue
            demand = b.demand
            if tight:
                if demand <= ratio * avail or demand > avail:
                    continue  # SL003 reports the overflow itself
                headline = (f"{b.database.name}: demand {demand} is {demand * 100 // max(avail, 1)}% of the "
                            f"{avail} available, above the {ratio:g} warning ratio")
            else:
                if demand <= avail:
                    continue
                headline = f"{b.database.name}: demand {demand} > {avail} available"
            partial = "" if b.complete else " (at least: some clients are unknown)"
            pools = [c.pool for c in b.clients] + [c.pool for share in b.poolers if share.binds == "clients"
                                                  for c in share.clients]
            note = assumption_note(pools)
            rel = [Related(loc.path, loc.line, loc.column, msg) for loc, msg in b.related()
                   if loc.line and (loc.path, loc.line, loc.column) != (b.database.loc.path, b.database.loc.line,
                                                                           b.database.loc.column)]
            yield rule.finding(
                f"{headline}{partial} {breakdown(b)}{note}",
                b.database.loc, b.database.obj, related=rel,
                fix=fix_hint(b, ratio if tight else 1.0),
            )


class UnboundedConnections(Template):
    """A client whose processes have no connection ceiling: the database's budget cannot be proven."""

    name = "unbounded-connections"
    reads_trees = False
    description = "a client opens as many connections as it has requests in flight"
    params_schema: ClassVar[dict[str, Any]] = {"type": "object", "additionalProperties": False, "properties": {}}
    defaults: ClassVar[dict[str, Any]] = {}

    def check(self, ctx: Context, rule: BoundRule) -> Iterator[Finding]:
        for b in ctx.facts.budgets:
            for c in b.clients:
                why = c.unbounded
                if why is None:
                    continue
                wl = c.workload
                where = c.worker_vals[0][1].loc if c.worker_vals and c.worker_vals[0][1].loc else wl.loc
                rel = [Related(b.database.loc.path, b.database.loc.line, b.database.loc.column,
                               f"{b.database.name}: the database whose budget cannot be proven")]
                if c.endpoint.loc is not None and c.endpoint.loc.line:
                    rel.append(Related(c.endpoint.loc.path, c.endpoint.loc.line, c.endpoint.loc.column,
                                       f"{c.endpoint.var} names {c.endpoint.host}"))
                yield rule.finding(
                    f"{wl.name}: {why}: its connections to {b.database.name} have no upper bound, so the "
                    f"connection budget ({b.available if b.available is not None else '?'} available) cannot "
                    "be checked",
                    where, wl.ref, related=rel,
                    fix="bound the connections per process: a WSGI server with a fixed number of threads, a "
                        "connection pool with a max size (SQLAlchemy pool_size, Django OPTIONS['pool'] max_size), "
                        "or PgBouncer in front of the database",
                )


def assumption_note(pools: list[Pool]) -> str:
    """What the sum took for granted: SQLAlchemy's defaults for unset settings, or no overflow for an
    app not known to use SQLAlchemy."""
    parts = []
    sqlalchemy = [p for p in pools if p.assumed and p.overflow.value != 0]
    if any(p.size.state is State.ASSUMED for p in sqlalchemy):
        parts.append("unset pool settings assumed from SQLAlchemy's defaults (5 pool + 10 overflow)")
    elif sqlalchemy:
        parts.append("unset max overflow assumed from SQLAlchemy's default 10")
    if any(p.assumed and p.overflow.value == 0 and p.size.state is not State.ASSUMED for p in pools):
        parts.append("a pool size without overflow taken as the whole cap (no sign the app uses SQLAlchemy)")
    if any(p.limit is not None and p.limit.state is State.ASSUMED and p.library == "Django" for p in pools):
        parts.append("Django apps whose settings are not linted assumed to use 1 database alias")
    return "".join(f" — {part}" for part in parts)
