"""What the planner (SPEC §10) is given: each workload's numbers, read off the facts of its group.

:func:`numbers` turns a group's facts into :class:`~scalelint.analyze.plan.Numbers` — the same
workers, replicas, connections per worker and budgets that ``check`` uses, so the plan and the
findings never disagree. :class:`WhatIf` is the facts of a group as if ``--set`` had been written
in the files: workers, replicas or connections per worker of named workloads replaced, every budget
recomputed from them.
"""
from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any

from scalelint.analyze.availability import ha_reasons, needed_replicas
from scalelint.analyze.budget import Budget, Client, PoolerLoad
from scalelint.analyze.facts import Facts, ReplicaRange
from scalelint.analyze.links import Pool
from scalelint.analyze.plan import DatabaseShare, Numbers
from scalelint.analyze.workers import Workers
from scalelint.config import Config
from scalelint.model import Container, Group, State, Val, Workload, default, known, unknown

PROFILE_ANNOTATION = "scalelint.io/profile"
STATEFUL_ANNOTATION = "scalelint.io/stateful"
#: a what-if value is located nowhere in the files: messages say where it came from instead
SET = "--set"


def display_name(wl: Workload) -> str:
    """How the planner and ``--set`` name a workload: ``api`` (compose), ``shop/api`` (Kubernetes)."""
    if wl.kind == "service" or not wl.namespace:
        return wl.name
    return f"{wl.namespace}/{wl.name}"


def planned(group: Group, facts: Facts) -> list[Workload]:
    """The workloads a plan is about: those that run worker processes (a server, or a count written down),
    and every database client, whose workers may be unknown but whose budget is not."""
    clients = {id(c.workload) for b in facts.budgets for c in b.clients}
    clients |= {id(c.workload) for load in facts.pooler_loads for c in load.clients}
    return [wl for wl in group.workloads if facts.pod_workers(wl) or (id(wl) in clients and wl.app_containers)]


def numbers(group: Group, facts: Facts, params: Mapping[str, Any]) -> list[Numbers]:
    """``params``: ``max-workers-per-pod`` (SL002), ``memory-per-worker`` bytes and whether it is
    configured (SL006)."""
    out = []
    client_of: dict[int, list[tuple[Budget, Client]]] = {}
    for b in facts.budgets:
        for c in b.clients:
            client_of.setdefault(id(c.workload), []).append((b, c))
    pooler_of: dict[int, list[tuple[PoolerLoad, Client]]] = {}
    for load in facts.pooler_loads:
        for c in load.clients:
            pooler_of.setdefault(id(c.workload), []).append((load, c))
    for wl in planned(group, facts):
        serving = facts.pod_workers(wl)
        pod = serving or [(c, facts.workers(wl, c)) for c in wl.app_containers[:1]]
        c0, _ = pod[0]
        rng = facts.replica_range(wl)
        memory, memory_source = facts.memory_per_worker(wl, params["memory-per-worker"], params["configured"])
        shares: list[DatabaseShare] = []
        per_worker: Val[int] | None = None
        unbounded: str | None = None
        terms: tuple[int, ...] = ()
        for b, c in client_of.get(id(wl), []):
            # what a pooler in front of the database opens is taken, whatever this workload does
            others = [o.demand for o in b.clients if o is not c] + [s.demand if s.complete else None
                                                                    for s in b.poolers]
            guessed = any(_guessed(o) for o in b.clients if o is not c)
            shares.append(DatabaseShare(
                name=b.database.name, location=str(b.database.loc), available=_available(b),
                others=sum(d for d in others if d is not None) if others else 0,
                # another client's assumed pool may be far off: what is left is then an upper bound
                others_complete=all(d is not None for d in others) and not guessed,
            ))
            if per_worker is None:
                per_worker, unbounded, terms = _per_worker(c)
        for load, c in pooler_of.get(id(wl), []):
            # behind a pooler, the database sees the pooler's pools; the limit this workload meets is
            # the pooler's client connections (replicas × max_client_conn)
            others = [o.demand for o in load.clients if o is not c]
            guessed = any(_guessed(o) for o in load.clients if o is not c)
            shares.append(DatabaseShare(
                name=f"{load.pooler.name}'s client limit", location=str(load.pooler.loc), available=_pooler_limit(load),
                others=sum(d for d in others if d is not None) if others else 0,
                others_complete=all(d is not None for d in others) and not guessed,
            ))
            if per_worker is None:
                per_worker, unbounded, terms = _per_worker(c)
        reasons = tuple(ha_reasons(wl, facts.config.ha_required))
        out.append(Numbers(
            workload=display_name(wl), kind=wl.kind, group=group.id, location=str(wl.loc),
            replicas_min=rng.min, replicas_max=rng.max, hpa=rng.hpa, workers=_workers(pod),
            per_worker=per_worker, unbounded=unbounded,
            cpu_limit=c0.limits.cpu, memory_limit=c0.limits.memory,
            memory_per_worker=memory, memory_per_worker_source=memory_source,
            memory_floor=int(params.get("memory-floor") or 256 * 2**20),
            max_workers_per_pod=int(params["max-workers-per-pod"]), ha_required=bool(reasons), ha_reasons=reasons,
            profile=_hint(wl, "profile", PROFILE_ANNOTATION) or "io-bound",
            stateful=(_hint(wl, "stateful", STATEFUL_ANNOTATION) or "").lower() == "true"
            or wl.kind == "StatefulSet",
            databases=tuple(shares), per_worker_terms=terms,
            ha_min_replicas=needed_replicas(wl, 0)[0] if reasons else 0,
            link_unknown=None if shares else facts.link_unknown(wl),
            dev_server=_dev_server(c0.argv),
            runs_server=bool(serving),
        ))
    return out


