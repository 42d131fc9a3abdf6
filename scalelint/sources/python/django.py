"""Django: one connection per thread per database alias, from the settings the process loads.

Django keeps a connection per alias in thread-local storage and opens it on first use, so a
process holds at most ``threads × aliases`` (``CONN_MAX_AGE`` only decides whether they stay
open between requests). A psycopg pool (``OPTIONS["pool"]``, Django 5.1+) replaces the
per-thread connection of its alias by the pool's ``max_size``. Under an ASGI server or gevent /
eventlet workers every in-flight request is its own "thread": there is no bound.

The settings module is ``DJANGO_SETTINGS_MODULE`` from the container env, else the
``os.environ.setdefault("DJANGO_SETTINGS_MODULE", ...)`` of the application module, then of a
``wsgi.py`` / ``asgi.py``, then of any other file (``manage.py``, ``celery.py``).
"""
from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from scalelint.findings import Loc, Notice
from scalelint.model import State, Val, default, known, unknown
from scalelint.sources.python.interp import Interp
from scalelint.sources.python.others import psycopg_pool_size
from scalelint.sources.python.pools import add, as_count
from scalelint.sources.python.values import DictObj, V, is_unknown, kn, truth

__all__ = ["NEEDLES", "Alias", "DjangoSettings", "concurrency_reason", "read_django"]

ASGI_SERVERS = frozenset({"uvicorn", "daphne", "hypercorn"})
_SETDEFAULT = re.compile(
    rb"""(?:setdefault\(\s*|\[\s*)["']DJANGO_SETTINGS_MODULE["']\s*(?:,|\]\s*=)\s*["']([\w.]+)["']""")
NEEDLES = (b"DJANGO_SETTINGS_MODULE",)


@dataclass
class Alias:
    name: str
    engine: str | None
    network: bool
    pool: Val[int] | None  # psycopg pool size when OPTIONS["pool"] is on
    conn_max_age: V
    loc: Loc | None


@dataclass
class DjangoSettings:
    """What the settings say about database connections."""

    module: str | None
    module_loc: Loc | None
    aliases: list[Alias] = field(default_factory=list)
    where: Loc | None = None
    unreadable: str | None = None  # why DATABASES could not be read
    notices: list[Notice] = field(default_factory=list)


def concurrency_reason(server: str | None, worker_class: str | None, app: str | None) -> str | None:
    """Why a Django process has no thread bound on its connections, or None for thread-bound servers."""
    wc = (worker_class or "").lower()
    if "uvicorn" in wc or "asgi" in wc:
        return f"Django under {worker_class} (ASGI) opens one connection per in-flight request"
    for green in ("gevent", "eventlet"):
        if green in wc:
            return f"Django under {green} workers opens one connection per greenlet (in-flight request)"
    if server and server.lower() in ASGI_SERVERS:
        return f"Django under {server.lower()} opens one connection per in-flight request"
    if app and re.search(r"(^|\.)asgi(:|$)", app):
        return f"Django served as ASGI ({app}) opens one connection per in-flight request"
    return None


def _settings_module(interp: Interp, env: Mapping[str, Val[str]], app_module: str | None,
                     notices: list[Notice]) -> tuple[str | None, Loc | None]:
    """The settings module the process loads and where that is said (env entry or ``setdefault`` call)."""
    given = env.get("DJANGO_SETTINGS_MODULE")
    if given is not None:
        if given.known and isinstance(given.value, str) and given.value:
            return given.value, given.loc
        notices.append(Notice(f"DJANGO_SETTINGS_MODULE not known ({given.reason or 'empty'}); "
                              "using the default the code sets", *(_at(given.loc))))
    tree = interp.tree
    files = list(tree.grep(NEEDLES))
    app_file = tree.module_file(app_module) if app_module else None

    def order(rel: str) -> tuple[int, str]:
        base = os.path.basename(rel)
        return (0 if rel == app_file else 1 if base in ("wsgi.py", "asgi.py") else 2 if base != "manage.py" else 3,
                rel)

    for rel in sorted(files, key=order):
        data = tree.raw(rel) or b""
        match = _SETDEFAULT.search(data)
        if match:
            line = data.count(b"\n", 0, match.start(1)) + 1
            column = match.start(1) - (data.rfind(b"\n", 0, match.start(1)) + 1) + 1
            return match.group(1).decode("ascii"), Loc(tree.display(rel), line, column)
    return None, None


