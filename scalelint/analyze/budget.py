"""Connection budgets (SPEC §3 SL003): demand per database from every client workload.

    demand(D) = Σ max_replicas(W) × workers(W) × connections_per_worker(W)
    available(D) = max_connections(D) − reserved(D)

Every number keeps where it was set, so SL003 can list each contributing
setting and ``report`` can show unknowns with their reasons.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from scalelint.analyze.databases import Database
from scalelint.analyze.links import Endpoint, Pool
from scalelint.findings import Loc
from scalelint.model import Val, Workload


@dataclass
class Client:
    """One workload's share of one database's connections."""

    workload: Workload
    replicas: Val[int]  # max replicas (HPA max when an HPA targets it)
    min_replicas: Val[int]
    workers: int | None  # summed over the containers that connect; None when any is unknown
    worker_vals: list[tuple[str, Val[int], str]]  # (container, count, how it was found)
    pool: Pool
    endpoint: Endpoint
    hpa: bool = False
    #: threads per worker process of the main process group, when the launch chain read them
    threads: Val[int] | None = None
    #: process groups with their own connections per process (uWSGI workers beside its daemons, whose
    #: Django connections follow each group's threads): (label, processes, pool); empty: one group
    groups: list[tuple[str, Val[int], Pool]] = field(default_factory=list)

    @property
    def per_replica(self) -> int | None:
        if self.groups:
            total = 0
            for _, count, gp in self.groups:
                per = gp.per_worker
                if not count.known or count.value is None or per is None:
                    return None
                total += int(count.value) * per
            return total
        per = self.pool.per_worker
        if self.workers is None or per is None:
            return None
        return self.workers * per

    @property
    def unbounded(self) -> str | None:
        """Why one process of this client has no connection bound, if it has none."""
        for _, _, gp in self.groups:
            if gp.unbounded:
                return gp.unbounded
        return self.pool.unbounded

    @property
    def demand(self) -> int | None:
        per = self.per_replica
        if per is None or not self.replicas.known or self.replicas.value is None:
            return None
        return int(self.replicas.value) * per

    def unknown_reasons(self) -> list[str]:
        reasons = []
        if not self.replicas.known:
            reasons.append(self.replicas.reason or "replicas unknown")
        for name, val, _ in self.worker_vals:
            if not val.known:
                reasons.append(f"workers of {name}: {val.reason}")
        for part in (self.pool.size, self.pool.overflow, self.pool.limit):
            if part is not None and not part.known:
                reasons.append(part.reason)
        return list(dict.fromkeys(reasons))

    def formula(self) -> str:
        """``api 3 replicas (HPA max) × 4 workers × (15 pool + 10 overflow) = 300``."""
        reps = self.replicas.value if self.replicas.known else "?"
        hpa = " (HPA max)" if self.hpa else ""
        demand = self.demand if self.demand is not None else "?"
        noun = "replica" if reps == 1 else "replicas"
        if self.groups:
            parts = " + ".join(f"{label} {count.value if count.known else '?'} × {gp.describe()}"
                               for label, count, gp in self.groups)
            return f"{self.workload.name} {reps} {noun}{hpa} × ({parts}) = {demand}"
        workers = self.workers if self.workers is not None else "?"
        wnoun = "worker" if workers == 1 else "workers"
        return f"{self.workload.name} {reps} {noun}{hpa} × {workers} {wnoun} × {self.pool.describe()} = {demand}"


@dataclass
class Budget:
    database: Database
    clients: list[Client] = field(default_factory=list)

    @property
    def demand(self) -> int:
        """Demand of the clients whose numbers are all known (a lower bound when some are not)."""
        return sum(c.demand for c in self.clients if c.demand is not None)

    @property
    def complete(self) -> bool:
        return all(c.demand is not None for c in self.clients)

    @property
    def available(self) -> int | None:
        return self.database.available

    def largest_pool_per_worker(self) -> int | None:
        """The largest connections-per-worker that fits when every client used it."""
        avail = self.available
        total_workers = 0
        for c in self.clients:
            if c.workers is None or not c.replicas.known or c.replicas.value is None:
                return None
            total_workers += int(c.replicas.value) * c.workers
        if avail is None or total_workers == 0:
            return None
        return max(avail // total_workers, 0)

    def largest_replicas(self, client: Client) -> int | None:
        """The largest replica count of ``client`` for which demand ≤ available, others unchanged."""
        avail = self.available
        per = client.per_replica
        if avail is None or per is None:
            return None
        others = 0
        for c in self.clients:
            if c is client:
                continue
            if c.demand is None:
                return None
            others += c.demand
        if per == 0:
            return None
        room = avail - others
        return max(room // per, 0)

    def related(self) -> list[tuple[Loc, str]]:
        out: list[tuple[Loc, str]] = []
        db = self.database
        if db.max_connections.loc is not None and db.max_connections.state.value == "known":
            out.append((db.max_connections.loc, f"max_connections {db.max_connections.value}"))
        if db.reserved.loc is not None and db.reserved.state.value == "known":
            out.append((db.reserved.loc, f"{db.reserved.value} reserved connections"))
        for c in self.clients:
            name = c.workload.name
            if c.replicas.loc is not None and c.replicas.state.value == "known":
                out.append((c.replicas.loc, f"{name}: {c.replicas.value} replicas" + (" (HPA max)" if c.hpa else "")))
            for cname, val, how in c.worker_vals:
                if val.loc is not None and val.state.value == "known":
                    out.append((val.loc, f"{name}: {how} → {val.value} workers"))
            for label, part in (("pool size", c.pool.size), ("max overflow", c.pool.overflow),
                                ("connection_limit", c.pool.limit)):
                if part is not None and part.loc is not None and part.state.value == "known":
                    out.append((part.loc, f"{name}: {label} {part.value}"))
            if c.endpoint.loc is not None:
                out.append((c.endpoint.loc, f"{name}: {c.endpoint.var} names {c.endpoint.host}"))
        return out
