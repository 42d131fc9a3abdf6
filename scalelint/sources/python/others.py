"""Pools outside SQLAlchemy and Django: asyncpg, psycopg_pool, psycopg2, databases, aiopg, aiomysql, Tortoise.

Each is a ceiling on connections per process, from its own size argument or its documented
default: asyncpg ``create_pool`` ``max_size`` 10; psycopg_pool ``max_size`` (``None`` means
``min_size``, default 4); psycopg2 ``maxconn`` (required); databases ``max_size`` (argument or
URL query, else the asyncpg/aiomysql default 10); aiopg and aiomysql ``maxsize`` 10; Tortoise
``maxsize`` per connection (credentials or URL query, default 5). Tortoise's ``init`` and
``register_tortoise`` configure a global and always count.
"""
from __future__ import annotations

from scalelint.findings import Loc, Notice
from scalelint.model import Val, default, unknown
from scalelint.sources.python.interp import Interp
from scalelint.sources.python.pools import Pool, add, as_count, is_sqlite, query_int, url_text
from scalelint.sources.python.sites import Scan, Site, counts
from scalelint.sources.python.values import DictObj, Ref, V, is_unknown

__all__ = ["find_other_pools"]

NEEDLES = (b"create_pool", b"ConnectionPool", b"import databases", b"databases import", b"Tortoise",
           b"register_tortoise", b"aiopg", b"aiomysql")
_NAMES = frozenset({"create_pool", "ConnectionPool", "AsyncConnectionPool", "SimpleConnectionPool",
                    "ThreadedConnectionPool", "Database", "init", "register_tortoise", "RegisterTortoise",
                    "create_engine"})
# qualname -> (library, size argument, its position, default, default's documentation)
_POOLS: dict[str, tuple[str, str, int | None, int | None, str]] = {
    "asyncpg.create_pool": ("asyncpg", "max_size", None, 10, "asyncpg create_pool default max_size 10"),
    "asyncpg.pool.create_pool": ("asyncpg", "max_size", None, 10, "asyncpg create_pool default max_size 10"),
    "aiopg.create_pool": ("aiopg", "maxsize", None, 10, "aiopg create_pool default maxsize 10"),
    "aiopg.sa.create_engine": ("aiopg", "maxsize", None, 10, "aiopg create_engine default maxsize 10"),
    "aiomysql.create_pool": ("aiomysql", "maxsize", None, 10, "aiomysql create_pool default maxsize 10"),
    "aiomysql.sa.create_engine": ("aiomysql", "maxsize", None, 10, "aiomysql create_engine default maxsize 10"),
    "psycopg2.pool.SimpleConnectionPool": ("psycopg2", "maxconn", 1, None, ""),
    "psycopg2.pool.ThreadedConnectionPool": ("psycopg2", "maxconn", 1, None, ""),
}
_PSYCOPG_POOLS = frozenset({"psycopg_pool.ConnectionPool", "psycopg_pool.AsyncConnectionPool",
                            "psycopg_pool.NullConnectionPool", "psycopg_pool.AsyncNullConnectionPool"})
_TORTOISE = frozenset({"tortoise.Tortoise.init", "tortoise.contrib.fastapi.register_tortoise",
                       "tortoise.contrib.fastapi.RegisterTortoise", "tortoise.contrib.starlette.register_tortoise",
                       "tortoise.contrib.aiohttp.register_tortoise", "tortoise.contrib.quart.register_tortoise",
                       "tortoise.contrib.sanic.register_tortoise"})


def psycopg_pool_size(kwargs: dict[str, V], where: Loc, what: str) -> Val[int]:
    """psycopg_pool: ``max_size`` when given (and not None), else ``min_size`` (its default 4)."""
    given = kwargs.get("max_size")
    size = None if given is None or (not is_unknown(given) and given.value is None) else \
        as_count(given, "max_size", where)
    if size is None:
        size = as_count(kwargs.get("min_size"), "min_size", where)
    return size or default(4, where, f"{what}: psycopg_pool default min_size 4 (max_size None = min_size)")


def _simple(qualname: str, args: list[V], kwargs: dict[str, V], where: Loc) -> Pool:
    """Pools whose size is one argument with a documented default."""
    library, arg, position, fallback, doc = _POOLS[qualname]
    given = kwargs.get(arg)
    if given is None and position is not None and len(args) > position:
        given = args[position]
    size = as_count(given, arg, where)
    if size is None:
        size = default(fallback, where, doc) if fallback is not None else unknown(where, f"{arg} not given")
    return Pool(library, size, where, pool_size=size)


