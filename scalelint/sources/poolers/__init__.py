"""Connection poolers' settings (SPEC §9): PgBouncer, Pgpool-II, ProxySQL, and operator poolers.

Readers, one per source, all returning :class:`PoolerSettings`:

- :func:`read_container_pooler` — a container: its image (:func:`recognize_image`), env and,
  when the caller found one, a config file mounted at the image's config path
  (:func:`config_paths`);
- :func:`read_operator_poolers` — a custom resource: CloudNativePG ``Pooler``, Zalando
  ``postgresql``, Crunchy ``PostgresCluster``, Percona ``PerconaPGCluster``;
- :func:`parse_pgbouncer_ini` / :func:`settings_from_ini` — a ``pgbouncer.ini`` on its own.

The output model (:mod:`.model`): every setting is a :class:`~scalelint.model.Val` with its
position and state — ``known`` (written), ``default`` (the image's, operator's or
PgBouncer's documented default; ``reason`` names it and its source), ``assumed`` (an image
whose configuration scalelint does not know: PgBouncer's defaults are a guess), ``unknown``
(written but unreadable: an unresolved ``${VAR}``, ``abc`` where a number belongs, a Secret).
``problems`` lists what makes the pooler fail to start or behave other than the manifest
says (env names the image never reads, edoburu's ``POOL_SIZE``, a setting PgBouncer refuses);
``notices`` what scalelint could not follow.  ``backends`` are the servers it connects to,
``databases``/``users`` its ``[databases]``/``[users]`` entries.  For Pgpool-II the pool is
``num_init_children``/``max_pool``; for ProxySQL each backend carries ``max_connections``.
Fields that do not exist for a kind are unknown with a reason that says so.

Decisions where SPEC §9 is silent:

- Names are matched as PgBouncer matches them: keys and section names case-sensitively, pool
  modes case-insensitively; ``;``/``#`` start comments only at the start of a line.
- An env value that is empty counts as unset (every entrypoint tests ``${VAR:-}``).
- A mounted ``pgbouncer.ini`` replaces env for bitnami (under ``/bitnami/pgbouncer/conf/``),
  edoburu, brainsam and unknown images; ``pgbouncer/pgbouncer`` rewrites the file from env on
  every start, so a mounted file there is a problem and env still decides.  Setting env the
  mounted file makes useless is reported as not read.
- edoburu's current entrypoint writes ``auth_user=`` (no forced user) in its ``[databases]``
  line; brainsam forces ``user=`` only when ``DB_USER`` is set and listens on PgBouncer's
  6432 unless ``LISTEN_PORT`` is set; brainsam does not read ``DATABASE_URL``.
- An image that merely ends in ``pgbouncer`` gets PgBouncer's defaults as ``assumed`` values.

Arithmetic (:mod:`.arithmetic`) is kept apart from reading: pure functions over integers,
and :func:`server_connections_per_replica` to apply them to a reader's result.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: where each public name lives. The package imports its modules on first use (PEP 562): every run
#: asks whether an image is a pooler (:mod:`.recognize`, cheap), few runs meet one, and the readers
#: and their models are a measurable part of a one-file run's start-up.
_HOME = {
    "arithmetic": ("Pool", "PoolUse", "client_capacity", "client_limit_exceeded", "database_demand",
                   "pgpool_server_connections", "plan_pools", "proxysql_server_connections", "server_connections",
                   "server_connections_per_replica", "session_starvation"),
    "images": ("config_paths", "read_container_pooler"),
    "recognize": ("CONFIG_PATHS", "PoolerImage", "image_name", "recognize_image"),
    "ini": ("IniEntry", "IniFile", "parse_connstring", "parse_pgbouncer_ini"),
    "model": ("Backend", "DatabaseEntry", "Locate", "MountedConfig", "PoolerSettings", "Problem", "UserEntry"),
    "operators": ("read_operator_poolers",),
    "pgbouncer": ("PGBOUNCER_DEFAULTS", "PGBOUNCER_SETTINGS", "settings_from_entries", "settings_from_ini"),
    "pgpool": ("parse_pgpool_conf",),
    "proxysql": ("parse_libconfig",),
}
_MODULE_OF = {name: module for module, names in _HOME.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from .arithmetic import (
        Pool,
        PoolUse,
        client_capacity,
        client_limit_exceeded,
        database_demand,
        pgpool_server_connections,
        plan_pools,
        proxysql_server_connections,
        server_connections,
        server_connections_per_replica,
        session_starvation,
    )
    from .images import config_paths, read_container_pooler
    from .ini import IniEntry, IniFile, parse_connstring, parse_pgbouncer_ini
    from .model import Backend, DatabaseEntry, Locate, MountedConfig, PoolerSettings, Problem, UserEntry
    from .operators import read_operator_poolers
    from .pgbouncer import PGBOUNCER_DEFAULTS, PGBOUNCER_SETTINGS, settings_from_entries, settings_from_ini
    from .pgpool import parse_pgpool_conf
    from .proxysql import parse_libconfig
    from .recognize import CONFIG_PATHS, PoolerImage, image_name, recognize_image

__all__ = [
    "CONFIG_PATHS", "PGBOUNCER_DEFAULTS", "PGBOUNCER_SETTINGS", "Backend", "DatabaseEntry", "IniEntry", "IniFile",
    "Locate", "MountedConfig", "Pool", "PoolUse", "PoolerImage", "PoolerSettings", "Problem", "UserEntry",
    "client_capacity", "client_limit_exceeded", "config_paths", "database_demand", "image_name", "parse_connstring",
    "parse_libconfig", "parse_pgbouncer_ini", "parse_pgpool_conf", "pgpool_server_connections", "plan_pools",
    "proxysql_server_connections", "read_container_pooler", "read_operator_poolers", "recognize_image",
    "server_connections", "server_connections_per_replica", "session_starvation", "settings_from_entries",
    "settings_from_ini",
]
