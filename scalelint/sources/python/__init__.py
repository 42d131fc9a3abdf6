"""How many database connections one worker process of a Python service may hold (SPEC §8).

:func:`read_connections` reads the Python source of a build context with :mod:`ast` only:
nothing is imported, executed or written. It finds the engines and pools the serving process
builds (SQLAlchemy, SQLModel, Flask-SQLAlchemy, asyncpg, psycopg_pool, psycopg2, databases,
aiopg, aiomysql, Tortoise) or the Django settings it loads, follows their settings through
constants, imports, env readers and helper functions with the container env, and answers with
located, status-carrying values. The modules:

- :mod:`.tree` files, module names, one read and one parse per file, skip rules;
- :mod:`.values`, :mod:`.evaluator`, :mod:`.statements`, :mod:`.interp` the symbolic evaluator;
- :mod:`.libs`, :mod:`.configlibs` the library calls it understands (os, environs, decouple,
  django-environ, dj-database-url, pydantic settings, configparser);
- :mod:`.sites` which calls count; :mod:`.sqlalchemy`, :mod:`.others`, :mod:`.django` the readers;
- :mod:`.requirements` library versions from requirements / pyproject / setup.cfg / Pipfile / locks.

Decisions the SPEC leaves open (to be copied to the README by its owner):

- **Which pools count** (:mod:`.sites`): not tests/migrations/scripts/management commands, not
  ``__main__`` blocks or modules that exit or loop at import (``ping.py``), only modules the
  application imports when ``app`` is given, and inside functions only pools that outlive the
  call (returned, yielded, stored on an attribute, global). Throw-away pools get a notice.
- **Several pools in one process are summed** (each can be full at once), with a notice; Django
  aliases and extra pools add up the same way. ``SQLALCHEMY_BINDS`` engines are not added (they
  reach other databases): a notice says so.
- **The env is the container's whole env**: a name absent from it is unset; a value that is
  unknown (a Secret) makes what depends on it unknown. ``.env`` files, decouple's
  ``settings.ini`` and pydantic's ``env_file`` are not read (usually kept out of images).
- **Branches**: decided against the env when possible. Otherwise a name assigned on one side
  only keeps that value (the name would not exist otherwise) and one assigned differently on
  both sides is unknown, with the condition's location. Loops are not run: what they assign
  is unknown. In a function holding a pool, its simple assignments before the call are run in
  order whatever branch they sit in, and its parameters take their defaults.
- **Flask-SQLAlchemy version**: from the first exact pin (requirements*.txt first, production
  lists before dev/test ones, then pyproject, setup.cfg, Pipfile, then poetry.lock / uv.lock);
  a range bounded below 3 is 2.x; unpinned is read as the current 3.x, with a notice. Config
  keys are collected from config modules and classes (``*Test*`` classes and modules ignored,
  ``*prod*`` preferred, ``app.config[...]`` / ``app.config.update`` highest). The MySQL default
  of 2.x applies when ``db_scheme`` (or a readable ``SQLALCHEMY_DATABASE_URI``) starts with
  ``mysql``; an unknown URL is read as not MySQL, with a notice.
- **Django**: per process = threads × aliases that reach a network database (SQLite, SpatiaLite
  and dummy aliases are not clients; an alias whose ENGINE is unknown counts, with a notice)
  + the ``max_size`` of aliases with ``OPTIONS["pool"]``. ``threads`` None is 1. Under uvicorn,
  daphne, hypercorn, an ASGI worker class, an ``*.asgi`` application, or gevent/eventlet workers,
  aliases without a pool are unbounded; pooled aliases stay bounded. ``persistent``: any
  network alias with ``CONN_MAX_AGE`` None or > 0. The settings module: ``DJANGO_SETTINGS_MODULE``
  from the env, else the ``os.environ.setdefault`` of the application module, a ``wsgi.py`` /
  ``asgi.py``, then other files (``manage.py`` last); ``module_files`` maps a module to the file
  an image copies there.
- **Effective use** (``effective``): the ceiling for async and greenlet servers, ``min(ceiling,
  threads × pools)`` for threaded ones, None when no thread count is given.
- **Locations**: a number read from the source points at the literal (or the env entry) it
  came from; a library default points at the call that takes it (SQLAlchemy 5 + 10 at
  ``create_engine``), at the pin that selects it (Flask-SQLAlchemy 2.x MySQL 10) or at the
  setting left ``None`` (Redash's ``SQLALCHEMY_POOL_SIZE``); Django's ``where`` is the
  ``DATABASES`` value.
- **Limits**: ``.py`` files above 2 MB are skipped with a notice; expression depth 60, helper
  call depth 8, import depth 25, 400,000 evaluation steps per call; anything beyond is unknown.

Not handled (unknown or not counted, never guessed): pools built through ``**kwargs`` that are
not readable, ``Flask.config.from_pyfile`` / ``from_envvar`` / ``from_prefixed_env``,
django-db-connection-pool's ``POOL_OPTIONS``, engines per request (``Depends`` on a factory),
SQLAlchemy ``QueuePool`` instantiated by hand, Celery/RQ task concurrency.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from scalelint.findings import Loc, Notice
from scalelint.model import State, Val, unknown
from scalelint.sources.python import django as _django
from scalelint.sources.python.interp import Interp
from scalelint.sources.python.others import NEEDLES as OTHER_NEEDLES
from scalelint.sources.python.others import find_other_pools
from scalelint.sources.python.pools import Pool, add
from scalelint.sources.python.sites import Scan
from scalelint.sources.python.sqlalchemy import NEEDLES as SQLALCHEMY_NEEDLES
from scalelint.sources.python.sqlalchemy import find_sqlalchemy
from scalelint.sources.python.tree import SourceTree

__all__ = ["Connections", "Pool", "app_module", "read_connections"]

#: everything the readers grep for, found in one pass over the tree
GREP_NEEDLES = frozenset({*SQLALCHEMY_NEEDLES, *OTHER_NEEDLES, *_django.NEEDLES, b"SQLALCHEMY_"})


@dataclass
class Connections:
    """Connections one worker process may hold, and where each number comes from.

    ``per_process`` is the ceiling (unknown, with the reason, when it cannot be read or has no
    bound: then ``unbounded`` says why). ``effective`` is what the process's concurrency lets it
    use at once (``min(ceiling, threads × pools)`` for a threaded server; the ceiling for async
    and greenlet servers; None when the caller gave no thread count)."""

    library: str | None
    pool_size: Val[int] | None
    max_overflow: Val[int] | None
    per_thread: Val[int] | None
    per_process: Val[int]
    unbounded: str | None
    persistent: bool | None
    where: Loc | None
    notices: list[Notice] = field(default_factory=list)
    conn_max_age: Val[object] | None = None  # Django CONN_MAX_AGE (value None: persistent without limit)
    effective: Val[int] | None = None
    pools: list[Pool] = field(default_factory=list)
    settings_module: Val[str] | None = None  # Django settings module used


def app_module(app: str | None) -> str | None:
    """The module of an application spec: ``app.main:app`` → ``app.main``, ``CTFd:create_app()`` → ``CTFd``."""
    if not app:
        return None
    module = app.split(":", 1)[0].strip()
    module = module.removesuffix("()")
    return module or None


def _async(server: str | None, worker_class: str | None) -> bool:
    wc = (worker_class or "").lower()
    return bool((server or "").lower() in _django.ASGI_SERVERS or any(
        w in wc for w in ("uvicorn", "asgi", "gevent", "eventlet", "tornado", "aiohttp")))


def _from_pools(pools: list[Pool], threads: int | None, concurrent: bool, notices: list[Notice]) -> Connections:
    """Pools only: their sum, the first unbounded one's reason, and what the concurrency lets a process use."""
    pools = sorted(pools, key=lambda p: (p.where.path, p.where.line, p.where.column))
    where = pools[0].where
    libraries = list(dict.fromkeys(p.library for p in pools))
    if len(pools) > 1:
        listed = ", ".join(f"{p.library} at {p.where}" for p in pools)
        notices.append(Notice(f"{len(pools)} pools in one process, counted together: {listed}",
                              where.path, where.line, where.column))
    unbounded = next((p.unbounded for p in pools if p.unbounded), None)
    if unbounded:
        bound = next(p for p in pools if p.unbounded)
        total: Val[int] = unknown(bound.total.loc or bound.where, unbounded)
    else:
        total = pools[0].total if len(pools) == 1 else add([p.total for p in pools], where)

    def summed(values: list[Val[int] | None]) -> Val[int] | None:
        if any(v is None for v in values):
            return None
        present = [v for v in values if v is not None]
        return present[0] if len(present) == 1 else add(present, where)

    effective: Val[int] | None = None
    if not unbounded and total.known and total.value is not None:
        if concurrent:
            effective = total
        elif threads:
            effective = Val(min(total.value, threads * len(pools)), total.loc, total.state, total.reason)
    return Connections(
        library="+".join(libraries), pool_size=summed([p.pool_size for p in pools]),
        max_overflow=summed([p.max_overflow for p in pools]), per_thread=None, per_process=total,
        unbounded=unbounded, persistent=not any(p.unbounded and "NullPool" in p.unbounded for p in pools),
        where=where, notices=notices, effective=effective, pools=pools)


