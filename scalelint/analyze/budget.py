"""Connection budgets (SPEC §3 SL003, §9): demand per database from every client workload and pooler.

    demand(D) = Σ over direct clients W of max_replicas(W) × workers(W) × connections_per_worker(W)
              + Σ over poolers P in front of D of min(clients' demand on P, replicas(P) × server(P))
    available(D) = max_connections(D) − reserved(D)

where ``server(P)`` is what one pooler replica may open for the clients that reach D
(:func:`scalelint.sources.poolers.server_connections_per_replica`). Every number keeps where it
was set, so SL003 can list each contributing setting and ``report`` can show unknowns with their
reasons. A part that is unknown is left out of the sum, which is then a lower bound (``complete``
is False) — never a guess.

Why this module is long: a database's budget and the pooler shares inside it are one sum; their
arithmetic and the text that explains it stay together so that SL003, SL007/SL008 and ``report``
cannot disagree about a number.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from scalelint.analyze.databases import Database
from scalelint.analyze.links import Endpoint, Pool
from scalelint.analyze.poolers import CLIENT_LIMIT_NAME, Pooler
from scalelint.findings import Loc
from scalelint.model import Service, State, Val, Workload
from scalelint.sources import poolers as poolerlib

if TYPE_CHECKING:
    from scalelint.sources.poolers import Pool as PoolerPool
    from scalelint.sources.poolers import PoolUse


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


def _value(val: Val[int] | None) -> int | None:
    return int(val.value) if val is not None and val.known and val.value is not None else None


def _noun(count: object, one: str = "replica", many: str = "replicas") -> str:
    return one if count == 1 else many


def client_terms(clients: list[Client]) -> str:
    """``api … = 300`` for one client, ``(api … = 300, web … = 50)`` for several."""
    terms = [c.formula() for c in clients]
    return terms[0] if len(terms) == 1 else f"({', '.join(terms)})"


def client_related(c: Client) -> list[tuple[Loc, str]]:
    """Where a client's replicas, workers and pool are written, and where it names its host."""
    out: list[tuple[Loc, str]] = []
    name = c.workload.name
    if c.replicas.loc is not None and c.replicas.state.value == "known":
        out.append((c.replicas.loc, f"{name}: {c.replicas.value} replicas" + (" (HPA max)" if c.hpa else "")))
    for _, val, how in c.worker_vals:
        if val.loc is not None and val.state.value == "known":
            out.append((val.loc, f"{name}: {how} → {val.value} workers"))
    for label, part in (("pool size", c.pool.size), ("max overflow", c.pool.overflow),
                        ("connection_limit", c.pool.limit)):
        if part is not None and part.loc is not None and part.state.value == "known":
            out.append((part.loc, f"{name}: {label} {part.value}"))
    if c.endpoint.loc is not None:
        out.append((c.endpoint.loc, f"{name}: {c.endpoint.var} names {c.endpoint.host}"))
    return out


@dataclass(frozen=True)
class Via:
    """How one client reaches its pooler: what it asks for, on which port, through which Service."""

    use: PoolUse
    port: Val[int] | None = None
    service: Service | None = None


