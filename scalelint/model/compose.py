"""Model: a compose project → one :class:`~scalelint.model.Group` (SPEC §2).

Each file is interpolated and the files merged (:mod:`.composetree`); then every service
of the merged tree becomes a :class:`~scalelint.model.Workload` with one container,
its replicas, limits, command and environment, each value located where it was written.
"""
from __future__ import annotations

import os
import posixpath
import shlex
from typing import Any, TypeVar

from scalelint.findings import Loc, Notice
from scalelint.load.tree import YMap, YSeq, get_map, get_seq, get_str
from scalelint.model import (
    Build,
    Container,
    EnvRef,
    EnvVar,
    FileMount,
    Group,
    Resources,
    Spot,
    Val,
    Workload,
    default,
    known,
    loc_key,
    loc_value,
    quantity,
    shapes,
    spot_value,
    unknown,
)
from scalelint.model.composetree import (
    EnvSource,
    Interpolator,
    env_file_positions,
    is_compose_name,
    is_override_name,
    keyed,
    load_env,
    looks_like_compose,
    merge,
    read_env_text,
)
from scalelint.model.interpolate import interpolate, parse_env_file

T = TypeVar("T")


def build_project(files: list[tuple[str, YMap]], env: EnvSource, notices: list[Notice]) -> Group:
    """Interpolate each file, merge them in order, and model every service."""
    interp = Interpolator(env.values, notices)
    merged: Any = None
    for path, root in files:
        tree = interp.tree(root, path, root.pos)
        notices.extend(shapes.compose_notices(tree, path))
        merged = tree if merged is None else merge(merged, tree)
    main_path = files[0][0]
    group = Group(id=main_path, kind="compose", paths=[p for p, _ in files],
                  directory=os.path.dirname(main_path) or ".")
    services = get_map(merged, "services")
    if services is None:
        return group
    for name, svc in services.items():
        if not isinstance(svc, YMap) or str(name).startswith("x-"):
            continue
        group.workloads.append(_service(str(name), svc, services, group.directory or ".", env, interp, notices))
    version = merged.get("version") if isinstance(merged, YMap) else None
    if version is not None:
        for wl in group.workloads:
            wl.compose_version = str(version)
    return group


def _service(name: str, svc: YMap, services: YMap, directory: str, env: EnvSource,
             interp: Interpolator, notices: list[Notice]) -> Workload:
    loc = loc_key(services, name)
    path = loc.path
    ext = get_map(svc, "x-scalelint")
    settings = dict(ext) if ext is not None else {}
    labels = {str(k): "" if v is None else str(v) for k, v in keyed(svc.get("labels")).items()}
    wl = Workload(kind="service", name=name, namespace=None, path=path, loc=loc, replicas=_replicas(svc, loc),
                  labels=labels, pod_labels=labels, settings=settings, raw=svc)
    wl.host_network = get_str(svc, "network_mode") == "host"
    ignore = settings.get("ignore")
    if isinstance(ignore, list):
        wl.ignore = {str(c).upper() if str(c).upper().startswith("SL") else str(c).lower() for c in ignore}
    elif isinstance(ignore, str):
        wl.ignore = {c.strip().upper() if c.strip().upper().startswith("SL") else c.strip().lower()
                     for c in ignore.split(",")}
    if settings.get("ha-required") is True or str(settings.get("ha-required")).lower() == "true":
        wl.ha_reasons.append("x-scalelint: {ha-required: true}")
    if labels.get("scalelint.ha-required", "").lower() == "true":
        wl.ha_reasons.append("label scalelint.ha-required=true")
    deploy = get_map(svc, "deploy")
    wl.spread = get_str(get_map(deploy, "placement"), "max_replicas_per_node") == "1"
    if "image" in svc or "build" in svc:
        wl.containers.append(_container(name, svc, loc, directory, env, interp, notices))
    return wl


def _replicas(svc: YMap, loc: Loc) -> Val[int]:
    deploy = get_map(svc, "deploy")
    for node, key in ((deploy, "replicas"), (svc, "scale")):
        if node is not None and node.get(key) is not None:
            value = node.get(key)
            where = loc_key(node, key)
            if isinstance(value, str) and value.strip().isdigit():
                value = int(value.strip())
            if isinstance(value, int) and not isinstance(value, bool):
                return known(value, where)
            return unknown(where, f"{key} is {value!r}, not a whole number")
    if get_str(deploy, "mode") == "global":
        return unknown(loc, "deploy.mode: global runs one container per node")
    return default(1, loc, "no deploy.replicas or scale: Compose runs 1")


