"""The connection arithmetic of SPEC §9, as pure functions.

Per pooler replica, PgBouncer keeps one pool per (database, user) pair its clients use and
opens at most ``pool_size + reserve_pool_size`` server connections for each, within
``max_db_connections`` per database and ``max_user_connections`` per user (0 = no limit):

    per_replica = Σ over pools p of (pool_size(p) + reserve_pool_size(p)),
                  capped per database d by max_db_connections(d) and per user u by
                  max_user_connections(u)

A forced ``user=`` in the database entry makes one pool for that database whatever the
client user; an unknown database or user counts as one.  The database then sees

    server_side = min(clients' demand on the pooler, replicas × per_replica)

and the client-side checks are ``demand > replicas × max_client_conn`` (SL007) and, in
session mode, ``demand on one pool > replicas × (pool_size + reserve_pool_size)`` (SL008).

Which setting applies to a pool follows PgBouncer's lookup (``src/objects.c``, config.html):
a ``[users]`` value beats the ``[databases]`` entry, which beats the global setting; a
database entry's ``max_db_connections`` of 0 (or unset) falls back to the global one.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from scalelint.model import State, Val

from .model import DatabaseEntry, PoolerSettings, UserEntry

__all__ = [
    "Pool", "PoolUse", "client_capacity", "client_limit_exceeded", "database_demand", "pgpool_server_connections",
    "plan_pools", "proxysql_server_connections", "server_connections", "server_connections_per_replica",
    "session_starvation",
]


@dataclass(frozen=True)
class PoolUse:
    """A (database, user) pair clients use on the pooler; None = not known."""

    database: str | None = None
    user: str | None = None


@dataclass(frozen=True)
class Pool:
    """One PgBouncer pool with the numbers that bound it (0 limits = none)."""

    database: str  # the PgBouncer database clients connect to ("?" = unknown)
    user: str  # the server-side user: the forced user, else the client's ("?" = unknown)
    pool_size: int
    reserve_pool_size: int
    mode: str
    max_db_connections: int = 0
    max_user_connections: int = 0

    @property
    def cap(self) -> int:
        """``pool_size + reserve_pool_size``: the most server connections the pool opens."""
        return self.pool_size + self.reserve_pool_size


def server_connections(pools: Sequence[Pool]) -> int:
    """Server connections one pooler replica may hold open at once.

    ``Σ cap(p)`` limited by ``max_db_connections`` over each database's pools and by
    ``max_user_connections`` over each user's pools (0 = no limit).  Both limits at once are
    a transport problem; it is solved exactly as a maximum flow
    source → database (its limit) → pool (its cap) → user (its limit) → sink.
    Example: 2 pools of one database × (20 + 5) = 50, ``max_db_connections = 40`` → 40.
    """
    if not pools:
        return 0
    total = sum(p.cap for p in pools)
    graph: dict[str, dict[str, int]] = {}

    def edge(a: str, b: str, capacity: int) -> None:
        graph.setdefault(a, {})[b] = graph.get(a, {}).get(b, 0) + capacity
        graph.setdefault(b, {}).setdefault(a, 0)

    for index, pool in enumerate(pools):
        db, user, node = f"d:{pool.database}", f"u:{pool.user}", f"p:{index}"
        graph.setdefault("s", {})[db] = pool.max_db_connections if pool.max_db_connections > 0 else total
        graph.setdefault(db, {}).setdefault("s", 0)
        edge(db, node, pool.cap)
        edge(node, user, pool.cap)
        graph.setdefault(user, {})["t"] = pool.max_user_connections if pool.max_user_connections > 0 else total
        graph.setdefault("t", {}).setdefault(user, 0)
    flow = 0
    while True:  # Edmonds-Karp: shortest augmenting paths
        parent: dict[str, str] = {"s": "s"}
        queue = deque(["s"])
        while queue and "t" not in parent:
            here = queue.popleft()
            for there, capacity in graph[here].items():
                if capacity > 0 and there not in parent:
                    parent[there] = here
                    queue.append(there)
        if "t" not in parent:
            return flow
        step, node = total, "t"
        while node != "s":
            step = min(step, graph[parent[node]][node])
            node = parent[node]
        node = "t"
        while node != "s":
            graph[parent[node]][node] -= step
            graph[node][parent[node]] += step
            node = parent[node]
        flow += step


def database_demand(client_demand: int, replicas: int, per_replica: int) -> int:
    """What a pooler asks of its database: ``min(client_demand, replicas × per_replica)``.

    A pooler never holds more server connections than its clients use at once.
    """
    return min(client_demand, replicas * per_replica)


def client_capacity(replicas: int, max_client_conn: int) -> int:
    """Client connections the pooler accepts: ``replicas × max_client_conn``."""
    return replicas * max_client_conn


def client_limit_exceeded(demand: int, replicas: int, max_client_conn: int) -> bool:
    """SL007: ``demand > replicas × max_client_conn`` (clients beyond it are refused)."""
    return demand > client_capacity(replicas, max_client_conn)


def session_starvation(demand: int, pool_size: int, reserve_pool_size: int, replicas: int = 1) -> int:
    """SL008, session mode: clients beyond ``replicas × (pool_size + reserve_pool_size)`` on one pool.

    Every client holds a server connection for its whole session; the excess waits and
    fails after ``query_wait_timeout`` (120 s).  Returns the excess (0 = none), e.g.
    demand 60 on a pool of 20 + 5 with 2 replicas → 60 − 2 × 25 = 10.
    """
    return max(0, demand - replicas * (pool_size + reserve_pool_size))


def pgpool_server_connections(num_init_children: int, max_pool: int, backends: int = 1) -> int:
    """Pgpool-II: ``num_init_children × max_pool`` connections per backend, per replica."""
    return num_init_children * max_pool * backends


def proxysql_server_connections(caps: Iterable[int]) -> int:
    """ProxySQL: ``Σ mysql_servers.max_connections`` (each server entry, per hostgroup)."""
    return sum(caps)


# ---- from settings -------------------------------------------------------------------------


def _weakest(values: Iterable[Val[Any]]) -> State:
    states = {v.state for v in values}
    for state in (State.UNKNOWN, State.ASSUMED, State.DEFAULT):
        if state in states:
            return state
    return State.KNOWN


def _pick(*candidates: Val[Any] | None) -> Val[Any]:
    """The first value that is set (a [users] value, then the database entry, then the global)."""
    for value in candidates:
        if value is not None:
            return value
    raise ValueError("no candidate")  # unreachable: the global is always given


def _entry_for(settings: PoolerSettings, database: str | None) -> tuple[DatabaseEntry | None, str]:
    """The [databases] entry clients of ``database`` use, and why when it is a guess."""
    named = {d.name: d for d in settings.databases}
    if database is not None:
        if database in named:
            return named[database], ""
        return named.get("*"), "" if "*" in named else f"no [databases] entry for {database!r}"
    listed = [d for d in settings.databases if d.name != "*"]
    if len(listed) == 1 and "*" not in named:
        return listed[0], ""
    if not listed:
        return named.get("*"), ""

    def size(entry: DatabaseEntry) -> int:
        value = entry.pool_size if entry.pool_size is not None else settings.default_pool_size
        return value.value if isinstance(value.value, int) else 0

    # an upper bound: the entry with the largest pool
    return max(settings.databases, key=size), "the database clients use is not known: the largest pool is counted"


def plan_pools(settings: PoolerSettings, uses: Sequence[PoolUse] = ()) -> tuple[list[Pool], list[Val[Any]], list[str]]:
    """The pools ``uses`` open on one replica, the values they rest on, and what was guessed.

    No uses means one client of an unknown database and user.
    """
    used: list[Val[Any]] = []
    notes: list[str] = []
    users = {u.name: u for u in settings.users}
    pools: dict[tuple[str, str], Pool] = {}
    for use in uses or [PoolUse()]:
        entry, why = _entry_for(settings, use.database)
        if why:
            notes.append(why)
        if entry is None and settings.databases and use.database is not None:
            continue  # PgBouncer refuses clients of databases it does not list
        forced = entry.user if entry is not None and entry.user is not None else None
        user = str(forced.value) if forced is not None else use.user
        user_entry: UserEntry | None = users.get(user) if user is not None else None

        def pick(name: str, user_entry: UserEntry | None = user_entry) -> Val[Any] | None:
            return getattr(user_entry, name, None) if user_entry is not None else None

        size = _pick(pick("pool_size"), entry.pool_size if entry else None, settings.default_pool_size)
        reserve = _pick(pick("reserve_pool_size"), entry.reserve_pool_size if entry else None, settings.reserve_pool_size)
        mode = pick("pool_mode") or (entry.pool_mode if entry else None) or settings.mode
        db_limit = entry.max_db_connections if entry is not None and entry.max_db_connections is not None \
            and entry.max_db_connections.value else settings.max_db_connections
        own_limit = pick("max_user_connections")
        user_limit = own_limit if own_limit is not None and own_limit.value else settings.max_user_connections
        values: list[Val[Any]] = [size, reserve, mode, db_limit, user_limit]
        # the mode does not change the count, and a limit left at "none" does not bound it
        used.extend([size, reserve] + [v for v in (db_limit, user_limit) if v.state in (State.UNKNOWN, State.ASSUMED)
                                       or isinstance(v.value, int) and v.value > 0])
        if any(v.value is None for v in values if v is not mode):
            continue
        database = use.database or (entry.name if entry is not None and entry.name != "*" else "?")
        key = (database, user or "?")
        pools[key] = Pool(database, user or "?", int(str(size.value)), int(str(reserve.value)), str(mode.value or "?"),
                          int(str(db_limit.value)), int(str(user_limit.value)))
    return list(pools.values()), used, notes


def server_connections_per_replica(settings: PoolerSettings, uses: Sequence[PoolUse] = ()) -> Val[int]:
    """:func:`server_connections` for a pooler's settings, with the arithmetic in ``reason``.

    The state is the weakest of the values used: unknown when any is, else assumed, else
    default, else known.  Pgpool-II and ProxySQL use their own formulas
    (:func:`pgpool_server_connections`, :func:`proxysql_server_connections`).
    """
    if settings.kind == "pgpool":
        inputs = [v for v in (settings.num_init_children, settings.max_pool) if v is not None]
        state = _weakest(inputs) if len(inputs) == 2 else State.UNKNOWN
        if state is State.UNKNOWN or settings.num_init_children is None or settings.max_pool is None:
            return Val(None, None, State.UNKNOWN, "num_init_children or max_pool is unknown")
        n, m = int(str(settings.num_init_children.value)), int(str(settings.max_pool.value))
        backends = max(1, len(settings.backends))
        return Val(pgpool_server_connections(n, m, backends), settings.max_pool.loc, state,
                   f"{n} num_init_children × {m} max_pool × {backends} backend(s)")
    if settings.kind == "proxysql":
        caps = [b.max_connections for b in settings.backends if b.max_connections is not None]
        if not caps:
            return Val(None, None, State.UNKNOWN, "no mysql_servers are known")
        state = _weakest(caps)
        if state is State.UNKNOWN:
            return Val(None, None, state, "a mysql_servers max_connections is unknown")
        numbers = [int(str(c.value)) for c in caps]
        return Val(proxysql_server_connections(numbers), caps[0].loc, state,
                   " + ".join(map(str, numbers)) + " mysql_servers max_connections")
    pools, used, notes = plan_pools(settings, uses)
    state = _weakest(used) if used else State.UNKNOWN
    if state is State.UNKNOWN or not pools:
        reasons = [v.reason for v in used if v.state is State.UNKNOWN] or notes or ["no pool is known"]
        return Val(None, None, State.UNKNOWN, "; ".join(dict.fromkeys(reasons)))
    value = server_connections(pools)
    raw = sum(p.cap for p in pools)
    shown = " + ".join(f"({p.pool_size} + {p.reserve_pool_size})" for p in pools)
    reason = f"{len(pools)} pool(s): {shown} = {raw}" + (f", capped to {value}" if value < raw else "")
    if notes:
        reason += f" ({'; '.join(dict.fromkeys(notes))})"
    return Val(value, settings.default_pool_size.loc, state, reason)

