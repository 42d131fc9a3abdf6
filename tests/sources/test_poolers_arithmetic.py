"""SPEC §9 arithmetic: server connections per pooler replica and the client-side checks."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from scalelint.model import State
from scalelint.sources.poolers import (
    Pool,
    PoolerSettings,
    PoolUse,
    client_capacity,
    client_limit_exceeded,
    database_demand,
    parse_pgbouncer_ini,
    pgpool_server_connections,
    plan_pools,
    proxysql_server_connections,
    server_connections,
    server_connections_per_replica,
    session_starvation,
    settings_from_ini,
)


def _settings(text: str) -> PoolerSettings:
    return settings_from_ini(parse_pgbouncer_ini(text, "p.ini"), PoolerSettings("pgbouncer", "generic"))


def test_pools_times_pool_size_plus_reserve() -> None:
    pools = [Pool("app", "a", 20, 5, "transaction"), Pool("app", "b", 20, 5, "transaction")]
    assert server_connections(pools) == 2 * (20 + 5)
    assert server_connections([]) == 0


def test_capped_per_database_and_per_user() -> None:
    # 2 pools of one database × (20 + 5) = 50, max_db_connections = 40 → 40
    assert server_connections([Pool("app", u, 20, 5, "session", max_db_connections=40) for u in "ab"]) == 40
    # one user over two databases: 2 × 25 = 50, max_user_connections = 30 → 30
    assert server_connections([Pool(d, "u", 20, 5, "session", max_user_connections=30) for d in ("x", "y")]) == 30
    # both at once: db x allows 10, user u allows 15; pools (x,u) (x,v) (y,u) of 10 each:
    # x carries at most 10, u at most 15 → best is (x,v)=10 + (y,u)=10 = 20, not min(10 + 20, 15 + 10) = 25
    pools = [Pool("x", "u", 10, 0, "s", 10, 15), Pool("x", "v", 10, 0, "s", 10, 0), Pool("y", "u", 10, 0, "s", 0, 15)]
    assert server_connections(pools) == 20


def test_transaction_vs_session_mode() -> None:
    transaction = _settings("[pgbouncer]\npool_mode = transaction\ndefault_pool_size = 10\n[databases]\n* = host=db\n")
    # 200 clients in transaction mode share 10 server connections per replica; 2 replicas → 20
    per_replica = server_connections_per_replica(transaction, [PoolUse("app", "api")])
    assert per_replica.value == 10
    assert database_demand(200, 2, int(str(per_replica.value))) == 20
    # in session mode every client holds a server connection: 60 clients on 2 × (20 + 5) → 10 wait
    assert session_starvation(60, 20, 5, replicas=2) == 10
    assert session_starvation(50, 20, 5, replicas=2) == 0


def test_forced_user_versus_per_user_pools() -> None:
    uses = [PoolUse("app", user) for user in ("api", "worker", "cron")]
    per_user = _settings("[pgbouncer]\ndefault_pool_size = 20\nreserve_pool_size = 5\n[databases]\napp = host=db\n")
    forced = _settings("[pgbouncer]\ndefault_pool_size = 20\nreserve_pool_size = 5\n[databases]\n"
                       "app = host=db user=svc\n")
    assert server_connections_per_replica(per_user, uses).value == 3 * (20 + 5)
    assert server_connections_per_replica(forced, uses).value == 20 + 5
    # unknown users count as one pool
    assert server_connections_per_replica(per_user).value == 25


def test_user_and_database_overrides() -> None:
    settings = _settings("[pgbouncer]\ndefault_pool_size = 20\nmax_user_connections = 12\n[databases]\n"
                         "app = host=db pool_size=8 reserve_pool=2 max_db_connections=0\n[users]\n"
                         "etl = pool_size=3 max_user_connections=50\n")
    pools, _, _ = plan_pools(settings, [PoolUse("app", "etl"), PoolUse("app", "api")])
    assert {(p.user, p.pool_size, p.reserve_pool_size, p.max_user_connections) for p in pools} == {
        ("etl", 3, 2, 50), ("api", 8, 2, 12)}
    assert server_connections(pools) == (3 + 2) + (8 + 2)


def test_unlisted_database_is_refused_and_unknown_database_counts_largest() -> None:
    settings = _settings("[pgbouncer]\n[databases]\nsmall = host=db pool_size=5\nbig = host=db pool_size=50\n")
    assert server_connections_per_replica(settings, [PoolUse("other", "u")]).state is State.UNKNOWN
    cap = server_connections_per_replica(settings)
    assert cap.value == 50 and "largest pool" in cap.reason


def test_states_follow_the_inputs() -> None:
    written = _settings("[pgbouncer]\ndefault_pool_size = 20\nreserve_pool_size = 0\n")
    assert server_connections_per_replica(written).state is State.KNOWN
    defaulted = _settings("[pgbouncer]\n")
    assert server_connections_per_replica(defaulted).state is State.DEFAULT
    broken = _settings("[pgbouncer]\ndefault_pool_size = many\n")
    assert server_connections_per_replica(broken).state is State.UNKNOWN


def test_client_side() -> None:
    assert client_capacity(3, 100) == 300
    assert client_limit_exceeded(301, 3, 100) and not client_limit_exceeded(300, 3, 100)
    assert database_demand(12, 3, 20) == 12  # never more than its clients hold


def test_pgpool_and_proxysql() -> None:
    assert pgpool_server_connections(32, 4) == 128
    assert pgpool_server_connections(32, 15, backends=2) == 960
    assert proxysql_server_connections([100, 1000]) == 1100


@given(st.lists(st.tuples(st.sampled_from("xyz"), st.sampled_from("uvw"), st.integers(0, 30), st.integers(0, 10),
                          st.integers(0, 40), st.integers(0, 40)), max_size=8))
def test_flow_within_both_simple_bounds(rows: list[tuple[str, str, int, int, int, int]]) -> None:
    # one limit per database / per user, as PgBouncer has
    db_limit = {d: lim for d, _, _, _, lim, _ in rows}
    user_limit = {u: lim for _, u, _, _, _, lim in rows}
    pools = [Pool(d, u, s, r, "s", db_limit[d], user_limit[u]) for d, u, s, r, _, _ in rows]
    result = server_connections(pools)

    def bound(key: str) -> int:
        groups: dict[str, list[Pool]] = {}
        for p in pools:
            groups.setdefault(getattr(p, key), []).append(p)
        total = 0
        for items in groups.values():
            cap = sum(p.cap for p in items)
            limit = items[0].max_db_connections if key == "database" else items[0].max_user_connections
            total += min(cap, limit) if limit > 0 else cap
        return total

    assert 0 <= result <= min(bound("database"), bound("user"), sum(p.cap for p in pools))
