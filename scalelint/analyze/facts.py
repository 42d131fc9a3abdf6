"""Facts: derived values computed once per group and shared by every rule and by ``report``.

Each fact is a :class:`~scalelint.model.Val` (value, where it was set, known /
defaulted / unknown). Facts are computed lazily and cached, so a run that
selects only SL001 never resolves environments or connection budgets.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from scalelint.analyze import databases as dbmod
from scalelint.analyze.budget import Budget, Client, PoolerLoad, PoolerShare, Via
from scalelint.analyze.connections import pools
from scalelint.analyze.env import Env, resolve
from scalelint.analyze.guesses import guess_pool, scheme_of
from scalelint.analyze.launch import Found, find_source, launch
from scalelint.analyze.links import LOCAL_HOSTS, Endpoint, Pool, endpoints, pool, unlinked_reason
from scalelint.analyze.pooler_links import client_port, client_use, kube_reach, split
from scalelint.analyze.poolers import Pooler, cluster_database, find_poolers
from scalelint.analyze.workers import Workers, workers
from scalelint.config import Config
from scalelint.findings import Notice
from scalelint.model import Container, Group, Service, Val, Workload, default
from scalelint.sources.chain import Launch

if TYPE_CHECKING:
    from scalelint.sources.poolers import Backend

#: per-workload memory one worker needs (SL006, ``plan``)
MEMORY_ANNOTATION = "scalelint.io/memory-per-worker"


@dataclass(frozen=True)
class ReplicaRange:
    """How many pods a workload may run: the low end for availability, the high end for budgets."""

    min: Val[int]
    max: Val[int]
    hpa: bool = False


class Facts:
    def __init__(self, group: Group, config: Config) -> None:
        self.group = group
        self.config = config
        #: things the user should know about unknown values, filled as facts are computed
        self.notices: list[Notice] = []
        self._env: dict[int, Env] = {}
        self._workers: dict[int, Workers] = {}
        self._owner: dict[int, Workload] = {}
        #: id(workload or operator object) → the database it is
        self._db_of_part: dict[int, dbmod.Database] = {}
        self._source: dict[int, Found | None] = {}
        self._launch: dict[int, Launch] = {}
        #: id(workload) → why it looks like a database client that no link was read for
        self._link_unknown: dict[int, str] = {}
        #: (id(container), URL scheme) → pools read from the application's source: read once, however
        #: many databases and poolers the container reaches
        self._source_pools: dict[tuple[int, str | None], list[Pool] | None] = {}

    @cached_property
    def replicas(self) -> dict[int, ReplicaRange]:
        """Replica range per workload (keyed by ``id(workload)``), HPA-aware."""
        return {id(wl): replica_range(wl, self.config) for wl in self.group.workloads}

    def replica_range(self, wl: Workload) -> ReplicaRange:
        return self.replicas[id(wl)]

    def env(self, wl: Workload, c: Container) -> Env:
        key = id(c)
        if key not in self._env:
            self._env[key] = resolve(c, self.group, wl.namespace, wl.path)
        return self._env[key]

    def source(self, wl: Workload, c: Container) -> Found | None:
        """Where the container's image is built from (SPEC §8), None without one or with ``--no-sources``."""
        key = id(c)
        if key not in self._source:
            found = find_source(wl, c, self.config, self.notices) if self.config.read_sources else None
            self._source[key] = found
        return self._source[key]

    def launch(self, wl: Workload, c: Container) -> Launch:
        """The container's launch chain, read once, and only when a fact needs it."""
        key = id(c)
        if key not in self._launch:
            found = self.source(wl, c)
            chain = launch(wl, c, self.env(wl, c), found, self.group.kind == "kubernetes")
            self._launch[key] = chain
            if found is not None:
                self.notices.extend(chain.notices)
        return self._launch[key]

    def workers(self, wl: Workload, c: Container) -> Workers:
        key = id(c)
        if key not in self._workers:
            w = workers(c, self.env(wl, c), self.config, self.group.kind == "kubernetes",
                        lambda: self.launch(wl, c), self.source(wl, c) is not None)
            self._workers[key] = w
            if not w.count.known and w.app:
                where = w.count.loc or c.loc
                self.notices.append(Notice(
                    f"worker count of {c.name} in {wl.ref} is unknown ({w.count.reason}): not checked",
                    where.path, where.line, where.column))
        return self._workers[key]

    def memory_per_worker(self, wl: Workload, fallback: int, configured: bool) -> tuple[int, str]:
        """Memory one worker of ``wl`` needs, and where that number comes from: the workload's own
        ``scalelint.io/memory-per-worker`` annotation (compose: ``x-scalelint: {memory-per-worker:}``),
        else the setting (``configured``: written in a config file), else scalelint's assumption."""
        from scalelint.model.quantity import compose_memory, k8s_memory

        compose = wl.kind == "service"
        written = wl.settings.get("memory-per-worker") if compose else wl.annotations.get(MEMORY_ANNOTATION)
        if written is not None:
            amount = compose_memory(written) if compose else k8s_memory(written)
            if amount is not None and amount > 0:
                where = f"annotation {MEMORY_ANNOTATION}" if wl.kind != "service" else "x-scalelint memory-per-worker"
                return amount, where
            self.notices.append(Notice(f"{wl.ref}: memory-per-worker {written!r} is not a memory quantity: ignored",
                                       wl.loc.path, wl.loc.line, wl.loc.column))
        return fallback, "memory-per-worker setting" if configured else "assumed"

    def pod_workers(self, wl: Workload) -> list[tuple[Container, Workers]]:
        """The app containers whose processes count toward the pod's worker total."""
        out = []
        for c in wl.app_containers:
            w = self.workers(wl, c)
            if w.app:
                out.append((c, w))
        return out

    @cached_property
    def databases(self) -> list[dbmod.Database]:
        found: list[dbmod.Database] = []
        for wl in self.group.workloads:
            for c in wl.app_containers:
                if dbmod.image_engine(c.image) is None:
                    continue
                db = dbmod.container_database(wl, c, self.env(wl, c), self.group)
                if db is None:
                    continue
                if self.group.kind == "compose":
                    db.names = {h.lower() for h in c.hostnames}
                self._db_of_part[id(wl)] = db
                found.append(db)
                break
        for obj in self.group.objects:
            db = dbmod.operator_database(obj.kind, obj.api_version, obj.raw, obj.name, obj.namespace, obj.loc) \
                or cluster_database(obj)
            if db is not None:
                self._db_of_part[id(obj)] = db
                found.append(db)
        found.extend(dbmod.external_databases(self.config))
        return found

    @cached_property
    def poolers(self) -> list[Pooler]:
        """Every pooler of the group (SPEC §9): pooler containers and the poolers operators run."""
        return find_poolers(self.group, self.env, self._pooler_replicas, self.notices)

    def _pooler_replicas(self, wl: Workload) -> tuple[Val[int], bool]:
        rng = self.replica_range(wl)
        return rng.max, rng.hpa

    @cached_property
    def budgets(self) -> list[Budget]:
        """Each database's budget: its direct clients and the poolers in front of it (SPEC §3, §9)."""
        return self._linked[0]

    @cached_property
    def idle_databases(self) -> list[dbmod.Database]:
        """Databases defined in the files that no client or pooler reaches: demand 0, for the report."""
        used = {id(b.database) for b in self.budgets}
        return [db for db in self.databases if not db.external and id(db) not in used]

    def link_unknown(self, wl: Workload) -> str | None:
        """Why ``wl`` seems to use a database that no link was read for (a host the files do not define,
        a local address, database variables without a host, an env_file that is missing); None when it
        is linked, or nothing says it uses a database."""
        self._linked  # noqa: B018 - computing the links fills the reasons
        return self._link_unknown.get(id(wl))

    @cached_property
    def pooler_loads(self) -> list[PoolerLoad]:
        """Each pooler's client side, also of a pooler whose database is not found."""
        return self._linked[1]

    @cached_property
    def _linked(self) -> tuple[list[Budget], list[PoolerLoad]]:
        by_name: dict[str, dbmod.Database] = {}
        external: dict[str, dbmod.Database] = {}
        for db in self.databases:
            index = external if db.external else by_name
            for name in db.names:
                index.setdefault(name, db)
        budgets = {id(db): Budget(db) for db in self.databases}
        loads = {id(p): PoolerLoad(p) for p in self.poolers}
        pooler_containers = {id(p.container) for p in self.poolers if p.container is not None}
        unmatched: dict[str, Endpoint] = {}
        # workloads that are a database or a pooler are never "clients whose link was not read"
        serving = {id(db.workload) for db in self.databases} | {id(p.workload) for p in self.poolers}
        for wl in self.group.workloads:
            links: dict[int, list[tuple[Container, Endpoint]]] = {}
            via: dict[int, list[tuple[Container, Endpoint, Via]]] = {}
            for c in wl.app_containers:
                if id(c) in pooler_containers:
                    continue  # its backend host makes it the database's pooler, not its client
                env = self.env(wl, c)
                seen: set[int] = set()
                for ep in endpoints(env):
                    dbs, poolers, services = self._reach(ep, wl, env, by_name, external)
                    if not dbs and not poolers:
                        if ep.host not in LOCAL_HOSTS and not ep.host.startswith("/"):
                            unmatched.setdefault(ep.host, ep)
                        continue
                    for p in poolers:
                        if id(p) not in seen:
                            seen.add(id(p))
                            link = Via(client_use(env, ep), client_port(env, ep), services[0] if services else None)
                            via.setdefault(id(p), []).append((c, ep, link))
                    for target in dbs:  # several: alternatives of each other, each its own budget
                        if target.workload is wl or id(target) in seen:
                            continue
                        seen.add(id(target))
                        links.setdefault(id(target), []).append((c, ep))
            if not links and not via and id(wl) not in serving:
                for c in wl.app_containers:
                    missing = [ref.name for ref, _ in c.env_from if ref.source == "env_file"]
                    why = None if id(c) in pooler_containers else unlinked_reason(self.env(wl, c), missing)
                    if why:
                        self._link_unknown[id(wl)] = why
                        break
            for db_id, pairs in links.items():
                budgets[db_id].clients.append(self._client(wl, pairs))
            for p_id, triples in via.items():
                loads[p_id].clients.append(self._client(wl, [(c, ep) for c, ep, _ in triples]))
                loads[p_id].links.append(triples[0][2])
        for load in loads.values():
            for routed in split(load.pooler.settings, load.uses, self._backends(load, by_name, external)):
                budgets[id(routed.database)].poolers.append(PoolerShare(
                    load, [load.clients[i] for i in routed.clients], routed.server, routed.pools,
                    [load.clients[i] for i in routed.unrouted]))
        for host, ep in sorted(unmatched.items()):
            where = ep.loc
            self.notices.append(Notice(
                f"database host {host!r} ({ep.var}) is not defined in the files linted: add it to `databases:` "
                "in .scalelint.yaml to check its connection budget",
                where.path if where else "", where.line if where else 0, where.column if where else 0))
        out = [b for b in budgets.values() if b.clients or b.poolers]
        counted = [(b.database.name, c) for b in out for c in b.clients]
        counted += [(f"{load.pooler.name}'s clients", c) for load in loads.values() for c in load.clients]
        for what, client in counted:
            at = client.workload.loc
            for reason in client.unknown_reasons():
                self.notices.append(Notice(f"connection budget of {what}: {client.workload.name} counted as unknown "
                                           f"({reason})", at.path, at.line, at.column))
        return out, list(loads.values())

    def _reach(self, ep: Endpoint, wl: Workload, env: Env, by_name: dict[str, dbmod.Database],
               external: dict[str, dbmod.Database]) -> tuple[list[dbmod.Database], list[Pooler], list[Service]]:
        """The databases or poolers a client's host names, and the Kubernetes Services it goes through."""
        if ep.host in LOCAL_HOSTS and wl.host_network and self.group.kind == "compose":
            # network_mode: host on both sides: localhost is the host, where the host-networked database listens
            shared = [db for db in self.databases if db.workload is not None and db.workload is not wl
                      and db.workload.host_network]
            if len(shared) == 1:
                return shared, [], []
        if ep.host in LOCAL_HOSTS:  # a pooler sidecar of its own pod (in a database's pod: if the port is its)
            here = [p for p in self.poolers if p.workload is wl]
            if here and self.databases and id(wl) in self._db_of_part:
                port = client_port(env, ep)
                here = [p for p in here if port is not None and p.settings.listen_port.value == port.value]
            return [], here, []
        if self.group.kind == "kubernetes":
            dbs, poolers, services = self._kube_reach(ep.host, wl.path, wl.namespace or "default",
                                                      lambda: client_port(env, ep))
        else:
            db = by_name.get(ep.host)
            dbs, services = [db] if db is not None else [], []
            poolers = [p for p in self.poolers if ep.host in p.names]
            if dbs and poolers:  # pragma: no cover - one compose name is one service
                poolers = []
        if not dbs and not poolers and ep.host in external:
            dbs = [external[ep.host]]
        return dbs, poolers, services

    def _kube_reach(self, host: str, origin: str, namespace: str, port: Callable[[], Val[int] | None] | None = None,
                    ) -> tuple[list[dbmod.Database], list[Pooler], list[Service]]:
        self.databases  # noqa: B018 - fills _db_of_part
        return kube_reach(self.group.refs, host, origin, namespace, self._db_of_part, self._pooler_parts, port)

    @cached_property
    def _pooler_parts(self) -> dict[int, list[Pooler]]:
        """``id(workload or operator object)`` → the poolers it runs."""
        parts: dict[int, list[Pooler]] = {}
        for p in self.poolers:
            parts.setdefault(id(p.workload if p.workload is not None else p.kube_object), []).append(p)
        return parts

    def _backends(self, load: PoolerLoad, by_name: dict[str, dbmod.Database],
                  external: dict[str, dbmod.Database]) -> list[tuple[Backend, list[dbmod.Database]]]:
        """Each backend of the pooler with the databases it names (SPEC §9: resolved from the pooler's file)."""
        p = load.pooler
        out = []
        for b in p.settings.backends:
            if b.host in LOCAL_HOSTS and p.workload is not None and id(p.workload) in self._db_of_part:
                dbs = [self._db_of_part[id(p.workload)]]  # a sidecar in the database's pod
            elif self.group.kind == "kubernetes":
                dbs = self._kube_reach(b.host, p.path, p.namespace or "default")[0]
            else:
                dbs = [by_name[b.host]] if b.host in by_name else []
            if not dbs and b.host in external:
                dbs = [external[b.host]]
            if not dbs:
                what = f"the cluster {b.host.rsplit('-', 1)[0]!r} it names" if p.settings.flavour == "cnpg" else \
                    f"its backend host {b.host!r}"
                load.unknown.append(f"{what} is not defined in the files linted")
                where = b.loc or p.loc
                self.notices.append(Notice(
                    f"pooler {p.name}: {what} is not defined in the files linted: its server connections are not "
                    "counted in any connection budget (add the database, or list it under `databases:` in "
                    ".scalelint.yaml)", where.path, where.line, where.column))
            out.append((b, dbs))
        load.databases = sorted({db.name for _, dbs in out for db in dbs})
        return out

    def _pool_override(self, wl: Workload) -> Pool | None:
        """The connections per worker to use instead of what the files say (``plan --set``); None here."""
        return None

    def _client(self, wl: Workload, pairs: list[tuple[Container, Endpoint]]) -> Client:
        rng = self.replica_range(wl)
        worker_vals = []
        total: int | None = 0
        for c, _ in pairs:
            w = self.workers(wl, c)
            worker_vals.append((c.name, w.count, w.source))
            if total is not None and w.count.known and w.count.value is not None:
                total += int(w.count.value)
            else:
                total = None
        c0, ep0 = pairs[0]
        env = self.env(wl, c0)
        p = pool(env, ep0, self.config, c0.loc)
        w0 = self.workers(wl, c0)
        groups: list[tuple[str, Val[int], Pool]] = []
        found = self.source(wl, c0) if p.assumed else None
        if found is not None:  # nothing in the manifest: the application's source may say (SPEC §8)
            chain = self.launch(wl, c0)
            served = w0.groups or tuple(chain.processes)  # how it is served, also when the count was a flag
            scheme = scheme_of(env.get(ep0.var))
            key = (id(c0), scheme)
            if key not in self._source_pools:
                self._source_pools[key] = pools(found, chain, served, chain.env, scheme, self.notices)
            read = self._source_pools[key]
            if read:
                p = read[0]
                if len(w0.groups) > 1 and len(pairs) == 1:
                    groups = [(g.label, g.workers, gp) for g, gp in zip(w0.groups, read)]
        p = guess_pool(p, c0, w0, env, ep0, found is not None)
        forced = self._pool_override(wl)
        if forced is not None:
            p, groups = forced, [(label, count, forced) for label, count, _ in groups]
        threads = w0.threads
        if threads is None and found is not None and self.launch(wl, c0).processes:
            threads = self.launch(wl, c0).processes[0].threads
        return Client(wl, rng.max, rng.min, total, worker_vals, p, ep0, hpa=rng.hpa, groups=groups,
                      threads=threads)


def replica_range(wl: Workload, config: Config) -> ReplicaRange:
    hpas = wl.autoscalers or ([wl.autoscaler] if wl.autoscaler is not None else [])
    if hpas:
        # several HPAs scale one shared workload from alternative manifest sets: a check reports only
        # what fails for all of them, so the budget takes the smallest maximum, HA the largest minimum
        low = max(hpas, key=lambda h: (h.min_replicas.known, h.min_replicas.value or 0))
        high = min(hpas, key=lambda h: (not h.max_replicas.known, h.max_replicas.value or 0))
        return ReplicaRange(low.min_replicas, high.max_replicas, hpa=True)
    if wl.kind == "DaemonSet" and config.nodes is not None:
        nodes = default(config.nodes, None, f"config nodes: {config.nodes}")
        return ReplicaRange(nodes, nodes)
    return ReplicaRange(wl.replicas, wl.replicas)