def _available(b: Budget) -> Val[int]:
    db = b.database
    if b.available is None:
        why = (db.max_connections.reason if not db.max_connections.known else db.reserved.reason) or "unknown"
        return unknown(db.loc, why)
    return known(b.available, db.loc)


def _pooler_limit(load: PoolerLoad) -> Val[int]:
    cap, limit = load.capacity, load.pooler.settings.max_client_conn
    if cap is None:
        return unknown(limit.loc or load.pooler.loc, f"client limit of {load.pooler.name}: {load.limit_text()}")
    return Val(cap, limit.loc or load.pooler.loc, limit.state, load.limit_text())


def _per_worker(c: Client) -> tuple[Val[int] | None, str | None, tuple[int, ...]]:
    if c.unbounded:
        return unknown(c.workload.loc, c.unbounded), c.unbounded, ()
    per = c.pool.per_worker
    if per is None:
        parts = [v.reason for v in (c.pool.size, c.pool.overflow, c.pool.limit) if v is not None and not v.known]
        return unknown(c.workload.loc, parts[0] if parts else "connections per worker unknown"), None, ()
    terms: tuple[int, ...] = ()
    if c.pool.limit is None and c.pool.size.known and c.pool.overflow.known:
        terms = (int(c.pool.size.value or 0), int(c.pool.overflow.value or 0))
    if c.pool.assumed:
        # say which half was taken for granted: both, or only SQLAlchemy's overflow beside a written size
        both = c.pool.size.state is State.ASSUMED and c.pool.overflow.state is State.ASSUMED
        what = ("assumed: SQLAlchemy's 5 + 10, no pool setting read" if both else
                f"assumed: SQLAlchemy's max overflow {c.pool.overflow.value} beside the {c.pool.size_name} set"
                if c.pool.overflow.state is State.ASSUMED else
                f"assumed: SQLAlchemy's pool size {c.pool.size.value} beside the {c.pool.overflow_name} set")
        return Val(per, c.pool.size.loc, State.ASSUMED, what), None, terms
    guessed = [v for v in (c.pool.size, c.pool.overflow, c.pool.limit) if v is not None and v.state is State.ASSUMED]
    if guessed:
        what = c.pool.text.replace(" assumed", "") if c.pool.text else "a default"
        return Val(per, guessed[0].loc, State.ASSUMED, f"assumed: {what}"), None, terms
    return Val(per, c.pool.size.loc, State.KNOWN, ""), None, terms


