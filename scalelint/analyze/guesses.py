"""What one client process holds when neither the manifest nor the application's source says.

:func:`scalelint.analyze.links.pool` reads the pool settings a workload writes down, and SQLAlchemy's
defaults (5 + 10) stand in for what it leaves unset. That stand-in is only right for a SQLAlchemy
app. Here the evidence in the command line and the URL decides what to assume instead:

- a program that is plainly not a Python app (``psql``, a JVM, node) sets no pool: unknown;
- a Django app (``proj.wsgi:application``, ``manage.py``, ``DJANGO_SETTINGS_MODULE``) holds one
  connection per thread and database alias: threads × 1 alias under a sync server, unbounded under
  an ASGI one (unknown, never 5 + 10);
- a Rails app (``rails``/``puma`` on the command line, ``RAILS_*`` env) holds ActiveRecord's pool:
  the ``pool:`` of ``config/database.yml``, which Rails generates as ``RAILS_MAX_THREADS`` (5 when
  unset) per process, with no overflow;
- a bare pool size on an app with no sign of SQLAlchemy (Hikari, Ecto, node-postgres have no
  overflow) is taken as the whole cap, not size + 10.

Each assumption says so in its reason, and rules and ``report`` repeat it.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping

from scalelint.analyze.links import Endpoint, Pool
from scalelint.analyze.workers import Workers
from scalelint.model import Container, State, Val, assumed, default, known, unknown

#: programs that connect without SQLAlchemy: assuming its 5 + 10 pool for them would be a guess
NON_PYTHON_CLIENTS = frozenset({
    "psql", "pgbench", "pg_dump", "pg_dumpall", "pg_restore", "pg_isready", "mysql", "mysqladmin", "mysqldump",
    "java", "node", "npm", "npx", "yarn", "bun", "deno", "dotnet", "ruby", "bundle", "rails", "php", "sleep",
})

_DJANGO_APP = re.compile(r"^[\w.]+\.(?:wsgi|asgi)(?::application)?$")


def guess_pool(p: Pool, c: Container, w: Workers, env: Mapping[str, Val[str]], ep: Endpoint, sourced: bool) -> Pool:
    """``p`` as read from the workload, with its SQLAlchemy stand-ins replaced where the evidence says
    the client is something else. ``sourced``: the application's source was read (it decided already)."""
    program = c.argv[0].rsplit("/", 1)[-1] if c.argv else ""
    if p.assumed and not sourced:
        odd = _pool_like(env, p)
        if odd is not None:
            # the application sizes its pool from a variable scalelint does not know: 5 + 10 would hide it
            why = (f"{odd[0]}={odd[1]} looks like a pool setting scalelint does not read: name it in pool-env "
                   "(size or max-overflow), or let scalelint read the application's source")
            return Pool(unknown(c.loc, why), unknown(c.loc, why), None, p.size_name, p.overflow_name)
    rails = _rails(c.argv, env) if p.assumed and not sourced else None
    if rails:
        return _rails_pool(p, c, env, rails)
    if p.assumed and not w.app and not c.default_command and program in NON_PYTHON_CLIENTS:
        # psql, a JVM, node: SQLAlchemy's pool does not apply, and nothing says what does
        why = f"{c.name} runs {program}, not a Python app, and sets no pool size"
        return Pool(unknown(c.loc, why), unknown(c.loc, why), None, p.size_name, p.overflow_name)
    scheme = scheme_of(env.get(ep.var)) or ""
    django = _django(c.argv, env) if "+" not in scheme else None  # a +driver URL is SQLAlchemy's form
    if p.assumed and not sourced and django:
        return _django_pool(p, c, w, django)
    python = (w.server in _PYTHON_SERVERS or sourced or "+" in scheme or program.startswith("python")
              or any(k.startswith(_PYTHON_ENV) for k in env)
              or p.overflow.state is State.KNOWN)  # "max overflow" is SQLAlchemy's own word
    if p.assumed and not python and p.size.state is State.ASSUMED and p.limit is None:
        # SQLAlchemy's 5 + 10 is a guess about a Python app; for a Go, Node or shell client it is no better
        # than any other number, and a budget error built on it would be wrong
        runs = "the image's own command" if c.default_command or not program else program
        why = (f"nothing shows {c.name} is a Python app using SQLAlchemy (it runs {runs}), and it sets no pool "
               "size: its connections per process are unknown")
        return Pool(unknown(c.loc, why), unknown(c.loc, why), None, p.size_name, p.overflow_name)
    if not python and p.size.state is State.KNOWN and p.overflow.state is State.ASSUMED and p.limit is None:
        # a bare pool size on an app not known to use SQLAlchemy (Hikari, Ecto, node-postgres): those
        # pools have no overflow, so the size is taken as the whole cap rather than adding 10
        return dataclasses.replace(p, overflow=assumed(0, None, "no max overflow set, and nothing shows "
                                   f"{c.name} uses SQLAlchemy: its pool size is taken as its whole cap"))
    return p


def _django_pool(p: Pool, c: Container, w: Workers, django: str) -> Pool:
    """One connection per thread and database alias: with the settings out of reach, a sync server's
    threads × 1 alias; under an ASGI server (a thread per request) nothing bounds it: unknown."""
    t = w.threads
    if t is None and w.server in ("gunicorn", "uwsgi"):
        t = _threads_flag(c) or default(1, c.loc, f"{w.server}'s default: 1 thread")
    if t is not None and t.known and t.value and "asgi" not in django and "Uvicorn" not in " ".join(c.argv):
        n = int(t.value)
        zero = default(0, c.loc, "")
        limit = assumed(n, t.loc, f"{django} is a Django app: one connection per thread and database "
                                  "alias, 1 alias assumed (its settings are not in the files linted)")
        return Pool(zero, zero, limit, p.size_name, p.overflow_name,
                    text=f"{n} {'thread' if n == 1 else 'threads'} × 1 alias assumed, Django", library="Django")
    why = f"{c.name} serves the Django app {django}, and its settings are not in the files linted"
    return Pool(unknown(c.loc, why), unknown(c.loc, why), None, p.size_name, p.overflow_name)


