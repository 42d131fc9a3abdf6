"""SL007 / SL008 / SL009: what the clients of a connection pooler ask of it, and what makes it fail (SPEC §9).

- ``pooler-client-limit``: clients' demand above ``replicas × max_client_conn`` (Pgpool-II:
  ``num_init_children``, ProxySQL: ``mysql-max_connections``): the pooler refuses the rest.
- ``pooler-session-starvation``: in session mode each client connection holds a server
  connection; a pool's clients beyond ``replicas × (pool_size + reserve_pool_size)`` wait and fail
  after ``query_wait_timeout``.
- ``pooler-misconfigured``: what the readers found the pooler refuses or ignores, a client whose
  port is not the pooler's listen port, and a client asking for a database PgBouncer does not list.

Each finding sits where the deciding number or setting is written (the image, for an image's
default), with the contributing settings as related locations.
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from scalelint.analyze.budget import Client, PoolerLoad, client_related, client_terms
from scalelint.analyze.pooler_links import refuses
from scalelint.analyze.poolers import CLIENT_LIMIT_NAME, Pooler
from scalelint.check.templates.base import BoundRule, Context, Template, related
from scalelint.findings import Finding, Loc, ObjectRef, Related
from scalelint.model import Service, State, Val
from scalelint.sources import poolers as poolerlib

if TYPE_CHECKING:
    from scalelint.sources.poolers import PoolerSettings

_NO_PARAMS: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": {}}


def setting_name(p: Pooler, key: str) -> str:
    """How the user writes PgBouncer setting ``key`` for this pooler: an env name, a CR field, an ini key."""
    s = p.settings
    if s.source == "ini":
        return key
    if s.kind == "pgpool":
        key = "port" if key == "listen_port" else key
        if s.flavour == "bitnami":
            return "PGPOOL_PORT_NUMBER" if key == "port" else f"PGPOOL_{key.upper()}"
        return f"PGPOOL_PARAMS_{key.upper()}" if s.flavour == "pgpool/pgpool" else key
    if s.flavour == "bitnami" and key == "listen_port":
        return "PGBOUNCER_PORT"  # libpgbouncer.sh: PGBOUNCER_PORT → listen_port
    env = {"bitnami": "PGBOUNCER_", "pgbouncer/pgbouncer": "PGBOUNCER_", "edoburu": "", "brainsam": ""}
    if s.flavour in env:
        return f"{env[s.flavour]}{key.upper()}"
    if s.flavour == "cnpg":
        return "spec.pgbouncer.poolMode" if key == "pool_mode" else f"spec.pgbouncer.parameters.{key}"
    if s.flavour in ("crunchy", "percona"):
        return f"spec.proxy.pgBouncer.config.global.{key}"
    if s.flavour == "zalando":
        return {"pool_mode": "spec.connectionPooler.mode", "max_client_conn": "max_client_conn (fixed at 10000 by "
                "the operator)"}.get(key, "spec.connectionPooler.maxDBConnections")
    return key


def _replicas(p: Pooler) -> int | None:
    return int(p.replicas.value) if p.replicas.known and p.replicas.value is not None else None


def _where(val: Val[Any] | None, p: Pooler) -> Loc:
    return val.loc if val is not None and val.loc is not None else p.loc


def _said(val: Val[Any]) -> str:
    """`` (default)`` / `` (assumed)`` after a number nobody wrote down."""
    return {State.DEFAULT: " (default)", State.ASSUMED: " (assumed)"}.get(val.state, "")


def _pooler_related(p: Pooler, *vals: tuple[str, Val[Any] | None]) -> list[Related]:
    out = [] if p.replicas.state is not State.KNOWN else related(
        p.replicas.loc, f"{p.name}: {p.replicas.value} replicas" + (" (HPA max)" if p.hpa else ""))
    for label, val in vals:
        if val is not None and val.state is State.KNOWN:
            out += related(val.loc, f"{p.name}: {label} {val.value}")
    return out


def _clients_related(clients: list[Client]) -> list[Related]:
    return [Related(loc.path, loc.line, loc.column, msg) for c in clients for loc, msg in client_related(c)
            if loc.line]


class PoolerClientLimit(Template):
    """Clients' demand on a pooler above the client connections its replicas accept."""

    name = "pooler-client-limit"
    reads_trees = False
    description = "clients may open more connections than the pooler accepts"
    params_schema: ClassVar[dict[str, Any]] = _NO_PARAMS

    def check(self, ctx: Context, rule: BoundRule) -> Iterator[Finding]:
        for load in ctx.facts.pooler_loads:
            capacity = load.capacity
            if not load.clients or capacity is None or load.demand <= capacity:
                continue
            p, s = load.pooler, load.pooler.settings
            limit_name = CLIENT_LIMIT_NAME.get(s.kind, "max_client_conn")
            partial = "" if load.complete else " at least"
            reps = _replicas(p) or 1
            per = math.ceil(load.demand / reps)
            limit = int(s.max_client_conn.value or 0)
            more = math.ceil(load.demand / limit) if limit > 0 else None
            yield rule.finding(
                f"{p.name}: clients may hold{partial} {load.demand} connections at once, more than the "
                f"{load.limit_text()} it accepts: {client_terms(load.clients)}; "
                f"{load.demand - capacity} are refused",
                _where(s.max_client_conn, p), p.obj,
                related=_pooler_related(p, (limit_name, s.max_client_conn)) + _clients_related(load.clients),
                fix=f"set {setting_name(p, limit_name)} ≥ {per} per replica"
                    + (f", or run {more} {p.name} replicas" if more is not None and more > reps else "")
                    + ", or lower the clients' pools",
            )