def _at(loc: Loc | None) -> tuple[str, int, int]:
    return (loc.path, loc.line, loc.column) if loc else ("", 0, 0)


def _alias(name: str, entry: V, where: Loc | None, notices: list[Notice]) -> Alias:
    """One DATABASES entry: whether it reaches a network database, its pool and its CONN_MAX_AGE."""
    if is_unknown(entry) or not isinstance(entry.value, DictObj):
        return Alias(name, None, True, None, entry, entry.loc or where)
    items = entry.value.items
    engine_v = items.get("ENGINE")
    age = items.get("CONN_MAX_AGE") or kn(0, entry.loc, State.DEFAULT, "Django default CONN_MAX_AGE 0")
    if engine_v is None:
        notices.append(Notice(f"DATABASES[{name!r}] has no ENGINE (an unset DATABASE_URL?): not counted",
                              *_at(entry.loc)))
        return Alias(name, None, False, None, age, entry.loc)
    if is_unknown(engine_v) or not isinstance(engine_v.value, str):
        notices.append(Notice(f"DATABASES[{name!r}] ENGINE not known ({engine_v.reason}): counted as a network "
                              "database", *_at(engine_v.loc)))
        return Alias(name, None, True, None, age, entry.loc)
    engine = engine_v.value
    network = not any(word in engine for word in ("sqlite", "spatialite", "dummy"))
    pool: Val[int] | None = None
    options = items.get("OPTIONS")
    if options is not None and isinstance(options.value, DictObj) and "pool" in options.value.items:
        setting = options.value.items["pool"]
        loc = setting.loc or entry.loc or Loc("")
        if isinstance(setting.value, DictObj):
            pool = psycopg_pool_size(setting.value.items, loc, f"DATABASES[{name!r}] OPTIONS pool")
        elif truth(setting):
            pool = default(4, loc, "OPTIONS pool=True: psycopg_pool default size 4")
        elif is_unknown(setting):
            pool = unknown(loc, f"OPTIONS pool not known: {setting.reason}")
    return Alias(name, engine, network, pool, age, entry.loc)


def read_django(interp: Interp, env: Mapping[str, Val[str]], app_module: str | None) -> DjangoSettings | None:
    """The database aliases of the Django settings the process loads; None when the tree is not Django."""
    notices: list[Notice] = []
    module, module_loc = _settings_module(interp, env, app_module, notices)
    if module is None:
        return None
    result = DjangoSettings(module, module_loc, notices=notices)
    state = interp.load(module)
    if state is None:
        result.unreadable = f"settings module {module} is not in the build context (or does not parse)"
        return result
    databases = state.ns.get("DATABASES")
    if databases is None:
        notices.append(Notice(f"{module} sets no DATABASES: Django opens no database connection", *_at(module_loc)))
        return result
    result.where = databases.loc
    if is_unknown(databases) or not isinstance(databases.value, DictObj):
        result.unreadable = f"DATABASES not readable: {databases.reason or 'not a dict'}"
        return result
    for name, entry in databases.value.items.items():
        result.aliases.append(_alias(str(name), entry, databases.loc, notices))
    if databases.value.partial:
        result.unreadable = "DATABASES has aliases whose names cannot be read"
    return result


def per_process(settings: DjangoSettings, threads: int | None) -> tuple[Val[int], Val[int], bool | None, V | None]:
    """(connections per thread, per process, persistent, the first alias's CONN_MAX_AGE)."""
    where = settings.where or settings.module_loc
    if settings.unreadable:
        bad = unknown(where, settings.unreadable)
        return bad, bad, None, None
    network = [a for a in settings.aliases if a.network]
    plain = [a for a in network if a.pool is None]
    per_thread = known(len(plain), where)
    threads_n = threads if threads else 1
    threaded = Val(threads_n * len(plain), where, State.KNOWN)
    total = add([threaded, *[a.pool for a in network if a.pool is not None]], where)
    persistent: bool | None = False
    for alias in network:
        age = alias.conn_max_age
        if is_unknown(age):
            persistent = None if persistent is False else persistent
        elif age.value is None or (isinstance(age.value, (int, float)) and age.value > 0):
            persistent = True
        elif isinstance(age.value, str):
            count = as_count(age, "CONN_MAX_AGE", where or Loc(""))
            if count is not None and count.known and (count.value or 0) > 0:
                persistent = True
    age_v = network[0].conn_max_age if network else None
    return per_thread, total, persistent, age_v