#: a variable that sizes a database connection pool, by its name: DB_POOL_MAX_SIZE, POOL_CONNS,
#: DATABASE_MAX_CONNECTIONS; not one of another client's pool (Redis, a broker, HTTP) or a server's own
_POOL_LIKE = re.compile(r"POOL|(?:DB|DATABASE|SQL|PG)\w*(?:MAX_CONN|CONNECTIONS)")
_OTHER_POOLS = re.compile(r"REDIS|CELERY|BROKER|AMQP|RABBIT|MONGO|ELASTIC|CACHE|HTTP|KAFKA|THREAD|WORKER|PGBOUNCER"
                          r"|^POSTGRES")


def _pool_like(env: Mapping[str, Val[str]], p: Pool) -> tuple[str, str] | None:
    """A numeric variable whose name says it sizes a database pool, other than the ones already read."""
    read = {p.size_name, p.overflow_name}
    for name in sorted(env):
        upper = name.upper()
        if name in read or not _POOL_LIKE.search(upper) or _OTHER_POOLS.search(upper):
            continue
        val = env[name]
        if val.known and str(val.value).strip().isdigit():
            return name, str(val.value).strip()
    return None


_RAILS_PROGRAMS = frozenset({"rails", "puma", "unicorn", "passenger"})
#: servers that run Python applications (SQLAlchemy's defaults are a fair guess for their pools)
_PYTHON_SERVERS = frozenset({"gunicorn", "uvicorn", "hypercorn", "granian", "uwsgi", "celery", "fastapi", "daphne"})
#: variables only a Python program reads
_PYTHON_ENV = ("PYTHON", "FLASK_", "SQLALCHEMY_", "UVICORN_", "GUNICORN_", "DJANGO_")


def _rails(argv: list[str], env: Mapping[str, Val[str]]) -> str | None:
    """What shows a container runs a Rails app: ``bin/rails server``, ``puma``, a ``RAILS_*`` variable."""
    for token in argv[:4]:  # the program, or the one `bundle exec` / `sh -c` runs
        if token.rsplit("/", 1)[-1] in _RAILS_PROGRAMS:
            return f"runs {token}"
    names = sorted(k for k in env if k.startswith("RAILS_"))
    return f"sets {names[0]}" if names else None


def _rails_pool(p: Pool, c: Container, env: Mapping[str, Val[str]], evidence: str) -> Pool:
    """ActiveRecord's pool per process: ``pool: <%= ENV.fetch("RAILS_MAX_THREADS") { 5 } %>`` is what
    ``rails new`` writes in config/database.yml (railties' database.yml templates); no overflow."""
    zero = default(0, c.loc, "")
    threads = env.get("RAILS_MAX_THREADS")
    where = f"{c.name} {evidence}, a Rails app: ActiveRecord's pool is the `pool:` of config/database.yml"
    if threads is not None and threads.known and str(threads.value).strip().isdigit():
        n = int(str(threads.value).strip())
        limit = assumed(n, threads.loc, f"{where}, which Rails generates as RAILS_MAX_THREADS ({n}); "
                                        "that file is not in the files linted")
        text = f"RAILS_MAX_THREADS {n} assumed, ActiveRecord"
    elif threads is not None:
        why = f"{where}; RAILS_MAX_THREADS is {threads.value!r}" if threads.known else \
            f"{where}; RAILS_MAX_THREADS is not known"
        return Pool(unknown(threads.loc or c.loc, why), unknown(threads.loc or c.loc, why), None,
                    p.size_name, p.overflow_name)
    else:
        limit = assumed(5, c.loc, f"{where}, which Rails generates as RAILS_MAX_THREADS, 5 when unset; "
                                  "that file is not in the files linted")
        text = "5 assumed, ActiveRecord"
    return Pool(zero, zero, limit, p.size_name, p.overflow_name, text=text, library="ActiveRecord")


def _threads_flag(c: Container) -> Val[int] | None:
    """``--threads N`` / ``--threads=N`` of a gunicorn or uwsgi command line (unknown when not a number)."""
    for i, token in enumerate(c.argv):
        value = token.split("=", 1)[1] if token.startswith("--threads=") else (
            c.argv[i + 1] if token == "--threads" and i + 1 < len(c.argv) else None)
        if value is not None:
            where = c.argv_locs[i] if i < len(c.argv_locs) else c.loc
            return known(int(value), where) if value.isdigit() else unknown(where, f"--threads {value}")
    return None


def _django(argv: list[str], env: Mapping[str, Val[str]]) -> str | None:
    """The Django app a command serves (``proj.wsgi:application``, ``manage.py``), if it plainly is one."""
    for token in argv:
        if _DJANGO_APP.match(token) or token.endswith("manage.py"):
            return token
    settings = env.get("DJANGO_SETTINGS_MODULE")
    return f"(DJANGO_SETTINGS_MODULE {settings.value})" if settings is not None and settings.known else None


def scheme_of(url: Val[str] | None) -> str | None:
    """``postgresql+asyncpg`` of a database URL, lower-cased; None when the value is no URL."""
    text = str(url.value) if url is not None and url.value else ""
    return text.split("://", 1)[0].lower() if "://" in text else None