def _guessed(c: Client) -> bool:
    """The client's demand rests on an assumed pool (SQLAlchemy's defaults, a Django or Rails cap)."""
    return c.pool.assumed or any(v is not None and v.state is State.ASSUMED
                                 for v in (c.pool.size, c.pool.overflow, c.pool.limit))


def _workers(pod: list[tuple[Container, Workers]]) -> Val[int]:
    total = 0
    for _, w in pod:
        if not w.count.known or w.count.value is None:
            return w.count
        total += int(w.count.value)
    first = pod[0][1].count
    return Val(total, first.loc, first.state, first.reason)


def _dev_server(argv: list[str]) -> str | None:
    """``manage.py runserver``, ``flask run``, ``fastapi dev`` or a server under ``--reload``: made for
    development, one serving process whatever the plan says."""
    words = [w.rsplit("/", 1)[-1] for w in argv]
    for i, w in enumerate(words):
        if w == "runserver":
            return "manage.py runserver"
        if w in ("flask", "fastapi") and i + 1 < len(words) and words[i + 1] in ("run", "dev"):
            if w == "fastapi" and words[i + 1] == "run" and "--reload" not in words:
                continue  # `fastapi run` is the production server
            return f"{w} {words[i + 1]}"
        if w == "--reload" or w.startswith("--reload="):
            return "a server under --reload"
    return None


def _hint(wl: Workload, key: str, annotation: str) -> str | None:
    value = wl.settings.get(key) if wl.kind == "service" else wl.annotations.get(annotation)
    if value is None:
        return None
    return ("true" if value else "false") if isinstance(value, bool) else str(value).strip().lower()


# ---------------------------------------------------------------------------------------- what-if


class WhatIf(Facts):
    """Facts as if the files said what ``--set`` says: ``{workload: {"workers"|"replicas"|"pool": N}}``.

    Workers replace the count of the workload's first app container; replicas fix the pod count
    (an HPA's minimum and maximum both); pool replaces the connections one worker process may
    hold. Everything computed from them — every budget, every rule — follows.
    """

    def __init__(self, group: Group, config: Config, overrides: Mapping[str, Mapping[str, int]]) -> None:
        super().__init__(group, config)
        self.overrides = {name: dict(fields) for name, fields in overrides.items()}

    def _set(self, wl: Workload, field: str) -> int | None:
        return self.overrides.get(display_name(wl), {}).get(field)

    @cached_property
    def replicas(self) -> dict[int, ReplicaRange]:
        out = dict(super().replicas)
        for wl in self.group.workloads:
            n = self._set(wl, "replicas")
            if n is not None:
                val = default(n, None, f"{SET} {display_name(wl)}.replicas={n}")
                out[id(wl)] = ReplicaRange(val, val, hpa=False)
        return out

    def workers(self, wl: Workload, c: Container) -> Workers:
        found = super().workers(wl, c)
        n = self._set(wl, "workers")
        app = [x for x in wl.app_containers if Facts.workers(self, wl, x).app]
        if n is None or not app or app[0] is not c:
            return found
        return Workers(Val(n, found.count.loc or c.loc, State.KNOWN, ""), f"{SET} {display_name(wl)}.workers={n}",
                       found.server, True)

    def _pool_override(self, wl: Workload) -> Pool | None:
        """``--set W.pool=N``: every client of ``wl`` (of a database or of a pooler) holds N per worker."""
        n = self._set(wl, "pool")
        if n is None:
            return None
        return Pool(default(0, None, ""), default(0, None, ""), limit=Val(n, wl.loc, State.KNOWN, ""),
                    text=f"{SET} {display_name(wl)}.pool", size_name="pool per worker", overflow_name="pool per worker")


__all__ = ["WhatIf", "display_name", "numbers", "planned"]
