"""Connection poolers of a group (SPEC §9): which containers and operator objects run one, with what settings.

The settings themselves come from :mod:`scalelint.sources.poolers`; this module finds what those
readers need in the model — the image and env of a container, the ``pgbouncer.ini`` a compose
bind mount or a ConfigMap puts at the image's config path, the custom resource's tree. How
clients reach a pooler and a pooler its database is :mod:`scalelint.analyze.pooler_links`.

Decisions where SPEC §9 is silent:

- A mounted file is read only from the repository: a compose bind mount whose source is an
  absolute or ``~`` path names the machine that runs the container, which scalelint never
  reads; the pooler's settings are then unknown (a notice), not env's.
- A directory mount that does not hold the file leaves the image's own configuration (env)
  in charge; a file mount that cannot be read makes the settings unknown.
- A Kubernetes volume that is not a ConfigMap mounted exactly at the config path hides the
  settings (unknown); mounted at the directory (an ``emptyDir`` the image writes into), it
  does not.
- Crunchy ``PostgresCluster`` and Percona ``PerconaPGCluster`` are databases too (Services
  ``<cluster>-primary`` and ``<cluster>-replicas``; ``max_connections`` from
  ``spec.patroni.dynamicConfiguration.postgresql.parameters``), so that their poolers have a
  budget to count in.
"""
from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from scalelint.analyze.databases import Database
from scalelint.findings import Loc, Notice, ObjectRef
from scalelint.load.tree import YMap, YSeq, get_map
from scalelint.model import (
    ConfigMap,
    Container,
    Group,
    KubeObject,
    State,
    Val,
    Workload,
    default,
    known,
    loc_key,
    loc_value,
    unknown,
)
from scalelint.sources import poolers as poolerlib
from scalelint.sources.chain_files import read_limited
from scalelint.sources.poolers.recognize import recognize_image

if TYPE_CHECKING:
    from scalelint.sources.poolers import Locate, MountedConfig, PoolerImage, PoolerSettings

__all__ = ["CLIENT_LIMIT_NAME", "Pooler", "cluster_database", "find_poolers"]

_OPERATOR_KINDS = {("Pooler", "postgresql.cnpg.io"), ("postgresql", "acid.zalan.do"),
                   ("PostgresCluster", "postgres-operator.crunchydata.com"), ("PerconaPGCluster", "pgv2.percona.com")}
_CLUSTER_KINDS = {("PostgresCluster", "postgres-operator.crunchydata.com"), ("PerconaPGCluster", "pgv2.percona.com")}
#: what each pooler kind calls its client limit, for messages
CLIENT_LIMIT_NAME = {"pgbouncer": "max_client_conn", "pgpool": "num_init_children",
                     "proxysql": "mysql-max_connections"}


@dataclass
class Pooler:
    """One pooler: a container running a pooler image, or a pooler an operator runs for a custom resource."""

    name: str
    settings: PoolerSettings
    #: where a finding about the pooler sits when the setting it is about is written nowhere
    loc: Loc
    obj: ObjectRef | None
    #: the file its references (backends, HPAs) resolve from (SPEC §11)
    path: str
    namespace: str | None
    #: pooler pods: the workload's (HPA max when one scales it) or the operator's instances
    replicas: Val[int]
    hpa: bool = False
    workload: Workload | None = None
    container: Container | None = None
    kube_object: KubeObject | None = None
    #: compose service names and aliases clients use to reach it
    names: set[str] = field(default_factory=set)


# --------------------------------------------------------------------------------- finding them


def find_poolers(group: Group, env_of: Callable[[Workload, Container], Mapping[str, Val[str]]],
                 replicas_of: Callable[[Workload], tuple[Val[int], bool]], notices: list[Notice]) -> list[Pooler]:
    """Every pooler of ``group``, in model order: containers first, then operator objects."""
    found: list[Pooler] = []
    for wl in group.workloads:
        for c in wl.app_containers:
            ident = recognize_image(c.image)
            if ident is None:
                continue
            env = env_of(wl, c)
            image_loc = c.image_loc or c.loc
            mounted, why, where = _mounted(group, wl, c, ident, env)
            if why:
                settings = _unreadable(ident, why, where or image_loc)
            else:
                read = poolerlib.read_container_pooler(c.image, env, mounted=mounted, image_loc=image_loc)
                if read is None:  # pragma: no cover - recognize_image said it is one
                    continue
                settings = read
                if mounted is not None and settings.source == "ini" and "%include" in mounted.text:
                    _included(settings, where or image_loc)
                elif settings.source in ("env", "defaults"):
                    _env_files_missing(settings, c)
            replicas, hpa = replicas_of(wl)
            name = wl.name if len(wl.app_containers) == 1 else f"{wl.name}/{c.name}"
            found.append(Pooler(name, settings, image_loc, wl.ref, wl.path, wl.namespace, replicas, hpa, wl, c,
                                names={h.lower() for h in c.hostnames}))
    for obj in group.objects:
        if obj.raw is None or (obj.kind, obj.api_version.split("/", 1)[0]) not in _OPERATOR_KINDS:
            continue
        stray: list[Notice] = []
        for settings in poolerlib.read_operator_poolers(obj.raw, _locator(obj), path=obj.path, notices=stray):
            name = settings.services[0] if settings.services else settings.name or obj.name
            replicas, hpa = _operator_replicas(group, obj, settings)
            found.append(Pooler(name, settings, obj.loc, ObjectRef(obj.kind, obj.name, obj.namespace), obj.path,
                                obj.namespace, replicas, hpa, kube_object=obj))
        notices.extend(stray)
    for pooler in found:
        notices.extend(pooler.settings.notices)
    return found