def _from_django(settings: _django.DjangoSettings, pools: list[Pool], threads: int | None, reason: str | None,
                 notices: list[Notice]) -> Connections:
    """Django aliases × threads, plus any pools the same process builds (summed, with a notice)."""
    per_thread, total, persistent, age = _django.per_process(settings, threads)
    notices.extend(settings.notices)
    network = [a for a in settings.aliases if a.network]
    where = settings.where or settings.module_loc
    if settings.aliases and not network and not settings.unreadable:
        notices.append(Notice(f"Django settings {settings.module} use only SQLite: no network database",
                              *(_at(where))))
    unbounded = reason if reason and any(a.pool is None for a in network) else None
    if unbounded:
        total = unknown(where, unbounded)
    if pools:
        listed = ", ".join(f"{p.library} at {p.where}" for p in pools)
        notices.append(Notice(f"Django aliases and {len(pools)} more pool(s) counted together: {listed}",
                              *(_at(where))))
        extra = next((p.unbounded for p in pools if p.unbounded), None)
        unbounded = unbounded or extra
        total = unknown(where, unbounded) if unbounded else add([total, *[p.total for p in pools]], where)
    module = Val(settings.module, settings.module_loc, State.KNOWN) if settings.module else None
    return Connections(
        library="django", pool_size=None, max_overflow=None, per_thread=per_thread, per_process=total,
        unbounded=unbounded, persistent=persistent, where=where, notices=notices,
        conn_max_age=age, effective=None if unbounded else total, pools=pools, settings_module=module)