def _limits(svc: YMap) -> Resources:
    limits = get_map(get_map(get_map(svc, "deploy"), "resources"), "limits")
    out = Resources()
    for node, cpu_key, mem_key in ((limits, "cpus", "memory"), (svc, "cpus", "mem_limit")):
        if node is None:
            continue
        if out.cpu is None and node.get(cpu_key) is not None:
            cores = quantity.compose_cpus(node.get(cpu_key))
            where = loc_value(node, cpu_key)
            out.cpu = known(cores, where) if cores is not None and cores > 0 else unknown(
                where, f"{cpu_key} {node.get(cpu_key)!r} is not a CPU count")
        if out.memory is None and node.get(mem_key) is not None:
            size = quantity.compose_memory(node.get(mem_key))
            where = loc_value(node, mem_key)
            out.memory = known(size, where) if size is not None and size > 0 else unknown(
                where, f"{mem_key} {node.get(mem_key)!r} is not a memory size")
    return out


def _split(node: YMap, key: str) -> tuple[list[str], list[Spot]]:
    """A command (string split with shell rules, or list) as tokens with where they were written.

    Tokens of a split string share the whole string's spot, so a flag is found in the string
    as written (before interpolation) rather than by guessing the token's offset."""
    value = node.get(key)
    if isinstance(value, str):
        written = spot_value(node, key)
        spot = Spot(written.loc, written.anchors, written.source if written.source is not None else value, part=True)
        try:
            tokens = shlex.split(value)
        except ValueError:
            tokens = value.split()
        return tokens, [spot] * len(tokens)
    if isinstance(value, YSeq):
        tokens, spots = [], []
        for i, item in enumerate(value):
            if isinstance(item, (str, int, float)) and not isinstance(item, bool):
                tokens.append(str(item))
                spots.append(spot_value(value, i))
        return tokens, spots
    return [], []


def _container(name: str, svc: YMap, loc: Loc, directory: str, env: EnvSource, interp: Interpolator,
               notices: list[Notice]) -> Container:
    entry, entry_spots = _split(svc, "entrypoint")
    cmd, cmd_spots = _split(svc, "command")
    spots = entry_spots + cmd_spots
    c = Container(name=name, loc=loc, image=get_str(svc, "image"), argv=entry + cmd,
                  argv_locs=[sp.loc for sp in spots], argv_spots=spots,
                  default_command=svc.get("command") is None and svc.get("entrypoint") is None,
                  entrypoint_count=len(entry), entrypoint_set=svc.get("entrypoint") is not None,
                  command_set=svc.get("command") is not None,
                  limits=_limits(svc), hostnames=_hostnames(name, svc), build=_build(svc, directory),
                  image_loc=loc_value(svc, "image") if "image" in svc else None,
                  bind_mounts=_bind_mounts(svc, directory))
    reservations = get_map(get_map(get_map(svc, "deploy"), "resources"), "reservations")
    if reservations is not None:
        c.requests = Resources(
            cpu=_parsed(quantity.compose_cpus(reservations.get("cpus")), loc_value(reservations, "cpus"), "cpus")
            if "cpus" in reservations else None,
            memory=_parsed(quantity.compose_memory(reservations.get("memory")), loc_value(reservations, "memory"),
                           "memory") if "memory" in reservations else None,
        )
    missing: list[tuple[EnvRef, Loc]] = []
    c.env = _env_files(svc, directory, interp, notices, missing) + _environment(svc, env)
    c.env_from += missing  # what they would set is unknown: readers of image defaults must not assume
    return c


def _build(svc: YMap, directory: str) -> Build | None:
    """``build: ./dir`` or ``build: {context, dockerfile, target}``: the context relative to the project
    directory (the first compose file's, as compose-go resolves every file's paths), the Dockerfile
    relative to the context."""
    if "build" not in svc:
        return None
    node = svc.get("build")
    where = loc_value(svc, "build")
    base = directory
    if isinstance(node, str):
        context, dockerfile, target = node, None, None
    elif isinstance(node, YMap):
        context = get_str(node, "context") or "."
        dockerfile, target = get_str(node, "dockerfile"), get_str(node, "target")
        if "context" in node:
            where = loc_value(node, "context")
    else:
        return None
    if "://" in context or context.startswith(("git@", "github.com/")):
        return Build(context, dockerfile, target, where, "a remote build context is not read")
    path = os.path.normpath(os.path.join(base, context))
    if not os.path.isdir(path):
        return Build(path, dockerfile, target, where, f"the build context {context} does not exist")
    if dockerfile is not None and not os.path.isabs(dockerfile):
        dockerfile = os.path.normpath(os.path.join(path, dockerfile))
    return Build(path, dockerfile, target, where)


