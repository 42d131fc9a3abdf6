"""Databases of a group and how many connections each accepts (SPEC §3 SL003).

A database is a container running a PostgreSQL/MySQL image, a CloudNativePG
``Cluster``, a Zalando ``postgresql``, or an entry of config ``databases``.
Each carries the names clients use to reach it; linking clients to those names
is :mod:`scalelint.analyze.links`' job.
"""
from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from scalelint.analyze.env import Env, expand_value
from scalelint.config import Config
from scalelint.findings import Loc, ObjectRef
from scalelint.load.spans import find_after
from scalelint.load.tree import get_map
from scalelint.model import Container, Group, Spot, Val, Workload, default, known, loc_value, unknown

_POSTGRES_IMAGES = ("postgres", "*/postgres", "bitnami/postgresql", "*/bitnami/postgresql", "postgis/postgis",
                    "*/postgis/postgis", "timescale/timescaledb*", "*/timescale/timescaledb*", "*/postgresql",
                    "supabase/postgres", "ankane/pgvector", "pgvector/pgvector")
_MYSQL_IMAGES = ("mysql", "*/mysql", "mariadb", "*/mariadb", "percona*", "*/percona*", "bitnami/mysql",
                 "bitnami/mariadb", "*/mysql-server")
DEFAULTS = {"postgresql": (100, 3), "mysql": (151, 0)}


@dataclass
class Database:
    name: str
    engine: str  # "postgresql" | "mysql"
    loc: Loc
    obj: ObjectRef | None
    max_connections: Val[int]
    reserved: Val[int]
    #: names clients may use in compose projects and config ``databases`` (Kubernetes: through ``group.refs``)
    names: set[str] = field(default_factory=set)
    workload: Workload | None = None
    external: bool = False

    @property
    def available(self) -> int | None:
        if not self.max_connections.known or not self.reserved.known:
            return None
        return int(self.max_connections.value or 0) - int(self.reserved.value or 0)

    @property
    def label(self) -> str:
        return self.name


def image_engine(image: str | None) -> str | None:
    if not image:
        return None
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name = name[: len(name) - len(last) + last.index(":")]
    name = name.lower()
    name = name.removeprefix("docker.io/").removeprefix("library/")
    postgres, mysql = _image_patterns()
    if postgres(name):
        return "postgresql"
    if mysql(name):
        return "mysql"
    return None


@cache
def _image_patterns() -> tuple[Callable[[str], Any], Callable[[str], Any]]:
    """Each image list as one regex (the same test as ``fnmatchcase`` with any pattern), compiled once."""
    def one(patterns: Iterable[str]) -> Callable[[str], Any]:
        return re.compile("|".join(fnmatch.translate(p) for p in patterns)).match

    return one(_POSTGRES_IMAGES), one(_MYSQL_IMAGES)


def _count(text: str, loc: Loc | None, env: Env, kube: bool, label: str) -> Val[int]:
    _, expanded, reasons = expand_value(text, env, kube)
    if reasons:
        return unknown(loc, f"{label}: {reasons[0]}")
    expanded = expanded.strip().strip("'\"")
    if not expanded.isdigit():
        return unknown(loc, f"{label}: {expanded!r} is not a number")
    return known(int(expanded), loc)