class PoolerSessionStarvation(Template):
    """In session mode, the clients of one pool beyond what its server connections serve."""

    name = "pooler-session-starvation"
    reads_trees = False
    description = "session-mode pool too small for its clients"
    params_schema: ClassVar[dict[str, Any]] = _NO_PARAMS

    def check(self, ctx: Context, rule: BoundRule) -> Iterator[Finding]:
        for load in ctx.facts.pooler_loads:
            reps = _replicas(load.pooler)
            if reps is None:
                continue
            for pool, clients in load.pools():
                if pool.mode != "session":
                    continue
                demand = sum(c.demand for c in clients if c.demand is not None)
                excess = poolerlib.session_starvation(demand, pool.pool_size, pool.reserve_pool_size, reps)
                if excess > 0:
                    yield self._finding(rule, load, pool.database, pool.user, clients, demand, excess,
                                        (pool.pool_size, pool.reserve_pool_size))

    def _finding(self, rule: BoundRule, load: PoolerLoad, database: str, user: str, clients: list[Client],
                 demand: int, excess: int, sizes: tuple[int, int]) -> Finding:
        p, s = load.pooler, load.pooler.settings
        entry = next((d for d in s.databases if d.name == database), None) or next(
            (d for d in s.databases if d.name == "*"), None)
        mode = entry.pool_mode if entry is not None and entry.pool_mode is not None else s.mode
        size = entry.pool_size if entry is not None and entry.pool_size is not None else s.default_pool_size
        reserve = entry.reserve_pool_size if entry is not None and entry.reserve_pool_size is not None \
            else s.reserve_pool_size
        where = mode if mode.state is State.KNOWN else size
        reps = _replicas(p) or 1
        pool_name = "pool" + (f" of database {database}" if database != "?" else "") + (
            f" for user {user}" if user != "?" else "")
        partial = "" if all(c.demand is not None for c in clients) else " at least"
        need = math.ceil(demand / reps)
        return rule.finding(
            f"{p.name}: {pool_name} runs in session mode{_said(mode)}, where each client connection holds a "
            f"server connection: its clients may hold{partial} {demand} connections, but {reps} "
            f"{'replica' if reps == 1 else 'replicas'} × ({sizes[0]} pool + {sizes[1]} reserve) = "
            f"{reps * sum(sizes)} serve them; {excess} wait and fail after query_wait_timeout (120 s): "
            f"{client_terms(clients)}",
            _where(where, p), p.obj,
            related=_pooler_related(p, ("pool_mode", mode), ("pool size", size), ("reserve pool", reserve))
            + _clients_related(clients),
            fix=f"use transaction mode ({_entry_setting(p, entry, 'pool_mode')}) if the clients keep no session "
                f"state, or set {_entry_setting(p, entry, 'pool_size')} + "
                f"{_entry_setting(p, entry, 'reserve_pool_size')} ≥ {need}",
        )


def _entry_setting(p: Pooler, entry: Any, key: str) -> str:
    """A pool setting as the user writes it: in the ``[databases]`` entry when that entry sets it."""
    if entry is not None and getattr(entry, key, None) is not None:
        return f"{key} in [databases] {entry.name}"
    return setting_name(p, "default_pool_size" if key == "pool_size" else key)