def _at(loc: Loc | None) -> tuple[str, int, int]:
    return (loc.path, loc.line, loc.column) if loc else ("", 0, 0)


def _reachable(pools: list[Pool], notices: list[Notice]) -> list[Pool]:
    """Pools of modules the application imports win over the others (rule 3 of :mod:`.sites`)."""
    if not any(p.reachable for p in pools):
        return pools
    for pool in pools:
        if pool.reachable is False:
            notices.append(Notice(f"not counted: {pool.library} pool (its module is not imported by the "
                                  "application)", *_at(pool.where)))
    return [p for p in pools if p.reachable is not False]


def read_connections(root: str, env: Mapping[str, Val[str]], *, server: str | None = None,
                     worker_class: str | None = None, threads: int | None = None, app: str | None = None,
                     db_scheme: str | None = None, module_files: Mapping[str, str] | None = None) -> Connections:
    """Connections one worker process of the service built from ``root`` may hold.

    ``env`` is the container's env (manifest over Dockerfile ``ENV``): a name absent from it is
    unset. ``server`` (``gunicorn``, ``uvicorn``, ``uwsgi`` ...), ``worker_class`` (gunicorn
    ``-k``), ``threads`` and ``app`` (``pkg.module:attr``) describe how it is served;
    ``db_scheme`` is the scheme of the database URL the manifest gives (``mysql+pymysql``).
    ``module_files`` maps module names to files of the tree for images that copy a file to
    another path (taiga: ``{"settings.config": "docker/config.py"}``). Paths in locations are
    ``os.path.join(root, relative path)``. Nothing found: ``library`` is None and
    ``per_process`` unknown, for the caller to assume.
    """
    notices: list[Notice] = []
    if not os.path.isdir(root):
        return _nothing(f"{root} is not a directory", notices)
    tree = SourceTree(root, module_files, index=GREP_NEEDLES)
    try:
        return _read(tree, env, server, worker_class, threads, app, db_scheme, notices)
    except Exception as error:  # noqa: BLE001 - SPEC §6: hostile input never ends in a traceback
        notices.append(Notice(f"Python source not read: internal error {type(error).__name__}: {error} "
                              "(please report it)", root))
        return _nothing("the Python source could not be read", notices)
    finally:
        notices[:0] = [n for n in tree.notices if n not in notices]


def _read(tree: SourceTree, env: Mapping[str, Val[str]], server: str | None, worker_class: str | None,
          threads: int | None, app: str | None, db_scheme: str | None, notices: list[Notice]) -> Connections:
    """Django settings win when they name an alias (or cannot be read); pools otherwise."""
    interp = Interp(tree, env)
    module = app_module(app)
    scan = Scan(interp, module)
    settings = _django.read_django(interp, env, module)
    pools, found = find_sqlalchemy(interp, scan, db_scheme)
    others, more = find_other_pools(interp, scan)
    notices.extend(scan.notices + found + more)
    pools = _reachable(pools + others, notices)
    reason = _django.concurrency_reason(server, worker_class, app)
    if settings is not None and (settings.aliases or settings.unreadable or not pools):
        return _from_django(settings, pools, threads, reason, notices)
    if pools:
        return _from_pools(pools, threads, _async(server, worker_class), notices)
    return _nothing("no database engine, pool or Django settings found in the Python source", notices)


def _nothing(reason: str, notices: list[Notice]) -> Connections:
    return Connections(library=None, pool_size=None, max_overflow=None, per_thread=None,
                       per_process=unknown(None, reason), unbounded=None, persistent=None, where=None,
                       notices=notices)

