"""The pooler readers over the real manifests of the shared corpus (skipped when it is absent).

Every compose service, Kubernetes container and custom resource that mentions a pooler is
read; none may raise, and the setups below are checked against numbers worked out by hand
from the files.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from scalelint.findings import Loc, Notice
from scalelint.model import State, Val, known
from scalelint.sources.poolers import (
    PoolerSettings,
    read_container_pooler,
    read_operator_poolers,
    recognize_image,
    server_connections_per_replica,
)

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
_MENTIONS = re.compile(r"pgbouncer|pgpool|proxysql|kind:\s*Pooler|ConnectionPooler", re.IGNORECASE)

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared corpus is not here")


def _locator(doc: Any, path: str) -> Any:
    def locate(keys: tuple[str | int, ...]) -> Loc | None:
        if not keys:
            return Loc(path, doc.lc.line + 1, doc.lc.col + 1)
        node = doc
        for key in keys[:-1]:
            node = node[key]
        line, column = node.lc.value(keys[-1]) if isinstance(keys[-1], str) else node.lc.item(keys[-1])
        return Loc(path, line + 1, column + 1)

    return locate


def _env(node: Any, path: str) -> dict[str, Val[str]]:
    """Compose ``environment`` (list or mapping) or Kubernetes ``env`` as name → value with position."""
    env: dict[str, Val[str]] = {}
    if hasattr(node, "items"):
        for name, value in node.items():
            line, column = node.lc.value(name)
            env[str(name)] = known("" if value is None else str(value), Loc(path, line + 1, column + 1))
    elif isinstance(node, list):
        items: Any = node  # a ruamel CommentedSeq: positions in .lc
        for index, item in enumerate(items):
            line, column = items.lc.item(index)
            if hasattr(item, "get") and "name" in item:
                if "value" in item:
                    vline, vcolumn = item.lc.value("value")
                    env[str(item["name"])] = known(str(item["value"]), Loc(path, vline + 1, vcolumn + 1))
                continue
            name, _, value = str(item).partition("=")
            env[name] = known(value, Loc(path, line + 1, column + 2 + len(name)))
    return env


def _containers(doc: Any) -> list[tuple[str, Any, Any]]:
    """(name, image node owner, env node) of every compose service and Kubernetes container."""
    found: list[tuple[str, Any, Any]] = []
    services = doc.get("services")
    if hasattr(services, "items"):
        found += [(str(n), s, s.get("environment")) for n, s in services.items() if hasattr(s, "get")]
    pod: Any = doc
    for key in ("spec", "template", "spec"):
        pod = pod.get(key) if hasattr(pod, "get") else None
    for container in (pod.get("containers") or []) if hasattr(pod, "get") else []:
        if hasattr(container, "get"):
            found.append((str(container.get("name")), container, container.get("env")))
    return found


def _read_corpus() -> dict[str, list[PoolerSettings]]:
    results: dict[str, list[PoolerSettings]] = {}
    for file in sorted(CORPUS.rglob("*")):
        if file.suffix not in (".yml", ".yaml") or not file.is_file():
            continue
        text = file.read_text(errors="replace")
        if not _MENTIONS.search(text):
            continue
        path = str(file.relative_to(CORPUS))
        try:
            docs = list(YAML(typ="rt").load_all(text))
        except YAMLError:
            continue  # not YAML this reader can load: not the poolers' business
        for doc in docs:
            if not hasattr(doc, "get"):
                continue
            found = read_operator_poolers(doc, _locator(doc, path), path=path, notices=[])
            for name, owner, env in _containers(doc):
                image = owner.get("image")
                if recognize_image(image) is None:
                    continue
                line, column = owner.lc.value("image")
                settings = read_container_pooler(image, _env(env, path), image_loc=Loc(path, line + 1, column + 1))
                assert settings is not None
                settings.name = name
                found.append(settings)
            if found:
                results.setdefault(path, []).extend(found)
    return results


@pytest.fixture(scope="module")
def corpus() -> dict[str, list[PoolerSettings]]:
    return _read_corpus()


def _one(corpus: dict[str, list[PoolerSettings]], suffix: str, name: str | None = None) -> PoolerSettings:
    matches = [s for path, items in corpus.items() if path.endswith(suffix) for s in items
               if name is None or s.name == name]
    assert len(matches) == 1, (suffix, [s.name for s in matches])
    return matches[0]


def _numbers(s: PoolerSettings) -> tuple[Any, ...]:
    return (s.mode.value, s.max_client_conn.value, s.default_pool_size.value, s.reserve_pool_size.value,
            s.max_db_connections.value, s.listen_port.value)


def test_every_pooler_reads_without_error(corpus: dict[str, list[PoolerSettings]]) -> None:
    poolers = [s for items in corpus.values() for s in items]
    assert len(poolers) >= 25
    for settings in poolers:
        for _, loc in settings.problems:
            assert loc is None or loc.line >= 1
        for note in settings.notices:
            assert isinstance(note, Notice)
        server_connections_per_replica(settings)  # never raises either


def test_pgbouncer_pgbouncer_compose(corpus: dict[str, list[PoolerSettings]]) -> None:
    bash = _one(corpus, "leandronsp-bash/docker-compose.yml")
    assert (bash.flavour, bash.source) == ("pgbouncer/pgbouncer", "env") and bash.problems == []
    assert _numbers(bash) == ("session", 100, 50, 50, 0, 6432)
    (database,) = bash.databases
    assert database.name == "*" and database.forced_user and database.pool_size is not None
    assert database.pool_size.value == 20
    assert [(b.host, b.port) for b in bash.backends] == [("postgres", 5432)]
    # forced user DATABASES_USER=postgres: one pool, DATABASES_POOL_SIZE 20 + PGBOUNCER_RESERVE_POOL_SIZE 50
    assert server_connections_per_replica(bash).value == 70
    for suffix in ("boaglio-canabrava-procs/docker-compose.yml", "participantes/canabrava/docker-compose.yml"):
        pooler = _one(corpus, suffix)
        assert _numbers(pooler) == ("session", 30, 30, 30, 0, 6432)
        assert server_connections_per_replica(pooler).value == 30 + 30


def test_edoburu_compose(corpus: dict[str, list[PoolerSettings]]) -> None:
    django = _one(corpus, "henriqueccapozzi-django-01/docker-compose.yml")
    assert django.flavour == "edoburu" and django.problems == []
    assert _numbers(django) == ("transaction", 100, 40, 0, 40, 5432)
    assert [(d.name, d.forced_user) for d in django.databases] == [("crebito", False)]
    assert [(b.host, b.port) for b in django.backends] == [("db", 5432)]
    unresolved = _one(corpus, "julioriffel-django/docker-compose.yml")
    assert unresolved.backends == [] and any("unresolved" in n.message for n in unresolved.notices)


def test_unknown_pgbouncer_images(corpus: dict[str, list[PoolerSettings]]) -> None:
    rust = _one(corpus, "giovannibassi-rust/docker-compose.yml")
    assert (rust.flavour, rust.source) == ("generic", "defaults")
    assert rust.default_pool_size.state is State.ASSUMED
    fake = _one(corpus, "zalando__postgres-operator/manifests/minimal-fake-pooler-deployment.yaml")
    assert fake.flavour == "generic" and fake.backends == []


def test_bitnami_pgpool_compose(corpus: dict[str, list[PoolerSettings]]) -> None:
    pgpool = _one(corpus, "Flagsmith__flagsmith/docker/common/db/.pgpool.yml")
    assert pgpool.kind == "pgpool" and pgpool.problems == []
    assert pgpool.num_init_children is not None and pgpool.max_pool is not None
    assert (pgpool.num_init_children.value, pgpool.max_pool.value, pgpool.listen_port.value) == (32, 15, 5432)
    assert [(b.host, b.port) for b in pgpool.backends] == [("pg-0", 5432), ("pg-1", 5432)]
    assert server_connections_per_replica(pgpool).value == 32 * 15 * 2


def test_cloudnativepg_poolers(corpus: dict[str, list[PoolerSettings]]) -> None:
    external = _one(corpus, "docs/src/samples/pooler-external.yaml")
    assert external.replicas is not None and external.replicas.value == 3
    assert _numbers(external) == ("session", 1000, 10, 0, 0, 5432)
    assert [(b.host, b.port) for b in external.backends] == [("cluster-example-rw", 5432)]
    gke = _one(corpus, "postgresql-cloudnativepg/manifests/07-performance/pooler.yaml")
    assert gke.replicas is not None and gke.replicas.value == 3 and _numbers(gke) == ("session", 100, 20, 0, 0, 5432)
    readonly = _one(corpus, "pgbouncer_types/pgbouncer-pooler-ro.yaml")
    assert [(b.host, b.port) for b in readonly.backends] == [("cluster-pgbouncer-ro", 5432)]
    cnpg = [s for items in corpus.values() for s in items if s.flavour == "cnpg"]
    assert len(cnpg) >= 15 and all(s.problems == [] for s in cnpg)


def test_zalando_gke_cluster(corpus: dict[str, list[PoolerSettings]]) -> None:
    poolers = [s for path, items in corpus.items() if path.endswith("07-performance/my-cluster.yaml") for s in items]
    master, replica = sorted(poolers, key=lambda s: s.services)
    assert (master.services, replica.services) == (["my-cluster-pooler"], ["my-cluster-pooler-repl"])
    # numberOfInstances 3, maxDBConnections default 60: 60 ÷ 3 = 20, 20 ÷ 2 = 10, 10 ÷ 2 = 5
    assert master.replicas is not None and master.replicas.value == 3
    assert _numbers(master) == ("session", 10000, 10, 5, 20, 5432)
    assert [(b.host, b.port) for b in master.backends] == [("my-cluster", 5432)]
    assert [(b.host, b.port) for b in replica.backends] == [("my-cluster-repl", 5432)]


def test_crunchy_and_percona(corpus: dict[str, list[PoolerSettings]]) -> None:
    hippo = _one(corpus, "kustomize/high-availability/ha-postgres.yaml")
    assert (hippo.flavour, hippo.services) == ("crunchy", ["hippo-ha-pgbouncer"])
    assert hippo.replicas is not None and hippo.replicas.value == 2
    assert _numbers(hippo) == ("session", 100, 20, 0, 0, 5432)
    assert [(b.host, b.port) for b in hippo.backends] == [("hippo-ha-primary", 5432)]
    percona = _one(corpus, "percona__percona-postgresql-operator/deploy/cr.yaml")
    assert percona.replicas is not None and percona.replicas.value == 3
    assert [(b.host, b.port) for b in percona.backends] == [("cluster1-primary", 5432)]