class PoolerMisconfigured(Template):
    """Settings a pooler refuses or ignores, and clients that cannot reach it as written."""

    name = "pooler-misconfigured"
    reads_trees = False
    description = "a pooler that fails to start, ignores settings, or refuses its clients"
    params_schema: ClassVar[dict[str, Any]] = _NO_PARAMS

    def check(self, ctx: Context, rule: BoundRule) -> Iterator[Finding]:
        seen: set[tuple[str, Loc | None]] = set()
        for p in ctx.facts.poolers:
            for message, loc in p.settings.problems:
                if (message, loc) in seen:
                    continue  # a Zalando cluster's two poolers share the object's problems
                seen.add((message, loc))
                yield rule.finding(f"{p.name}: {message}", loc or p.loc, p.obj,
                                   fix="use a name the image reads and a value the pooler accepts, as the message "
                                       "says, or remove the setting (PgBouncer's: https://www.pgbouncer.org/config.html)")
        for load in ctx.facts.pooler_loads:
            for client, via in zip(load.clients, load.links):
                yield from _port(rule, load, client, via.port, via.service)
                if refuses(load.pooler.settings, via.use):
                    yield _refused(rule, load.pooler, client, str(via.use.database))


def _port(rule: BoundRule, load: PoolerLoad, client: Client, port: Val[int] | None,
          service: Service | None) -> Iterator[Finding]:
    p, s = load.pooler, load.pooler.settings
    listen = s.listen_port
    if port is None or not port.known or listen.state not in (State.KNOWN, State.DEFAULT) or listen.value is None:
        return
    name, var = client.workload.name, client.endpoint.var
    how = f"{port.value}" + (f" ({port.reason})" if port.state is State.DEFAULT else f" ({var})")
    rel = related(listen.loc, f"{p.name}: listen_port {listen.value}{_said(listen)}") + _clients_related([client])
    fix = f"connect to port {listen.value}, or set {setting_name(p, 'listen_port')} to {port.value}"
    where = port.loc or client.endpoint.loc or client.workload.loc
    if service is not None and service.ports:
        entry = next((e for e in service.ports if e[0] == port.value), None)
        if entry is None:
            yield rule.finding(
                f"{name} connects to {p.name} on port {how}, but Service {service.name} has no port "
                f"{port.value} (it has {', '.join(str(e[0]) for e in service.ports)}): the connection fails",
                where, client.workload.ref, related=rel + related(service.loc, f"Service {service.name}"),
                fix=f"connect to a port of Service {service.name}, or add port {port.value} to it")
            return
        target = entry[1] if entry[1] is not None else entry[0]
        if isinstance(target, int) and target != listen.value:
            yield rule.finding(
                f"{name} connects to {p.name} through Service {service.name}, whose port {port.value} forwards to "
                f"targetPort {target}, but {p.name} listens on {listen.value}{_said(listen)}: the connection is "
                "refused", entry[2], ObjectRef("Service", service.name, service.namespace),
                related=rel + related(where, f"{name}: {var} names port {port.value}"),
                fix=f"set targetPort: {listen.value} on Service {service.name}, or set "
                    f"{setting_name(p, 'listen_port')} to {target}")
        return
    if port.value != listen.value:
        yield rule.finding(
            f"{name} connects to {p.name} on port {how}, but {p.name} listens on {listen.value}{_said(listen)}: "
            "the connection is refused", where, client.workload.ref, related=rel, fix=fix)


def _refused(rule: BoundRule, p: Pooler, client: Client, database: str) -> Finding:
    s: PoolerSettings = p.settings
    listed = ", ".join(d.name for d in s.databases)
    rel = [Related(d.loc.path, d.loc.line, d.loc.column, f"{p.name}: [databases] {d.name}")
           for d in s.databases if d.loc is not None and d.loc.line]
    hint = f"{setting_name(p, 'database')}={database}" if s.flavour == "bitnami" and s.source != "ini" else \
        f"a [databases] entry {database} = host=…"
    return rule.finding(
        f"{client.workload.name} asks {p.name} for database {database!r} ({client.endpoint.var}), but its "
        f"[databases] lists only {listed} and no '*' fallback: PgBouncer refuses the connection (\"no such "
        "database\")",
        client.endpoint.loc or client.workload.loc, client.workload.ref, related=rel,
        fix=f"add {hint} (or a '*' entry), or connect to a database it lists")
