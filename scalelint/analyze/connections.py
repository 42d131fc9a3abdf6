"""Connections per worker process from the application's Python source (SPEC §8).

When a workload's env and database URL say nothing about its pool, its source may: SQLAlchemy's
``create_engine(pool_size=…)``, Flask-SQLAlchemy's config, Django's ``DATABASES`` (one connection
per thread and alias), asyncpg and friends (:mod:`scalelint.sources.python`). The source root is
the directory of the build context that the container's working directory comes from, so that
``app.main:app`` run in ``/app/backend`` finds ``backend/app/main.py``.
"""
from __future__ import annotations

import os
import posixpath
from collections.abc import Mapping
from typing import TYPE_CHECKING

from scalelint.analyze.launch import Found
from scalelint.analyze.links import Pool
from scalelint.findings import Notice
from scalelint.model import State, Val, default, known, unknown
from scalelint.sources.chain import Launch, Process

if TYPE_CHECKING:
    from scalelint.sources.python import Connections


def python_root(found: Found, launch: Launch, modules: list[str]) -> tuple[str, dict[str, str]]:
    """The tree the Python modules resolve in, and the modules the image copies somewhere else.

    Each module (the served app, the Django settings) is looked up at the container's working
    directory and mapped back through the Dockerfile's COPY; the first that maps where its name
    says gives the root; one that maps elsewhere (taiga's ``docker/config.py`` copied to
    ``settings/config.py``) is named in the returned map."""
    context = found.source.root
    workdir = launch.workdir or "/"
    root: str | None = None
    moved: dict[str, tuple[str, str]] = {}
    for module in modules:
        for rel in (module.replace(".", "/") + ".py", module.replace(".", "/") + "/__init__.py"):
            mapped = launch.map_path(posixpath.join(workdir, rel)) if launch.map_path else None
            if mapped is None:
                continue
            if mapped.endswith(rel) and (len(mapped) == len(rel) or mapped[-len(rel) - 1] == "/"):
                root = root or os.path.normpath(os.path.join(context, mapped[: len(mapped) - len(rel)]))
            else:
                moved[module] = (rel, mapped)
            break
    base = root or context
    files = {}
    for module, (_, mapped) in moved.items():
        target = os.path.normpath(os.path.join(context, mapped))
        files[module] = os.path.relpath(target, base)
    return base, files


def pools(found: Found, launch: Launch, groups: tuple[Process, ...], env: Mapping[str, Val[str]],
          scheme: str | None, notices: list[Notice]) -> list[Pool] | None:
    """One pool per process group (Django's depends on each group's threads); None when the source
    names no database library, and the caller assumes."""
    # the Python reader is imported only for a workload whose source is read: a run without one
    # (a Kubernetes tree, --no-sources) does not pay for it at start-up
    from scalelint.sources.python import app_module, read_connections

    settings = env.get("DJANGO_SETTINGS_MODULE")
    modules = [m for m in (app_module(g.app) for g in groups) if m]
    if settings is not None and settings.known and settings.value:
        modules.append(str(settings.value))
    root, moved = python_root(found, launch, modules)
    out: list[Pool] = []
    seen: dict[tuple[str | None, str | None, int | None, str | None], Pool | None] = {}
    reported = False
    for g in groups or (None,):
        threads = int(g.threads.value) if g is not None and g.threads.known and g.threads.value else None
        worker_class = str(g.worker_class.value) if g is not None and g.worker_class and g.worker_class.known \
            else None
        key = (g.server if g else None, worker_class, threads, g.app if g else None)
        if key not in seen:
            conn = read_connections(root, env, server=key[0], worker_class=worker_class, threads=threads,
                                    app=key[3], db_scheme=scheme, module_files=moved or None)
            if not reported:
                notices.extend(conn.notices)
                reported = True
            seen[key] = _pool(conn, threads)
        pool = seen[key]
        if pool is None:
            return None
        out.append(pool)
    return out


def _pool(conn: Connections, threads: int | None) -> Pool | None:
    if conn.library is None:
        return None
    where = f" ({conn.where})" if conn.where is not None else ""
    if conn.unbounded is not None:
        zero = default(0, conn.where, "")
        return Pool(zero, zero, unbounded=conn.unbounded, library=conn.library)
    single = len(conn.pools) <= 1 and conn.per_thread is None
    if single and conn.pool_size is not None and conn.max_overflow is not None:
        return Pool(conn.pool_size, conn.max_overflow, size_name="pool_size", overflow_name="max_overflow",
                    library=conn.library)
    if conn.per_thread is not None and conn.per_thread.known:
        per_thread = int(conn.per_thread.value or 0)
        count = threads or 1
        text = (f"{count} thread{'s' if count != 1 else ''} × {per_thread} "
                f"alias{'es' if per_thread != 1 else ''}, {conn.library}{where}")
    else:
        text = f"{conn.library}{where}"
    total = conn.per_process
    if total.state is State.UNKNOWN or total.value is None:
        total = unknown(conn.where, total.reason or f"{conn.library}: connections per process not read")
    elif total.loc is None and conn.where is not None:
        total = known(int(total.value), conn.where) if total.state is State.KNOWN else total
    zero = default(0, conn.where, "")
    return Pool(zero, zero, limit=total, text=text, library=conn.library)


__all__ = ["pools", "python_root"]
