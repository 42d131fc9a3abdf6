"""``scalelint plan`` (SPEC §10): scale workers or pods, and how far?

The analysis fills one :class:`Numbers` per workload (its replicas, workers, connections per
worker, limits, hints, and what the other clients take of each database); :func:`plan` turns
them into :class:`PlanRow` answers that the formatters in :mod:`scalelint.output.plan` print.
Nothing here reads manifests, so the planner can be tested with hand-checkable numbers.

Module map: the types live in ``plan_model``, the arithmetic in ``plan_budget``, the decision in
``plan_step``, ``--set`` and the findings diff in ``plan_whatif``; this module is the public API.
"""
from __future__ import annotations

from collections import defaultdict

from scalelint.analyze.plan_budget import budget_fit, cpu_ceiling, inputs, memory_ceiling, policy_ceiling, uses
from scalelint.analyze.plan_model import (
    CUT,
    NEXT_STEPS,
    NONE,
    REPLICAS,
    WORKERS,
    Ceiling,
    ClientLoad,
    DatabaseLoad,
    DatabaseShare,
    DatabaseUse,
    Numbers,
    PlanRow,
)
from scalelint.analyze.plan_step import Ceilings, decide
from scalelint.analyze.plan_whatif import FIELDS, PlanUsageError, diff_findings, parse_sets

__all__ = [
    "CUT", "FIELDS", "NEXT_STEPS", "NONE", "REPLICAS", "WORKERS", "Ceiling", "ClientLoad", "DatabaseLoad",
    "DatabaseShare", "DatabaseUse", "Numbers", "PlanRow", "PlanUsageError", "database_loads", "diff_findings",
    "parse_sets", "plan", "plan_one",
]


def plan_one(n: Numbers, *, min_replicas: int = 2, per_core: float = 2, extra: float = 1) -> PlanRow:
    """The answer for one workload: its ceilings, ``next_step`` and the reasons."""
    x = inputs(n)
    c = Ceilings(
        by_cpu=cpu_ceiling(n, per_core, extra), by_memory=memory_ceiling(n), by_policy=policy_ceiling(n),
        by_budget=budget_fit(x, "workers"), max_replicas=budget_fit(x, "replicas"), pool=budget_fit(x, "pool"),
    )
    used = uses(x)
    step, reasons = decide(x, c, used, max(min_replicas, n.ha_min_replicas))
    return PlanRow(
        workload=n.workload, kind=n.kind, group=n.group, location=n.location,
        replicas_min=x.replicas_min, replicas=x.replicas, hpa=n.hpa, workers=x.workers, per_worker=x.per_worker,
        by_cpu=c.by_cpu, by_memory=c.by_memory, by_policy=c.by_policy, by_budget=c.by_budget,
        max_replicas_by_budget=c.max_replicas, pool_per_worker_that_fits=c.pool,
        next_step=step, reasons=tuple(reasons), databases=used, unbounded=n.unbounded,
    )


def plan(numbers: list[Numbers], *, min_replicas: int = 2, per_core: float = 2, extra: float = 1) -> list[PlanRow]:
    """One :class:`PlanRow` per workload, sorted by (group, workload, kind, location).

    ``min_replicas`` is SL004's ``min-replicas``; ``per_core`` and ``extra`` are SL005's
    ``workers > per_core × CPU + extra`` (gunicorn's 2 × CPU + 1).
    """
    rows = [plan_one(n, min_replicas=min_replicas, per_core=per_core, extra=extra) for n in numbers]
    return sorted(rows, key=lambda r: (r.group, r.workload, r.kind, r.location))


def database_loads(rows: list[PlanRow]) -> list[DatabaseLoad]:
    """Each database's demand by client, derived from the plan's own rows (for the chart).

    A client that is not a planned workload (a pooler's server side) shows up as "other
    clients": what a row's ``others`` holds beyond the other rows' known connections. The
    integrator may instead build :class:`DatabaseLoad` from the budget's own breakdown.
    """
    by_db: dict[tuple[str, str, str], list[tuple[PlanRow, DatabaseUse]]] = defaultdict(list)
    for r in rows:
        for u in r.databases:
            by_db[(r.group, u.name, u.location)].append((r, u))
    out = []
    for (group, name, location), members in sorted(by_db.items()):
        members.sort(key=lambda m: (m[0].workload, m[0].kind, m[0].location))
        clients = [ClientLoad(r.workload, u.connections) for r, u in members]
        known = sum(u.connections or 0 for _, u in members)
        first = next(((r, u) for r, u in members if u.others is not None), None)
        if first is not None:
            rest = (first[1].others or 0) - (known - (first[1].connections or 0))
            if rest > 0:
                clients.append(ClientLoad("other clients", rest))
        out.append(DatabaseLoad(name, group, location, members[0][1].available, tuple(clients)))
    return out
