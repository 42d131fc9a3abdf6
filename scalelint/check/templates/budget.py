"""SL003 / SL013: connections all clients may open against what the database accepts."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from scalelint.analyze.budget import Budget
from scalelint.check.templates.base import BoundRule, Context, Template
from scalelint.findings import Finding, Related


def breakdown(b: Budget) -> str:
    """``postgres: demand 300 > 97 available (max_connections 100 − 3 reserved): api … = 300``."""
    db = b.database
    mc = db.max_connections.value
    rs = db.reserved.value
    terms = "; ".join(c.formula() for c in b.clients)
    return f"(max_connections {mc} − {rs} reserved): {terms}"


def fix_hint(b: Budget) -> str:
    fits = b.largest_pool_per_worker()
    parts = []
    if fits is not None:
        first = b.clients[0].pool
        names = (first.size_name if first.limit is not None
                 else f"{first.size_name} + {first.overflow_name}")
        parts.append(f"set {names} ≤ {fits} per worker" if fits > 0 else
                     "cut workers or replicas: not even 1 connection per worker fits")
    parts.append("put PgBouncer in front" if b.database.engine == "postgresql" else "add a connection proxy")
    parts.append("raise max_connections")
    return ", or ".join(parts)


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
            assumed = any(c.pool.assumed for c in b.clients)
            note = (" — unset pool settings assumed from SQLAlchemy's defaults (5 pool + 10 overflow)"
                    if assumed else "")
            rel = [Related(loc.path, loc.line, loc.column, msg) for loc, msg in b.related()
                   if loc.line and (loc.path, loc.line, loc.column) != (b.database.loc.path, b.database.loc.line,
                                                                           b.database.loc.column)]
            yield rule.finding(
                f"{headline}{partial} {breakdown(b)}{note}",
                b.database.loc, b.database.obj, related=rel,
                fix=fix_hint(b),
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
