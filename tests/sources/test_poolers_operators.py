"""Operator poolers read from their custom resources, with positions through a locate callback."""
from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from scalelint.findings import Loc, Notice
from scalelint.model import State, known
from scalelint.sources.poolers import PoolerSettings, PoolUse, read_operator_poolers, server_connections_per_replica


def _load(text: str, path: str = "db.yaml") -> tuple[Any, Any]:
    """The document and a ``locate`` built on ruamel's line/column records (0-based)."""
    doc = YAML(typ="rt").load(text)

    def locate(keys: tuple[str | int, ...]) -> Loc | None:
        if not keys:
            return Loc(path, doc.lc.line + 1, doc.lc.col + 1)
        node = doc
        for key in keys[:-1]:
            node = node[key]
        line, column = node.lc.value(keys[-1]) if isinstance(keys[-1], str) else node.lc.item(keys[-1])
        return Loc(path, line + 1, column + 1)

    return doc, locate


def _read(text: str, **kwargs: Any) -> list[PoolerSettings]:
    doc, locate = _load(text)
    return read_operator_poolers(doc, locate, path="db.yaml", **kwargs)


CNPG = """\
apiVersion: postgresql.cnpg.io/v1
kind: Pooler
metadata:
  name: pooler-example-rw
spec:
  cluster:
    name: cluster-example
  instances: 3
  type: rw
  pgbouncer:
    poolMode: transaction
    parameters:
      max_client_conn: "1000"
      default_pool_size: "10"
      listen_port: "6000"
"""


def test_cnpg_pooler() -> None:
    (pooler,) = _read(CNPG)
    assert (pooler.flavour, pooler.name, pooler.services) == ("cnpg", "pooler-example-rw", ["pooler-example-rw"])
    assert pooler.replicas is not None and pooler.replicas.value == 3
    assert pooler.mode.value == "transaction" and pooler.mode.loc == Loc("db.yaml", 11, 15)
    assert pooler.max_client_conn.value == 1000 and pooler.max_client_conn.loc == Loc("db.yaml", 13, 24)
    assert pooler.default_pool_size.value == 10 and pooler.reserve_pool_size.value == 0
    assert pooler.listen_port.value == 5432  # forced by the operator
    assert any("CloudNativePG sets listen_port itself" in n.message for n in pooler.notices)
    assert [(b.host, b.port) for b in pooler.backends] == [("cluster-example-rw", 5432)]
    assert pooler.problems == []
    # no forced user: 2 client users → 2 pools × (10 + 0) per pod
    assert server_connections_per_replica(pooler, [PoolUse("app", "a"), PoolUse("app", "b")]).value == 20


def test_cnpg_defaults_and_bad_input() -> None:
    (pooler,) = _read("apiVersion: postgresql.cnpg.io/v1\nkind: Pooler\nmetadata: {name: p}\nspec:\n"
                      "  cluster: {name: c}\n  type: ro\n  pgbouncer: {}\n")
    assert pooler.replicas is not None and (pooler.replicas.value, pooler.replicas.state) == (1, State.DEFAULT)
    assert pooler.mode.value == "session" and "CloudNativePG" in pooler.mode.reason
    assert (pooler.default_pool_size.value, pooler.max_client_conn.value) == (20, 100)
    assert [(b.host, b.port) for b in pooler.backends] == [("c-ro", 5432)]
    (bad,) = _read("apiVersion: postgresql.cnpg.io/v1\nkind: Pooler\nmetadata: {name: p}\nspec:\n  instances: three\n"
                   "  cluster: {}\n  pgbouncer:\n    poolMode: statement\n    parameters:\n      max_client_conn: 500\n"
                   "      default_pool_size: [1]\n")
    messages = [m for m, _ in bad.problems]
    assert any("names no cluster" in m for m in messages) and bad.backends == []
    assert any("spec.instances must be a whole number" in m for m in messages)
    assert bad.replicas is not None and bad.replicas.state is State.UNKNOWN
    assert bad.replicas.loc == Loc("db.yaml", 5, 14)
    assert any("poolMode 'statement'" in m for m in messages) and bad.mode.state is State.UNKNOWN
    assert any("max_client_conn must be a string" in m for m in messages)
    assert bad.max_client_conn.value == 500  # still read: the intent is clear
    assert bad.default_pool_size.state is State.UNKNOWN


ZALANDO = """\
apiVersion: "acid.zalan.do/v1"
kind: postgresql
metadata:
  name: acid
spec:
  numberOfInstances: 2
  enableConnectionPooler: true
  enableReplicaConnectionPooler: true
  connectionPooler:
    numberOfInstances: 3
    maxDBConnections: 100
    mode: session
"""