@dataclass
class PoolerLoad:
    """What the clients of one pooler ask of it (SPEC §9, its client side: SL007, SL008, ``report``)."""

    pooler: Pooler
    clients: list[Client] = field(default_factory=list)
    #: per client, in the same order: what it asks the pooler for, and how it gets there
    links: list[Via] = field(default_factory=list)
    #: why its server side counts in no budget (a backend that is not in the files linted)
    unknown: list[str] = field(default_factory=list)
    #: the databases its backends reach, by name, for the report
    databases: list[str] = field(default_factory=list)

    @property
    def demand(self) -> int:
        """Connections its clients may hold at once (a lower bound when some client is unknown)."""
        return sum(c.demand for c in self.clients if c.demand is not None)

    @property
    def complete(self) -> bool:
        return all(c.demand is not None for c in self.clients)

    @property
    def uses(self) -> list[PoolUse]:
        return [via.use for via in self.links]

    @property
    def capacity(self) -> int | None:
        """``replicas × max_client_conn``: client connections the pooler accepts."""
        reps, limit = _value(self.pooler.replicas), _value(self.pooler.settings.max_client_conn)
        return None if reps is None or limit is None else reps * limit

    def pools(self) -> list[tuple[PoolerPool, list[Client]]]:
        """PgBouncer's pools on one replica, each with the clients that share it (a forced ``user=`` or the
        client's user makes the pool; an unknown database or user counts as one)."""
        if self.pooler.settings.kind != "pgbouncer":
            return []
        out: dict[tuple[str, str], tuple[PoolerPool, list[Client]]] = {}
        for client, use in zip(self.clients, self.uses):
            for pool in poolerlib.plan_pools(self.pooler.settings, [use])[0]:
                out.setdefault((pool.database, pool.user), (pool, []))[1].append(client)
        return list(out.values())

    def largest_replicas(self, client: Client) -> int | None:
        """The largest replica count of ``client`` its pooler still accepts, the other clients unchanged."""
        capacity, per = self.capacity, client.per_replica
        if capacity is None or not per:
            return None
        others = [c.demand for c in self.clients if c is not client]
        if any(d is None for d in others):
            return None
        return max((capacity - sum(d for d in others if d is not None)) // per, 0)

    def limit_text(self) -> str:
        """``2 replicas × 100 max_client_conn = 200``."""
        s = self.pooler.settings
        reps = _value(self.pooler.replicas)
        limit = _value(s.max_client_conn)
        cap = self.capacity
        tag = {State.ASSUMED: " (assumed)", State.DEFAULT: " (default)"}.get(s.max_client_conn.state, "")
        return (f"{reps if reps is not None else '?'} {_noun(reps)}{' (HPA max)' if self.pooler.hpa else ''} × "
                f"{limit if limit is not None else '?'} {CLIENT_LIMIT_NAME.get(s.kind, 'max_client_conn')}{tag} = "
                f"{cap if cap is not None else '?'}")


@dataclass
class PoolerShare:
    """One pooler's server side as one database sees it (SPEC §9):

        min(demand of the clients whose traffic reaches D, replicas × server connections per replica)

    A client that is unbounded makes the cap the answer; one whose database cannot be told
    (``unrouted``) may or may not reach D: it is left out, and the share is a lower bound unless the
    cap is already reached without it.
    """

    load: PoolerLoad
    clients: list[Client]
    server: Val[int]  # per pooler replica, for these clients' pools
    pools: list[PoolerPool] = field(default_factory=list)
    unrouted: list[Client] = field(default_factory=list)

    @property
    def pooler(self) -> Pooler:
        return self.load.pooler

    @property
    def client_demand(self) -> int:
        return sum(c.demand for c in self.clients if c.demand is not None)

    @property
    def clients_complete(self) -> bool:
        """Every client that reaches D is known (those that may reach it count as unknown)."""
        return all(c.demand is not None for c in self.clients) and not self.unrouted

    @property
    def cap(self) -> int | None:
        reps, per = _value(self.pooler.replicas), _value(self.server)
        return None if reps is None or per is None else reps * per

    def _bound(self) -> tuple[int, bool]:
        cap = self.cap
        if cap is None:
            return 0, False
        if any(c.unbounded for c in self.clients) or self.client_demand >= cap:
            return cap, True
        return self.client_demand, self.clients_complete

    @property
    def demand(self) -> int:
        return self._bound()[0]

    @property
    def complete(self) -> bool:
        return self._bound()[1]

    @property
    def binds(self) -> str:
        """Which side decides the share: ``"pooler"`` (its pools) or ``"clients"``."""
        cap = self.cap
        return "pooler" if cap is not None and self.demand == cap else "clients"

    def per_replica_text(self) -> str:
        """``(20 pool + 0 reserve)``, ``2 pools × (20 pool + 5 reserve)``, or the reader's own arithmetic."""
        server, s = self.server, self.pooler.settings
        if server.value is None or server.state is State.UNKNOWN:
            return "?"  # why: unknown_reasons()
        tag = " assumed" if server.state is State.ASSUMED else ""
        if s.kind != "pgbouncer" or not self.pools:
            return f"({server.reason}{tag})"
        shapes = {(p.pool_size, p.reserve_pool_size) for p in self.pools}
        if len(shapes) == 1:
            size, reserve = shapes.pop()
            text = f"({size} pool + {reserve} reserve{tag})"
            text = text if len(self.pools) == 1 else f"{len(self.pools)} pools × {text}"
        else:
            text = "(" + " + ".join(f"{p.pool_size} + {p.reserve_pool_size}" for p in self.pools) + f"{tag})"
        raw = sum(p.cap for p in self.pools)
        if int(server.value) < raw:
            text += f" capped to {server.value} by max_db_connections/max_user_connections"
        return text

    def formula(self) -> str:
        """``pgbouncer 2 replicas × (20 pool + 0 reserve) = 40 for api 3 replicas × … = 300``."""
        p = self.pooler
        reps = _value(p.replicas)
        head = f"{reps if reps is not None else '?'} {_noun(reps)}{' (HPA max)' if p.hpa else ''}"
        cap = self.cap
        clients = list(self.clients) + list(self.unrouted)
        inner = client_terms(clients) if clients else "no known client"
        if self.unrouted:
            inner += f" ({len(self.unrouted)} of them may use another database)"
        if cap is None:
            return f"{p.name} {head} × {self.per_replica_text()} = ? for {inner}"
        if self.binds == "pooler":
            return f"{p.name} {head} × {self.per_replica_text()} = {cap} for {inner}"
        plus = "" if self.complete else "+"
        return f"{p.name} {self.demand}{plus} of {head} × {self.per_replica_text()} = {cap} for {inner}"

    def unknown_reasons(self) -> list[str]:
        reasons = []
        if not self.pooler.replicas.known:
            reasons.append(f"replicas of {self.pooler.name}: {self.pooler.replicas.reason or 'unknown'}")
        if not self.server.known:
            reasons.append(f"server connections of {self.pooler.name}: {self.server.reason or 'unknown'}")
        for c in self.unrouted:
            reasons.append(f"{c.workload.name}: which database it uses through {self.pooler.name} is not known")
        return reasons

    def related(self) -> list[tuple[Loc, str]]:
        """Where the pooler's replicas and pool settings are written, and its clients' settings when they bind."""
        p, s = self.pooler, self.pooler.settings
        out: list[tuple[Loc, str]] = []
        if p.replicas.loc is not None and p.replicas.state is State.KNOWN:
            out.append((p.replicas.loc, f"{p.name}: {p.replicas.value} replicas" + (" (HPA max)" if p.hpa else "")))
        for label, val in (("pool size", s.default_pool_size), ("reserve pool", s.reserve_pool_size),
                           ("max_db_connections", s.max_db_connections), ("num_init_children", s.num_init_children),
                           ("max_pool", s.max_pool)):
            if val is not None and val.loc is not None and val.state is State.KNOWN:
                out.append((val.loc, f"{p.name}: {label} {val.value}"))
        for entry in s.databases:
            for label, part in (("pool_size", entry.pool_size), ("reserve_pool_size", entry.reserve_pool_size)):
                if part is not None and part.loc is not None and part.state is State.KNOWN:
                    out.append((part.loc, f"{p.name}: [databases] {entry.name} {label} {part.value}"))
        if self.binds == "clients":
            for c in self.clients:
                out += client_related(c)
        return out


@dataclass
class Budget:
    database: Database
    clients: list[Client] = field(default_factory=list)
    #: poolers in front of the database, each with the share its clients make it open
    poolers: list[PoolerShare] = field(default_factory=list)

    @property
    def demand(self) -> int:
        """Demand of the direct clients and poolers whose numbers are known (a lower bound when some are not)."""
        return (sum(c.demand for c in self.clients if c.demand is not None)
                + sum(share.demand for share in self.poolers))

    @property
    def complete(self) -> bool:
        return all(c.demand is not None for c in self.clients) and all(share.complete for share in self.poolers)

    def _poolers_demand(self) -> int | None:
        """What the poolers take, None when one of them is unknown."""
        if not all(share.complete for share in self.poolers):
            return None
        return sum(share.demand for share in self.poolers)

    def largest_pooler_server(self, share: PoolerShare) -> int | None:
        """The most server connections one replica of ``share``'s pooler may open so that the budget fits,
        the rest unchanged."""
        avail, reps = self.available, _value(share.pooler.replicas)
        others = [c.demand for c in self.clients] + [s.demand if s.complete else None for s in self.poolers
                                                      if s is not share]
        if avail is None or not reps or any(d is None for d in others):
            return None
        return max((avail - sum(d for d in others if d is not None)) // reps, 0)

    @property
    def available(self) -> int | None:
        return self.database.available

    def largest_pool_per_worker(self, ratio: float = 1.0) -> int | None:
        """The largest connections-per-worker that fits when every direct client used it (poolers unchanged);
        ``ratio``: within that share of the available connections (SL013's warn-ratio)."""
        avail = self.available
        taken = self._poolers_demand()
        if avail is None or taken is None:
            return None
        avail = int(avail * ratio) - taken
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
        taken = self._poolers_demand()
        if avail is None or per is None or taken is None:
            return None
        others = taken
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
            out += client_related(c)
        for share in self.poolers:
            out += share.related()
        return out