def _operator_replicas(group: Group, obj: KubeObject, settings: PoolerSettings) -> tuple[Val[int], bool]:
    """The operator's instance count, or the HPA max when an HPA scales the ``Pooler`` (CloudNativePG
    gives it the scale subresource); the smallest maximum when alternative HPAs target it."""
    hpas = [h for h in group.autoscalers if obj.kind == "Pooler" and h.target_kind == "Pooler"
            and (h.namespace, h.target_name) == (obj.namespace, obj.name)]
    if hpas:
        high = min(hpas, key=lambda h: (not h.max_replicas.known, h.max_replicas.value or 0))
        return high.max_replicas, True
    return settings.replicas or default(1, obj.loc, "one pooler pod"), False


def _locator(obj: KubeObject) -> Locate:
    """Where a key path of the object's tree is written: a scalar's value, a mapping's or list's key."""
    def locate(keys: tuple[str | int, ...]) -> Loc | None:
        if not keys:
            return obj.loc
        node = obj.raw
        for key in keys[:-1]:
            node = node[key]  # type: ignore[index]  # a path that is not there raises; the reader says None
        last = keys[-1]
        if isinstance(node, YMap):
            return loc_key(node, last) if isinstance(node.get(last), (dict, list)) else loc_value(node, last)
        if isinstance(node, YSeq) and isinstance(last, int):
            return loc_value(node, last)
        return None

    return locate


_NUMBERS = ("mode", "max_client_conn", "default_pool_size", "reserve_pool_size", "max_db_connections",
            "max_user_connections", "listen_port")


def _env_files_missing(settings: PoolerSettings, c: Container) -> None:
    """An env_file that is not there may set any of the image's variables: what the image would
    default to is then unknown, not its default (the file is often a local, uncommitted .env)."""
    missing = [(ref.name, where) for ref, where in c.env_from if ref.source == "env_file"]
    if not missing:
        return
    name, where = missing[0]
    for attr in _NUMBERS:
        val = getattr(settings, attr)
        if val.state is State.DEFAULT:
            setattr(settings, attr, unknown(where, f"env_file {name} is not found and may set it"))


def _included(settings: PoolerSettings, where: Loc) -> None:
    """A file that ``%include``s another may set there what it leaves at PgBouncer's default here:
    those values are unknown, not the defaults."""
    for attr in _NUMBERS:
        val = getattr(settings, attr)
        if val.state in (State.DEFAULT, State.ASSUMED):
            setattr(settings, attr, unknown(val.loc or where, f"not set in {settings.config_path}, which %includes "
                                                               "a file scalelint does not read"))


def _unreadable(ident: PoolerImage, why: str, where: Loc) -> PoolerSettings:
    """Settings that a mounted file decides but scalelint cannot read: every number unknown."""
    settings = poolerlib.PoolerSettings(ident.kind, ident.flavour, source="unknown")
    for attr in _NUMBERS:
        setattr(settings, attr, unknown(where, why))
    if ident.kind == "pgpool":
        settings.num_init_children = settings.max_pool = unknown(where, why)
    settings.notices.append(Notice(f"{ident.name}: {why}: its settings and its database are unknown",
                                   where.path, where.line, where.column))
    return settings


# --------------------------------------------------------------------------------- mounted files


def _mounted(group: Group, wl: Workload, c: Container, ident: PoolerImage,
             env: Mapping[str, Val[str]]) -> tuple[MountedConfig | None, str, Loc | None]:
    """The configuration file mounted at one of the image's config paths, or why it cannot be read."""
    for target in poolerlib.config_paths(ident, env):
        if group.kind == "compose":
            got = _compose_file(c, target)
        else:
            got = _kube_file(group, wl, c, target)
        if got is not None:
            return got
    return None, "", None