def container_database(wl: Workload, c: Container, env: Env, group: Group) -> Database | None:
    engine = image_engine(c.image)
    if engine is None:
        return None
    from scalelint.sources import dbflags  # database command lines: only for database containers

    kube = group.kind == "kubernetes"
    dflt_max, dflt_reserved = DEFAULTS[engine]
    max_conn: Val[int] = default(dflt_max, c.loc, f"{engine} default max_connections {dflt_max}")
    superuser: Val[int] = default(dflt_reserved, c.loc, f"superuser_reserved_connections default {dflt_reserved}")
    reserved_extra: Val[int] = default(0, c.loc, "reserved_connections default 0")

    if engine == "postgresql":
        # lowest precedence first: mounted postgresql.conf, then bitnami env, then the command line
        conf, why = _config_file_settings(c) if group.kind == "compose" else ([], None)
        if why is not None:
            max_conn = unknown(c.loc, why)
        for setting, value, loc in _conf_settings(wl, c, group) + conf:
            val = _count(value, loc, env, kube, setting)
            if setting == "max_connections":
                max_conn = val
            elif setting == "superuser_reserved_connections":
                superuser = val
            elif setting == "reserved_connections":
                reserved_extra = val
        bitnami = env.get("POSTGRESQL_MAX_CONNECTIONS")
        if bitnami is not None:
            max_conn = (_count(str(bitnami.value), bitnami.loc, env, kube, "POSTGRESQL_MAX_CONNECTIONS")
                        if bitnami.known else unknown(bitnami.loc, f"POSTGRESQL_MAX_CONNECTIONS: {bitnami.reason}"))
        for setting, hit in dbflags.postgres_settings(c.argv).items():
            loc = c.token_loc(hit.index, _setting_needles(c, hit.index, setting, hit.flag, hit.value, hit.nested))
            val = _count(hit.value, loc, env, kube, f"{hit.flag} {setting}")
            if setting == "max_connections":
                max_conn = val
            elif setting == "superuser_reserved_connections":
                superuser = val
            else:
                reserved_extra = val
        reserved = _sum(superuser, reserved_extra)
    else:
        for setting, hit in dbflags.mysql_settings(c.argv).items():
            loc = c.token_loc(hit.index, _setting_needles(c, hit.index, setting, hit.flag, hit.value, hit.nested))
            max_conn = _count(hit.value, loc, env, kube, hit.flag)
        reserved = default(0, c.loc, "MySQL's admin connection is outside max_connections")
    name = wl.name
    # where max_connections is set, else the container's name (compose: the service key)
    db = Database(name=name, engine=engine, loc=max_conn.loc if max_conn.state.value == "known" and max_conn.loc
                  else c.loc, obj=wl.ref, max_connections=max_conn, reserved=reserved, workload=wl)
    return db


def _setting_needles(c: Container, index: int, setting: str, flag: str, value: str, nested: bool) -> list[str] | None:
    """Point at the setting inside a script or a compose command string (its name as written, or
    the number after ``-N``), as a token that is its own YAML scalar is located at its start."""
    spot = c.argv_spots[index] if index < len(c.argv_spots) else None
    if not nested and (spot is None or not spot.part):
        return None
    written = spot.source if spot is not None and spot.source is not None else c.argv[index]
    # the setting as written: `--max-connections=N`, `--max_connections=N`, `-c max_connections=N`
    for name in (f"--{setting}", f"--{setting.replace('_', '-')}", setting, setting.replace("_", "-")):
        if name in written:
            return [name]
    return [flag, value]


def _sum(a: Val[int], b: Val[int]) -> Val[int]:
    if not a.known:
        return a
    if not b.known:
        return b
    total = int(a.value or 0) + int(b.value or 0)
    if a.state.value == "known" or b.state.value == "known":
        return known(total, a.loc if a.state.value == "known" else b.loc)
    return default(total, a.loc, "PostgreSQL reserves 3 connections for superusers by default")


def _conf_settings(wl: Workload, c: Container, group: Group) -> list[tuple[str, str, Loc]]:
    """postgresql.conf files from ConfigMaps the container mounts, each setting at its value."""
    from scalelint.sources import dbflags

    out: list[tuple[str, str, Loc]] = []
    ns = wl.namespace or "default"
    for volume, mount in c.mounts.items():
        cm_name = wl.configmap_volumes.get(volume)
        found = group.refs.named(wl.path, "ConfigMap", ns, cm_name) if cm_name else []
        cm = found[0] if len(found) == 1 else None  # alternatives that differ: max_connections stays unknown
        if cm is None:
            continue
        for key, text in cm.data.items():
            if not (key.endswith(".conf") or posixpath.basename(mount).endswith(".conf")):
                continue
            if "max_connections" not in text and "reserved_connections" not in text:
                continue
            spot = cm.data_spots.get(key) or Spot(cm.data_locs.get(key, cm.loc))
            starts = _line_offsets(text)
            for setting, (value, line) in dbflags.parse_postgresql_conf(text).items():
                if setting in ("max_connections", "superuser_reserved_connections", "reserved_connections"):
                    line_text = text[starts[line - 1]:] if 0 < line <= len(starts) else ""
                    within = find_after(line_text.split("\n", 1)[0], [setting])
                    offset = starts[line - 1] + max(within, 0) if 0 < line <= len(starts) else 0
                    out.append((setting, value, spot.at(offset)))
    return out


