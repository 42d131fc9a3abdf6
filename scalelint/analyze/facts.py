"""Facts: derived values computed once per group and shared by every rule and by ``report``.

Each fact is a :class:`~scalelint.model.Val` (value, where it was set, known /
defaulted / unknown). Facts are computed lazily and cached, so a run that
selects only SL001 never resolves environments or connection budgets.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from scalelint.analyze import databases as dbmod
from scalelint.analyze.budget import Budget, Client
from scalelint.analyze.connections import pools
from scalelint.analyze.env import Env, resolve
from scalelint.analyze.launch import Found, find_source, launch
from scalelint.analyze.links import Endpoint, Pool, endpoints, kube_target, pool
from scalelint.analyze.workers import Workers, workers
from scalelint.config import Config
from scalelint.findings import Notice
from scalelint.model import Container, Group, Service, Val, Workload, default, unknown
from scalelint.model.kube import WORKLOAD_KINDS
from scalelint.sources.chain import Launch

#: programs that connect without SQLAlchemy: assuming its 5 + 10 pool for them would be a guess
NON_PYTHON_CLIENTS = frozenset({
    "psql", "pgbench", "pg_dump", "pg_dumpall", "pg_restore", "pg_isready", "mysql", "mysqladmin", "mysqldump",
    "java", "node", "npm", "npx", "yarn", "bun", "deno", "dotnet", "ruby", "bundle", "rails", "php", "sleep",
})


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
            db = dbmod.operator_database(obj.kind, obj.api_version, obj.raw, obj.name, obj.namespace, obj.loc)
            if db is not None:
                self._db_of_part[id(obj)] = db
                found.append(db)
        found.extend(dbmod.external_databases(self.config))
        return found

    @cached_property
    def budgets(self) -> list[Budget]:
        by_name: dict[str, dbmod.Database] = {}
        external: dict[str, dbmod.Database] = {}
        for db in self.databases:
            index = external if db.external else by_name
            for name in db.names:
                index.setdefault(name, db)
        budgets = {id(db): Budget(db) for db in self.databases}
        unmatched: dict[str, Endpoint] = {}
        for wl in self.group.workloads:
            links: dict[int, list[tuple[Container, Endpoint]]] = {}
            for c in wl.app_containers:
                seen: set[int] = set()
                for ep in endpoints(self.env(wl, c)):
                    targets = self._match(ep, wl, by_name, external)
                    if not targets:
                        if ep.host not in ("localhost", "127.0.0.1", "::1") and not ep.host.startswith("/"):
                            unmatched.setdefault(ep.host, ep)
                        continue
                    for target in targets:  # several: alternatives of each other, each its own budget
                        if target.workload is wl or id(target) in seen:
                            continue
                        seen.add(id(target))
                        links.setdefault(id(target), []).append((c, ep))
            for db_id, pairs in links.items():
                budgets[db_id].clients.append(self._client(wl, pairs))
        for host, ep in sorted(unmatched.items()):
            where = ep.loc
            self.notices.append(Notice(
                f"database host {host!r} ({ep.var}) is not defined in the files linted: add it to `databases:` "
                "in .scalelint.yaml to check its connection budget",
                where.path if where else "", where.line if where else 0, where.column if where else 0))
        out = [b for b in budgets.values() if b.clients]
        for b in out:
            for client in b.clients:
                at = client.workload.loc
                for reason in client.unknown_reasons():
                    self.notices.append(Notice(
                        f"connection budget of {b.database.name}: {client.workload.name} counted as unknown "
                        f"({reason})", at.path, at.line, at.column))
        return out

    def _match(self, ep: Endpoint, wl: Workload, by_name: dict[str, dbmod.Database],
               external: dict[str, dbmod.Database]) -> list[dbmod.Database]:
        if self.group.kind == "kubernetes":
            found = self._kube_match(ep.host, wl)
        else:
            db = by_name.get(ep.host)
            found = [db] if db is not None else []
        if not found and ep.host in external:
            found = [external[ep.host]]
        return found

    def _kube_match(self, host: str, wl: Workload) -> list[dbmod.Database]:
        """The databases a host name reaches from ``wl``'s file: a Service (any DNS form) and the pods it
        selects, else a workload of that name (a StatefulSet's governing name), else an operator's
        Service (CloudNativePG ``<cluster>-rw``, Zalando ``<cluster>``)."""
        target = kube_target(host, wl.namespace or "default")
        if target is None:
            return []
        self.databases  # noqa: B018 - fills _db_of_part
        namespace, name = target
        refs, dbs = self.group.refs, self._db_of_part
        found: list[dbmod.Database] = []
        for svc in refs.named(wl.path, "Service", namespace, name):
            if isinstance(svc, Service):
                found += [dbs[id(w)] for w in refs.selected(svc.loc.path, namespace, svc.selector, [])
                          if id(w) in dbs]
        if not found:
            for kind in sorted(WORKLOAD_KINDS):
                found += [dbs[id(w)] for w in refs.named(wl.path, kind, namespace, name) if id(w) in dbs]
        if not found:
            for kind, base in dbmod.operator_service_owners(name):
                found += [dbs[id(o)] for o in refs.named(wl.path, kind, namespace, base) if id(o) in dbs]
        return list({id(db): db for db in found}.values())

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
            read = pools(found, chain, served, chain.env, _scheme(env.get(ep0.var)), self.notices)
            if read:
                p = read[0]
                if len(w0.groups) > 1 and len(pairs) == 1:
                    groups = [(g.label, g.workers, gp) for g, gp in zip(w0.groups, read)]
        program = c0.argv[0].rsplit("/", 1)[-1] if c0.argv else ""
        if p.assumed and not w0.app and not c0.default_command and program in NON_PYTHON_CLIENTS:
            # psql, a JVM, node: SQLAlchemy's pool does not apply, and nothing says what does
            why = f"{c0.name} runs {program}, not a Python app, and sets no pool size"
            p = Pool(unknown(c0.loc, why), unknown(c0.loc, why), None, p.size_name, p.overflow_name)
        threads = w0.threads
        if threads is None and found is not None and self.launch(wl, c0).processes:
            threads = self.launch(wl, c0).processes[0].threads
        return Client(wl, rng.max, rng.min, total, worker_vals, p, ep0, hpa=rng.hpa, groups=groups,
                      threads=threads)


def _scheme(url: Val[str] | None) -> str | None:
    text = str(url.value) if url is not None and url.value else ""
    return text.split("://", 1)[0].lower() if "://" in text else None


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