def test_zalando_integer_division() -> None:
    master, replica = _read(ZALANDO)
    # per pod: max_db_connections = 100 ÷ 3 = 33, default_pool_size = 33 ÷ 2 = 16, reserve = 16 ÷ 2 = 8
    for pooler in (master, replica):
        assert pooler.replicas is not None and pooler.replicas.value == 3
        assert (pooler.max_db_connections.value, pooler.default_pool_size.value, pooler.reserve_pool_size.value) == (
            33, 16, 8)
        assert pooler.max_client_conn.value == 10000 and pooler.mode.value == "session"
        assert pooler.listen_port.value == 5432
        assert pooler.max_db_connections.state is State.KNOWN
        assert pooler.max_db_connections.loc == Loc("db.yaml", 11, 23)
        assert "maxDBConnections ÷ numberOfInstances" in pooler.max_db_connections.reason
    assert master.services == ["acid-pooler"] and replica.services == ["acid-pooler-repl"]
    assert [(b.host, b.port) for b in master.backends] == [("acid", 5432)]
    assert [(b.host, b.port) for b in replica.backends] == [("acid-repl", 5432)]
    # one unknown user: 16 + 8 = 24, within max_db_connections 33
    assert server_connections_per_replica(master).value == 24
    # three users: 3 × 24 = 72, capped by max_db_connections 33 per pod
    cap = server_connections_per_replica(master, [PoolUse("db", u) for u in "abc"])
    assert cap.value == 33 and "capped to 33" in cap.reason


def test_zalando_defaults_and_operator_config() -> None:
    (pooler,) = _read("apiVersion: acid.zalan.do/v1\nkind: postgresql\nmetadata: {name: c}\nspec:\n"
                      "  enableConnectionPooler: true\n")
    # 60 ÷ 2 = 30 per pod, 30 ÷ 2 = 15, 15 ÷ 2 = 7
    assert (pooler.max_db_connections.value, pooler.default_pool_size.value, pooler.reserve_pool_size.value) == (
        30, 15, 7)
    assert pooler.max_db_connections.state is State.DEFAULT and pooler.mode.value == "transaction"
    assert pooler.replicas is not None and pooler.replicas.value == 2
    config = {"connection_pooler_max_db_connections": known("90", Loc("cm.yaml", 4, 41)),
              "connection_pooler_number_of_instances": known("4", Loc("cm.yaml", 5, 42))}
    (tuned,) = _read("apiVersion: acid.zalan.do/v1\nkind: postgresql\nmetadata: {name: c}\nspec:\n"
                     "  enableConnectionPooler: true\n", operator_config=config)
    assert (tuned.max_db_connections.value, tuned.default_pool_size.value, tuned.reserve_pool_size.value) == (22, 11, 5)
    assert tuned.max_db_connections.loc == Loc("cm.yaml", 4, 41)


def test_zalando_not_enabled_and_wrong_types() -> None:
    stray: list[Notice] = []
    assert _read("apiVersion: acid.zalan.do/v1\nkind: postgresql\nmetadata: {name: c}\nspec:\n"
                 "  connectionPooler: {numberOfInstances: 2}\n", notices=stray) == []
    assert stray and "neither enableConnectionPooler" in stray[0].message and stray[0].line == 5
    stray = []
    assert _read("apiVersion: acid.zalan.do/v1\nkind: postgresql\nmetadata: {name: c}\nspec:\n"
                 "  enableConnectionPooler: 'yes'\n", notices=stray) == []
    assert any("must be true or false" in n.message for n in stray)
    (pooler,) = _read("apiVersion: acid.zalan.do/v1\nkind: postgresql\nmetadata: {name: c}\nspec:\n"
                      "  enableConnectionPooler: true\n  connectionPooler:\n    numberOfInstances: 0\n"
                      "    maxDBConnections: lots\n")
    assert pooler.max_db_connections.state is State.UNKNOWN and pooler.default_pool_size.state is State.UNKNOWN
    assert any("numberOfInstances must be at least 1" in m for m, _ in pooler.problems)
    assert any("maxDBConnections must be a whole number" in m for m, _ in pooler.problems)


CRUNCHY = """\
apiVersion: postgres-operator.crunchydata.com/v1beta1
kind: PostgresCluster
metadata:
  name: hippo
spec:
  port: 5433
  proxy:
    pgBouncer:
      replicas: 2
      config:
        global:
          pool_mode: transaction
          default_pool_size: "40"
          max_db_connections: "60"
        users:
          batch: pool_size=5
"""