def _inside(target: str, mount: str) -> str | None:
    """``target``'s path relative to the directory ``mount`` ("" when they are the same), or None."""
    mount = mount.rstrip("/") or "/"
    if target == mount:
        return ""
    prefix = mount if mount.endswith("/") else mount + "/"
    return target[len(prefix):] if target.startswith(prefix) else None


def _compose_file(c: Container, target: str) -> tuple[MountedConfig | None, str, Loc | None] | None:
    for m in c.bind_mounts:
        rel = _inside(target, m.target)
        if rel is None:
            continue
        if m.host:
            return None, f"{target} is mounted from the host path {m.source}, which scalelint does not read", m.loc
        path = m.source if not rel else posixpath.join(m.source, rel)
        if rel and not os.path.lexists(path):
            continue  # a directory without the file: the image writes its own
        text, why = read_limited(path)
        if text is None:
            return None, f"{path}, mounted at {target}: {why}", m.loc
        return poolerlib.MountedConfig(text, path, target=target), "", m.loc
    return None


def _kube_file(group: Group, wl: Workload, c: Container, target: str) -> tuple[MountedConfig | None, str,
                                                                               Loc | None] | None:
    ns = wl.namespace or "default"
    for vm in c.volume_mounts:
        rel = _inside(target, vm.path)
        if rel is None or (vm.sub_path is not None and rel):
            continue
        cm_name = wl.configmap_volumes.get(vm.volume)
        if not cm_name:
            if not rel:  # a Secret or another volume holds the file itself
                return None, f"{target} comes from volume {vm.volume}, which is not a ConfigMap", vm.loc
            continue
        items = wl.configmap_items.get(vm.volume)
        path = vm.sub_path if vm.sub_path is not None else rel
        key = items.get(path) if items else path
        if not key:
            continue
        maps = [cm for cm in group.refs.named(wl.path, "ConfigMap", ns, cm_name) if isinstance(cm, ConfigMap)]
        if not maps:
            return None, f"ConfigMap {cm_name} mounted at {target} is not in the files linted", vm.loc
        texts = {cm.data.get(key) for cm in maps}
        if len(texts) > 1:
            return None, f"the alternative ConfigMaps {cm_name} mounted at {target} differ", vm.loc
        cm = maps[0]
        if key not in cm.data:
            if vm.sub_path is None:
                continue  # the directory does not hold the file
            return None, f"ConfigMap {cm_name} has no key {key} for the subPath mounted at {target}", vm.loc
        spot = cm.data_spots.get(key)
        first = spot.at(0) if spot is not None else cm.data_locs.get(key, cm.loc)
        return poolerlib.MountedConfig(cm.data[key], first.path, target=target, line_offset=first.line - 1,
                             column_offset=first.column - 1), "", vm.loc
    return None


def cluster_database(obj: KubeObject) -> Database | None:
    """A Crunchy ``PostgresCluster`` or Percona ``PerconaPGCluster`` as a database (module docstring)."""
    if obj.raw is None or (obj.kind, obj.api_version.split("/", 1)[0]) not in _CLUSTER_KINDS:
        return None
    params = get_map(get_map(get_map(get_map(get_map(obj.raw, "spec"), "patroni"), "dynamicConfiguration"),
                             "postgresql"), "parameters")
    values: dict[str, Val[int]] = {
        "max_connections": default(100, obj.loc, "postgresql default max_connections 100"),
        "superuser_reserved_connections": default(3, obj.loc, "superuser_reserved_connections default 3"),
        "reserved_connections": default(0, obj.loc, "reserved_connections default 0")}
    for key in values:
        if params is not None and key in params:
            text, where = str(params.get(key)).strip(), loc_value(params, key)
            values[key] = known(int(text), where) if text.isdigit() else unknown(where, f"{key} {text!r}")
    extra, base = values["reserved_connections"], values["superuser_reserved_connections"]
    if base.known and extra.known:
        state = State.KNOWN if State.KNOWN in (base.state, extra.state) else State.DEFAULT
        reserved = Val(int(base.value or 0) + int(extra.value or 0), base.loc if base.state is State.KNOWN
                       else extra.loc, state, "" if state is State.KNOWN else base.reason)
    else:
        reserved = base if not base.known else extra
    max_conn = values["max_connections"]
    return Database(obj.name, "postgresql", max_conn.loc or obj.loc, ObjectRef(obj.kind, obj.name, obj.namespace),
                    max_conn, reserved)