def _config_file_settings(c: Container) -> tuple[list[tuple[str, str, Loc]], str | None]:
    """Compose: the settings of the ``postgresql.conf`` that ``-c config_file=PATH`` names, read from the
    repository file bind-mounted there; (settings, why they cannot be read). A config file that is in
    the image, on the host, or not in the repository makes max_connections unknown: it may set it."""
    from scalelint.sources import dbflags
    from scalelint.sources.chain_files import read_limited

    target = dbflags.postgres_config_file(c.argv)
    if target is None:
        return [], None
    for m in c.bind_mounts:
        mount = m.target.rstrip("/") or "/"
        if target != mount and not target.startswith(mount + "/"):
            continue
        if m.host:
            return [], f"config_file {target} is mounted from the host path {m.source}, which scalelint does not read"
        path = m.source if target == mount else posixpath.join(m.source, target[len(mount) + 1:])
        text, why = read_limited(path)
        if text is None:
            return [], f"config_file {target} is mounted from {path}, which {why}"
        out = []
        lines = text.splitlines()
        for setting, (value, line) in dbflags.parse_postgresql_conf(text).items():
            if setting in ("max_connections", "superuser_reserved_connections", "reserved_connections"):
                column = max(lines[line - 1].lower().find(setting), 0) + 1 if 0 < line <= len(lines) else 1
                out.append((setting, value, Loc(path, line, column)))
        return out, None
    return [], f"config_file {target} is a file of the image, which is not in the files linted"


def _line_offsets(text: str) -> list[int]:
    offsets = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            offsets.append(i + 1)
    return offsets


def operator_service_owners(service: str) -> list[tuple[str, str]]:
    """(kind, name) of the operator objects whose Services could be called ``service``: CloudNativePG
    ``<cluster>-rw``/``-ro``/``-r``, Zalando ``<cluster>`` and ``<cluster>-repl`` (not ``-pooler``:
    that one selects PgBouncer pods, whose clients do not count directly)."""
    out = [("postgresql", service)]
    for suffix, kind in (("-rw", "Cluster"), ("-ro", "Cluster"), ("-r", "Cluster"), ("-repl", "postgresql")):
        if service.endswith(suffix) and len(service) > len(suffix):
            out.append((kind, service[: -len(suffix)]))
    return out


def operator_database(obj_kind: str, api_version: str, raw: object, name: str, namespace: str,
                      loc: Loc) -> Database | None:
    """CloudNativePG ``Cluster`` and Zalando ``postgresql`` objects (their Services: :func:`operator_service_owners`)."""
    if not ((obj_kind == "Cluster" and api_version.startswith("postgresql.cnpg.io/"))
            or (obj_kind == "postgresql" and api_version.startswith("acid.zalan.do/"))):
        return None
    params = get_map(get_map(get_map(raw, "spec"), "postgresql"), "parameters")
    max_conn: Val[int] = default(100, loc, "postgresql default max_connections 100")
    superuser: Val[int] = default(3, loc, "superuser_reserved_connections default 3")
    reserved_extra: Val[int] = default(0, loc, "reserved_connections default 0")
    if params is not None:
        for key in ("max_connections", "superuser_reserved_connections", "reserved_connections"):
            if key in params:
                text = str(params.get(key)).strip()
                where = loc_value(params, key)
                val = known(int(text), where) if text.isdigit() else unknown(where, f"{key} {text!r}")
                if key == "max_connections":
                    max_conn = val
                elif key == "superuser_reserved_connections":
                    superuser = val
                else:
                    reserved_extra = val
    reserved = _sum(superuser, reserved_extra)
    db = Database(name=name, engine="postgresql", loc=max_conn.loc or loc,
                  obj=ObjectRef(obj_kind, name, namespace), max_connections=max_conn, reserved=reserved)
    return db


def external_databases(config: Config) -> list[Database]:
    out = []
    for i, ext in enumerate(config.databases):
        loc = _origin(config, f"databases[{i}].max-connections") or _origin(config, f"databases[{i}]") or Loc(
            config.source or ".scalelint.yaml", 0, 0)
        db = Database(name=ext.name, engine=ext.engine, loc=loc, obj=None,
                      max_connections=known(ext.max_connections, loc), reserved=known(ext.reserved, loc),
                      external=True)
        db.names = {h.lower() for h in ext.hosts} | {ext.name.lower()}
        out.append(db)
    return out


def _origin(config: Config, key: str) -> Loc | None:
    """Where a setting was written in the config file (``file:line:col`` in ``config.origins``)."""
    text = config.origins.get(key)
    if not text:
        return None
    path, _, rest = text.rpartition(":")
    path, _, line = path.rpartition(":")
    if not (line.isdigit() and rest.isdigit() and path):
        return Loc(text, 0, 0) if text == config.source else None
    return Loc(path, int(line), int(rest))