def test_crunchy_pgbouncer() -> None:
    (pooler,) = _read(CRUNCHY)
    assert (pooler.flavour, pooler.services) == ("crunchy", ["hippo-pgbouncer"])
    assert pooler.replicas is not None and pooler.replicas.value == 2
    assert pooler.mode.value == "transaction" and pooler.default_pool_size.value == 40
    assert pooler.max_db_connections.value == 60 and pooler.listen_port.value == 5432
    assert [(b.host, b.port) for b in pooler.backends] == [("hippo-primary", 5433)]
    assert pooler.problems == []
    # users app and web (40 each) and batch (its own pool_size 5): 85, capped to 60 for the one database
    uses = [PoolUse("app", "app"), PoolUse("app", "web"), PoolUse("app", "batch")]
    assert server_connections_per_replica(pooler, uses).value == 60


def test_crunchy_databases_replace_fallback_and_percona() -> None:
    (pooler,) = _read("apiVersion: postgres-operator.crunchydata.com/v1beta1\nkind: PostgresCluster\n"
                      "metadata: {name: h}\nspec:\n  proxy:\n    pgBouncer:\n      port: 6432\n      config:\n"
                      "        databases:\n          app: host=elsewhere user=svc pool_size=7\n")
    assert [(d.name, d.forced_user) for d in pooler.databases] == [("app", True)]
    assert [(b.host, b.port) for b in pooler.backends] == [("elsewhere", 5432)]
    assert pooler.listen_port.value == 6432 and pooler.replicas is not None and pooler.replicas.value == 1
    (percona,) = _read("apiVersion: pgv2.percona.com/v2\nkind: PerconaPGCluster\nmetadata: {name: cluster1}\n"
                       "spec:\n  proxy:\n    pgBouncer:\n      replicas: 3\n")
    assert (percona.flavour, percona.services, percona.mode.value) == ("percona", ["cluster1-pgbouncer"], "session")
    assert [(b.host, b.port) for b in percona.backends] == [("cluster1-primary", 5432)]
    assert _read("apiVersion: pgv2.percona.com/v2\nkind: PerconaPGCluster\nmetadata: {name: c}\nspec: {}\n") == []


def test_not_poolers_and_hostile_shapes() -> None:
    assert read_operator_poolers(None) == [] and read_operator_poolers([1, 2]) == []
    assert read_operator_poolers({"apiVersion": "apps/v1", "kind": "Deployment"}) == []
    assert read_operator_poolers({"apiVersion": 3, "kind": "Pooler"}) == []
    (plain,) = read_operator_poolers({"apiVersion": "postgresql.cnpg.io/v1", "kind": "Pooler", "spec": "oops"})
    assert plain.backends == [] and any("names no cluster" in m for m, _ in plain.problems)
    (spec_list,) = read_operator_poolers({"apiVersion": "postgres-operator.crunchydata.com/v1beta1",
                                          "kind": "PostgresCluster", "metadata": {"name": "x"},
                                          "spec": {"proxy": {"pgBouncer": ["not", "a", "map"]}}})
    assert any("must be a mapping" in m for m, _ in spec_list.problems)

    def broken_locate(keys: tuple[str | int, ...]) -> Loc | None:
        raise KeyError(keys)

    (located,) = read_operator_poolers({"apiVersion": "postgresql.cnpg.io/v1", "kind": "Pooler",
                                        "spec": {"cluster": {"name": "c"}, "instances": "x"}}, broken_locate)
    assert located.replicas is not None and located.replicas.state is State.UNKNOWN and located.replicas.loc is None


_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 10**5), st.floats(), st.text(max_size=10))
_KEYS = st.sampled_from(["spec", "cluster", "name", "instances", "type", "pgbouncer", "poolMode", "parameters",
                         "connectionPooler", "numberOfInstances", "maxDBConnections", "mode", "enableConnectionPooler",
                         "proxy", "pgBouncer", "config", "global", "databases", "users", "replicas", "port", "x"])
_TREES = st.recursive(_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                        st.dictionaries(_KEYS, inner, max_size=4)), max_leaves=20)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from([("postgresql.cnpg.io/v1", "Pooler"), ("acid.zalan.do/v1", "postgresql"),
                        ("postgres-operator.crunchydata.com/v1beta1", "PostgresCluster"),
                        ("pgv2.percona.com/v2", "PerconaPGCluster")]), _TREES)
def test_wrong_types_anywhere_never_raise(kind: tuple[str, str], tree: Any) -> None:
    for spec in (tree, {"proxy": {"pgBouncer": tree}, "enableConnectionPooler": True, "connectionPooler": tree,
                        "pgbouncer": tree, "cluster": tree}):
        obj = {"apiVersion": kind[0], "kind": kind[1], "metadata": {"name": "x"}, "spec": spec}
        for pooler in read_operator_poolers(obj, lambda keys: Loc("f", 1, 1), notices=[]):
            server_connections_per_replica(pooler)