def _bind_mounts(svc: YMap, directory: str) -> list[FileMount]:
    """``volumes:`` entries that mount a host path (short ``SRC:DST[:MODE]`` and long ``type: bind``).

    A short entry is a bind mount when its source is a path (starts with ``.``, ``/`` or ``~``), as
    Compose decides; anything else names a volume, whose content no file of the repository holds.
    Relative sources resolve against the project directory, as compose-go resolves them."""
    out: list[FileMount] = []
    for i, item in enumerate(get_seq(svc, "volumes") or ()):
        volumes = svc["volumes"]
        if isinstance(item, str):
            parts = item.split(":")
            if len(parts) < 2 or not parts[0].startswith((".", "/", "~")):
                continue
            source, target, where = parts[0], parts[1], loc_value(volumes, i)
        elif isinstance(item, YMap) and get_str(item, "type") == "bind":
            source, target = get_str(item, "source") or "", get_str(item, "target") or ""
            where = loc_value(item, "source") if "source" in item else loc_value(volumes, i)
        else:
            continue
        if not source or not target.startswith("/"):
            continue
        host = source.startswith(("/", "~"))
        path = source if host else os.path.normpath(os.path.join(directory, source))
        out.append(FileMount(path, posixpath.normpath(target), where, host))
    return out


def _parsed(value: T | None, where: Loc, what: str) -> Val[T]:
    """A parsed reservation, or unknown when its text is not a quantity (``cpus: lots``)."""
    return known(value, where) if value is not None else unknown(where, f"reservation {what} is not a quantity")


def _hostnames(name: str, svc: YMap) -> list[str]:
    names = [name]
    for key in ("container_name", "hostname"):
        text = get_str(svc, key)
        if text:
            names.append(text)
    networks = get_map(svc, "networks")
    for net in (networks or {}).values():
        for alias in get_seq(net, "aliases") or ():
            if isinstance(alias, str):
                names.append(alias)
    return names


def _environment(svc: YMap, env: EnvSource) -> list[EnvVar]:
    node = keyed(svc.get("environment"))
    out = []
    for k, v in node.items():
        spot = spot_value(node, k)
        where = spot.loc
        if v is None:  # bare KEY: Compose takes it from the environment
            if k in env.values:
                out.append(EnvVar(str(k), env.values[k], where, "shell"))
            else:
                out.append(EnvVar(str(k), None, where, "shell", unset=True))
        else:
            text = ("true" if v else "false") if isinstance(v, bool) else str(v)
            written = spot.source if spot.source is not None and "$" in spot.source else None
            missing = tuple(interpolate(written, env.values).unset) if written else ()
            out.append(EnvVar(str(k), text, where, spot=spot, unset_vars=missing))
    return out


def _env_files(svc: YMap, directory: str, interp: Interpolator, notices: list[Notice],
               missing: list[tuple[EnvRef, Loc]]) -> list[EnvVar]:
    value = svc.get("env_file")
    entries: list[tuple[str, bool, Loc]] = []
    if isinstance(value, str):
        entries.append((value, True, loc_value(svc, "env_file")))
    elif isinstance(value, YSeq):
        for i, item in enumerate(value):
            if isinstance(item, str):
                entries.append((item, True, loc_value(value, i)))
            elif isinstance(item, dict) and isinstance(item.get("path"), str):
                entries.append((item["path"], item.get("required") is not False, loc_value(value, i)))
    out: list[EnvVar] = []
    for rel, required, where in entries:
        path = os.path.normpath(os.path.join(os.path.dirname(where.path) or directory, rel))
        try:
            text = read_env_text(path)
        except OSError as exc:
            if required:
                why = "not found" if isinstance(exc, FileNotFoundError) else f"cannot be read ({exc.strerror or exc})"
                notices.append(Notice(f"env_file {rel} {why}: its variables are unknown", where.path,
                                      where.line, where.column))
                missing.append((EnvRef("env_file", rel), where))
            continue
        values, _ = parse_env_file(text)
        positions = env_file_positions(text)
        for k, v in values.items():
            line, col = positions.get(k, (1, 1))
            out.append(EnvVar(k, v, Loc(path, line, col), "env_file"))
    return out


__all__ = ["build_project", "is_compose_name", "is_override_name", "load_env", "looks_like_compose", "merge"]