def _databases(args: list[V], kwargs: dict[str, V], where: Loc) -> Pool | None:
    url = url_text(args[0] if args else kwargs.get("url"))
    if is_sqlite(url):
        return None
    size = as_count(kwargs.get("max_size"), "max_size", where) or query_int(url, "max_size", where, where) \
        or default(10, where, "databases passes no max_size: the driver's default pool of 10")
    return Pool("databases", size, where, pool_size=size)


def _tortoise_connection(value: V, where: Loc, name: str) -> Val[int] | None:
    """One entry of Tortoise's ``connections``: a URL string or ``{"engine", "credentials"}``."""
    if is_unknown(value):
        return unknown(value.loc or where, f"Tortoise connection {name}: {value.reason}")
    if isinstance(value.value, str):
        if is_sqlite(value.value):
            return None
        return query_int(value.value, "maxsize", value.loc or where, where) or default(
            5, value.loc or where, "Tortoise default maxsize 5")
    if isinstance(value.value, DictObj):
        engine = value.value.items.get("engine")
        if engine is not None and isinstance(engine.value, str) and "sqlite" in engine.value:
            return None
        creds = value.value.items.get("credentials")
        if creds is not None and isinstance(creds.value, DictObj):
            found = as_count(creds.value.items.get("maxsize"), "maxsize", creds.loc or where)
            if found is not None:
                return found
        return default(5, value.loc or where, "Tortoise default maxsize 5")
    return unknown(value.loc or where, f"Tortoise connection {name} not readable")


def _tortoise(args: list[V], kwargs: dict[str, V], where: Loc) -> Pool | None:
    """Tortoise opens one pool per configured connection; SQLite connections are not clients."""
    config = kwargs.get("config")
    sizes: list[Val[int]] = []
    if config is not None and isinstance(config.value, DictObj):
        connections = config.value.items.get("connections")
        if connections is None or not isinstance(connections.value, DictObj):
            return Pool("tortoise", unknown(config.loc or where, "Tortoise config connections not readable"), where)
        for name, value in connections.value.items.items():
            size = _tortoise_connection(value, where, str(name))
            if size is not None:
                sizes.append(size)
    elif "db_url" in kwargs:
        size = _tortoise_connection(kwargs["db_url"], where, "db_url")
        if size is not None:
            sizes.append(size)
    elif config is not None or "config_file" in kwargs:
        return Pool("tortoise", unknown(where, "Tortoise config not readable"), where)
    else:
        return None
    if not sizes:
        return None
    total = add(sizes, where)
    return Pool("tortoise", total, where, pool_size=total)


def find_other_pools(interp: Interp, scan: Scan) -> tuple[list[Pool], list[Notice]]:
    """asyncpg, psycopg, databases, aiopg/aiomysql and Tortoise pools the serving process keeps."""
    pools: list[Pool] = []
    notices: list[Notice] = []
    for site, fv in scan.sites(NEEDLES, _NAMES):
        if not isinstance(fv.value, Ref):
            continue
        qualname = fv.value.qualname
        tortoise = qualname in _TORTOISE
        if qualname not in _POOLS and qualname not in _PSYCOPG_POOLS and qualname != "databases.Database" \
                and not tortoise:
            continue
        what = qualname.rpartition(".")[2]
        reason = scan.skip_reason(site, always=tortoise)
        if reason:
            scan.skipped(site, what, reason)
            continue
        pool = _pool(interp, site, qualname)
        if pool is None:
            scan.skipped(site, what, "SQLite: not a network database")
            continue
        pool.why = f"{what}: {'configures the ORM' if tortoise else counts(site)[1]}"
        pool.reachable = scan.reachable(site)
        pools.append(pool)
    return pools, notices


def _pool(interp: Interp, site: Site, qualname: str) -> Pool | None:
    """The pool built at ``site``, by library."""
    where = site.source.loc(site.call)
    frame = interp.frame_at(site.source, site.chain, site.call)
    args, kwargs = interp.call_arguments(site.call, frame)
    if "**" in kwargs:
        return Pool(qualname.partition(".")[0], unknown(where, "pool arguments passed as **kwargs not readable"),
                    where)
    if qualname in _POOLS:
        return _simple(qualname, args, kwargs, where)
    if qualname in _PSYCOPG_POOLS:
        size = psycopg_pool_size(kwargs, where, qualname.rpartition(".")[2])
        return Pool("psycopg_pool", size, where, pool_size=size)
    if qualname == "databases.Database":
        return _databases(args, kwargs, where)
    return _tortoise(args, kwargs, where)
