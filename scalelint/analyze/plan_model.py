"""The values ``scalelint plan`` (SPEC §10) exchanges: what it reads of a workload, what it answers.

Kept apart from the arithmetic so that the analysis (which fills :class:`Numbers`) and the
formatters (which print :class:`PlanRow`) depend on plain data only. Import these from
:mod:`scalelint.analyze.plan`, which re-exports them.
"""
from __future__ import annotations

from dataclasses import dataclass

from scalelint.model import Val

#: the values of ``PlanRow.next_step``
CUT, WORKERS, REPLICAS, NONE = "cut", "workers", "replicas", "none"
NEXT_STEPS = (CUT, WORKERS, REPLICAS, NONE)


@dataclass(frozen=True)
class DatabaseShare:
    """One database a workload connects to, and what the *other* clients already take of it.

    ``others`` is the demand of every other client (other workloads, a pooler's server side)
    at their current numbers: the budget left for this workload is ``available − others``.
    ``others_complete`` is False when some other client's demand is unknown: ``others`` is then
    a lower bound, so every ceiling derived from it is an upper bound ("at most").
    """

    name: str  # the database as the report names it ("postgres")
    location: str  # "path:line:col" of the database
    available: Val[int]  # max_connections − reserved
    others: int | None  # None: the other clients' demand is unknown altogether
    others_complete: bool


@dataclass(frozen=True)
class Numbers:
    """What the planner needs of one workload; the analysis fills it, the planner only reads it.

    ``per_worker_terms`` (optional, added to the brief's shape) are the addends of
    ``per_worker`` as written, e.g. ``(15, 10)`` for pool + overflow, so that messages can say
    ``(15 + 10)``; they are ignored unless they add up to ``per_worker``.
    """

    workload: str  # "api" (compose) or "shop/api" (Kubernetes namespace/name)
    kind: str  # "service" (compose) or the Kubernetes kind
    group: str  # the compose project / graph it belongs to
    location: str  # "path:line:col" of the workload
    replicas_min: Val[int]
    replicas_max: Val[int]  # HPA max when an HPA scales it
    hpa: bool
    workers: Val[int]  # worker processes per pod (unknown allowed)
    per_worker: Val[int] | None  # connections one worker process may hold; None: not a database client
    unbounded: str | None  # why per-worker connections have no bound (then per_worker is unknown)
    cpu_limit: Val[float] | None
    memory_limit: Val[int] | None  # bytes
    memory_per_worker: int  # bytes
    memory_per_worker_source: str  # "assumed" / "memory-per-worker setting" / "annotation scalelint.io/..."
    max_workers_per_pod: int  # policy (default 8)
    ha_required: bool
    ha_reasons: tuple[str, ...]
    profile: str  # "io-bound" (default) or "cpu-bound"
    stateful: bool
    databases: tuple[DatabaseShare, ...]
    per_worker_terms: tuple[int, ...] = ()
    #: replicas a PodDisruptionBudget's minAvailable needs (minAvailable + 1); 0: only SL004's min-replicas
    ha_min_replicas: int = 0
    #: with the per-worker memory assumed, the least a worker is held to need (SL006's floor-when-assumed):
    #: workers running now are not planned down on the assumption while each keeps this much
    memory_floor: int = 256 * 2**20
    #: not linked to any database, but something says it uses one (a host the files do not define, a
    #: local address, database variables, a missing env_file): why its budget cannot be checked
    link_unknown: str | None = None
    #: a development server (``manage.py runserver``, ``flask run``, ``--reload``): one process, no workers
    #: setting; what it is, for the reason
    dev_server: str | None = None
    #: the pod runs a worker server (or a count written down); False: planned only as a database client
    runs_server: bool = True


@dataclass(frozen=True)
class Ceiling:
    """One limit the planner derived: a number, "no limit", or unknown — never a guess.

    ``value`` is None both when the constraint does not apply (``limited`` False: a workload that
    opens no connections has no budget ceiling) and when it cannot be computed (``limited`` True:
    the reason says which input is unknown). ``at_most``: computed from a partial budget (some
    other client's demand is unknown), so the true ceiling may be lower.
    """

    value: int | None
    reason: str
    limited: bool = True
    at_most: bool = False
    database: str = ""  # budget ceilings: the database that binds

    @property
    def known(self) -> bool:
        """A number the planner may compare against (a limit that applies and was computed)."""
        return self.limited and self.value is not None


@dataclass(frozen=True)
class DatabaseUse:
    """This workload's share of one database, as computed (the chart and the messages read it)."""

    name: str
    location: str
    available: int | None
    others: int | None
    others_complete: bool
    connections: int | None  # this workload's demand: replicas_max × workers × per_worker
    over: bool | None  # None: cannot tell (an unknown on either side)


@dataclass(frozen=True)
class PlanRow:
    """The planner's answer for one workload (SPEC §10); formatters print it and compute nothing.

    ``reasons`` explain the decision (the first one is ``next_step``'s) and the hints; the
    sentence behind each ceiling is on the ceiling itself (:meth:`notes` lists them).
    """

    workload: str
    kind: str
    group: str
    location: str
    replicas_min: int | None
    replicas: int | None  # the most it can run: the HPA max when scaled
    hpa: bool
    workers: int | None
    per_worker: int | None
    by_cpu: Ceiling
    by_memory: Ceiling
    by_policy: Ceiling
    by_budget: Ceiling
    max_replicas_by_budget: Ceiling
    pool_per_worker_that_fits: Ceiling
    next_step: str
    reasons: tuple[str, ...]
    databases: tuple[DatabaseUse, ...] = ()  # empty: not a database client
    unbounded: str | None = None  # why per-worker connections have no bound

    def ceilings(self) -> tuple[tuple[str, Ceiling], ...]:
        """Every ceiling with its JSON name, in the SPEC's order."""
        return (("by_cpu", self.by_cpu), ("by_memory", self.by_memory), ("by_policy", self.by_policy),
                ("by_budget", self.by_budget), ("max_replicas_by_budget", self.max_replicas_by_budget),
                ("pool_per_worker_that_fits", self.pool_per_worker_that_fits))

    def notes(self) -> tuple[str, ...]:
        """One sentence per ceiling, ``name: reason`` (what JSON appends to ``reasons``)."""
        return tuple(f"{name}: {c.reason}" for name, c in self.ceilings())


@dataclass(frozen=True)
class ClientLoad:
    """One bar of a database's chart: a client and the connections it may open (None: unknown)."""

    name: str
    connections: int | None


@dataclass(frozen=True)
class DatabaseLoad:
    """One database's demand by client, for the Markdown chart (SPEC §10)."""

    name: str
    group: str
    location: str
    available: int | None
    clients: tuple[ClientLoad, ...]
