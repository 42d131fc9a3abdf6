"""Model: compose files → one :class:`~scalelint.model.Group` per project (SPEC §2).

Interpolation runs per file before merging, as Compose does; the merged tree
keeps each value's own file and position so findings point at the file that
set it (the override file, when it did).
"""
from __future__ import annotations

import errno
import os
import re
import shlex
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from scalelint.findings import Loc, Notice
from scalelint.load.spans import Written, position
from scalelint.load.tree import YMap, YSeq, anchors_of, get_map, get_seq, get_str, set_written
from scalelint.model import (
    Container,
    EnvVar,
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
from scalelint.model.interpolate import interpolate, parse_env_file

T = TypeVar("T")
#: keys whose value replaces the base instead of merging (compose-go override rules)
_REPLACE = {"command", "entrypoint"}
#: list-or-mapping keys merged by their keys
_KEYED = {"environment", "labels", "annotations", "extra_hosts", "sysctls"}


@dataclass
class EnvSource:
    """The interpolation environment of one project."""

    values: dict[str, str] = field(default_factory=dict)
    #: where each value came from, for messages
    origin: dict[str, str] = field(default_factory=dict)


def load_env(directory: str, env_files: list[str], use_process_env: bool,
             notices: list[Notice]) -> EnvSource:
    """``--env-file`` files (later wins), else ``.env`` in the project directory; the
    process environment on top only with ``--use-env`` (SPEC §2)."""
    env = EnvSource()
    files = env_files or ([os.path.join(directory, ".env")] if os.path.isfile(os.path.join(directory, ".env"))
                          else [])
    for path in files:
        try:
            text = read_env_text(path)
        except OSError as exc:
            notices.append(Notice(f"cannot read env file: {exc.strerror or exc}", path))
            continue
        values, problems = parse_env_file(text)
        for line, message in problems:
            notices.append(Notice(f"env file: {message}", path, line, 1))
        for k, v in values.items():
            env.values[k] = v
            env.origin[k] = path
    if use_process_env:
        for k, v in os.environ.items():
            env.values[k] = v
            env.origin[k] = "environment"
    return env


def read_env_text(path: str) -> str:
    """An env file's text (its first 4 MB). A FIFO or device is refused (OSError), not read:
    opening one would block, or never end."""
    nonblock = getattr(os, "O_NONBLOCK", 0)
    with open(path, encoding="utf-8", errors="replace", opener=lambda p, f: os.open(p, f | nonblock)) as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        return fh.read(4 * 1024 * 1024)


class _Interpolator:
    """Interpolates a whole file's tree, keeping positions; reports each unset variable once."""

    def __init__(self, env: Mapping[str, str], notices: list[Notice]) -> None:
        self.env = env
        self.notices = notices
        self.reported: set[str] = set()

    def tree(self, node: Any, path: str, pos: tuple[int, int]) -> Any:
        if isinstance(node, str):
            return self.text(node, path, pos)
        if isinstance(node, YMap):
            out = YMap(node.pos, node.path)
            for k, v in node.items():
                new = self.tree(v, path, node.value_pos(k))
                out.put(k, new, node.key_pos(k), node.value_pos(k), node.tag(k), node.key_path(k))
                _keep_written(node, k, v, new, out)
            return out
        if isinstance(node, YSeq):
            seq = YSeq(node.pos, node.path)
            for i, v in enumerate(node):
                new = self.tree(v, path, node.item_pos(i))
                seq.push(new, node.item_pos(i), node.key_path(i))
                _keep_written(node, i, v, new, seq)
            return seq
        return node

    def text(self, value: str, path: str, pos: tuple[int, int]) -> str:
        if "$" not in value:
            return value
        result = interpolate(value, self.env)
        for name in result.unset:
            if name not in self.reported:
                self.reported.add(name)
                self.notices.append(Notice(
                    f"variable {name} is not set and has no default: using an empty string", path, *pos))
        for message in result.errors:
            self.notices.append(Notice(f"interpolation: {message}", path, *pos))
        return result.value


def _keep_written(node: YMap | YSeq, key: Any, old: Any, new: Any, out: YMap | YSeq) -> None:
    """Carry a string's anchors over, and its text as written when interpolation changed it."""
    written = anchors_of(node, key)
    if isinstance(old, str) and old != new:
        written = Written(written.anchors if written else None, old)
    if written is not None:
        set_written(out, key, written)


def _copy_written(src: YMap, key: Any, out: YMap) -> None:
    set_written(out, key, anchors_of(src, key))


def merge(base: Any, over: Any, keypath: str = "") -> Any:
    """Compose's override rules: mappings merge, ``command``/``entrypoint`` replace,
    list-or-map keys (``environment``, ``labels``) merge by key, other sequences append;
    ``!reset`` removes and ``!override`` replaces."""
    if isinstance(base, YMap) and isinstance(over, YMap):
        out = base.copy()
        for k, v in over.items():
            sub = f"{keypath}.{k}" if keypath else str(k)
            tag = over.tag(k)
            if tag == "!reset":
                out.pop(k, None)
                out.kpos.pop(k, None)
                continue
            if tag == "!override" or k not in out or k in _REPLACE or sub.endswith("healthcheck.test"):
                out.put(k, v, over.key_pos(k), over.value_pos(k), path=over.key_path(k))
                _copy_written(over, k, out)
            elif k in _KEYED:
                out.put(k, _merge_keyed(out[k], v), over.key_pos(k), over.value_pos(k), path=over.key_path(k))
            elif isinstance(v, (YMap, YSeq)) and type(v) is type(out[k]):
                out.put(k, merge(out[k], v, sub), out.key_pos(k), out.value_pos(k), path=out.key_path(k))
            else:  # a scalar (or a change of shape) replaces, and is located where the override wrote it
                out.put(k, v, over.key_pos(k), over.value_pos(k), path=over.key_path(k))
                _copy_written(over, k, out)
        return out
    if isinstance(base, YSeq) and isinstance(over, YSeq):
        seq = YSeq(base.pos, base.path)
        for i, v in enumerate(base):
            seq.push(v, base.item_pos(i), base.key_path(i))
        hashable, other = set(), []  # `v not in base` for every v would be quadratic in long lists
        for v in base:
            try:
                hashable.add(v)
            except TypeError:
                other.append(v)
        for i, v in enumerate(over):
            try:
                present = v in hashable
            except TypeError:
                present = v in other
            if not present:
                seq.push(v, over.item_pos(i), over.key_path(i))
        return seq
    return over


def _keyed(node: Any) -> YMap:
    """A list-or-mapping (``KEY=VAL`` list or mapping) as a mapping with positions."""
    if isinstance(node, YMap):
        return node
    out = YMap(getattr(node, "pos", (0, 0)), getattr(node, "path", ""))
    if isinstance(node, YSeq):
        for i, item in enumerate(node):
            if isinstance(item, str):
                key, sep, value = item.partition("=")
                # the value starts after `KEY=` as written (interpolation does not touch the key)
                written = anchors_of(node, i)
                text = written.text if written is not None and written.text is not None else item
                vpos = position(written.anchors if written else None, node.item_pos(i), text.find("=") + 1)
                out.put(key.strip(), value if sep else None, node.item_pos(i), vpos if sep else node.item_pos(i),
                        path=node.key_path(i))
    return out


def _merge_keyed(base: Any, over: Any) -> YMap:
    out = _keyed(base).copy()
    o = _keyed(over)
    for k, v in o.items():
        out.put(k, v, o.key_pos(k), o.value_pos(k), path=o.key_path(k))
        _copy_written(o, k, out)
    return out


def is_compose_name(name: str) -> bool:
    lower = name.lower()
    return lower.endswith((".yml", ".yaml")) and lower.startswith(("compose", "docker-compose"))


def is_override_name(name: str) -> bool:
    """Only ``compose.override.y*ml`` / ``docker-compose.override.y*ml`` merge automatically."""
    return name.lower().rsplit(".", 1)[0] in ("compose.override", "docker-compose.override") and is_compose_name(name)


def looks_like_compose(root: Any) -> bool:
    return (isinstance(root, dict) and isinstance(root.get("services"), dict)
            and "apiVersion" not in root and "kind" not in root)


def build_project(files: list[tuple[str, YMap]], env: EnvSource, notices: list[Notice]) -> Group:
    """Interpolate each file, merge them in order, and model every service."""
    interp = _Interpolator(env.values, notices)
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
    return group


def _service(name: str, svc: YMap, services: YMap, directory: str, env: EnvSource,
             interp: _Interpolator, notices: list[Notice]) -> Workload:
    loc = loc_key(services, name)
    path = loc.path
    ext = get_map(svc, "x-scalelint")
    settings = dict(ext) if ext is not None else {}
    labels = {str(k): "" if v is None else str(v) for k, v in _keyed(svc.get("labels")).items()}
    wl = Workload(kind="service", name=name, namespace=None, path=path, loc=loc, replicas=_replicas(svc, loc),
                  labels=labels, pod_labels=labels, settings=settings, raw=svc)
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


def _container(name: str, svc: YMap, loc: Loc, directory: str, env: EnvSource, interp: _Interpolator,
               notices: list[Notice]) -> Container:
    entry, entry_spots = _split(svc, "entrypoint")
    cmd, cmd_spots = _split(svc, "command")
    spots = entry_spots + cmd_spots
    c = Container(name=name, loc=loc, image=get_str(svc, "image"), argv=entry + cmd,
                  argv_locs=[sp.loc for sp in spots], argv_spots=spots,
                  default_command=svc.get("command") is None and svc.get("entrypoint") is None,
                  limits=_limits(svc), hostnames=_hostnames(name, svc))
    reservations = get_map(get_map(get_map(svc, "deploy"), "resources"), "reservations")
    if reservations is not None:
        c.requests = Resources(
            cpu=_parsed(quantity.compose_cpus(reservations.get("cpus")), loc_value(reservations, "cpus"), "cpus")
            if "cpus" in reservations else None,
            memory=_parsed(quantity.compose_memory(reservations.get("memory")), loc_value(reservations, "memory"),
                           "memory") if "memory" in reservations else None,
        )
    c.env = _env_files(svc, directory, interp, notices) + _environment(svc, env)
    return c


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
    node = _keyed(svc.get("environment"))
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
            out.append(EnvVar(str(k), text, where, spot=spot))
    return out


def _env_files(svc: YMap, directory: str, interp: _Interpolator, notices: list[Notice]) -> list[EnvVar]:
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
            continue
        values, _ = parse_env_file(text)
        positions = env_file_positions(text)
        for k, v in values.items():
            line, col = positions.get(k, (1, 1))
            out.append(EnvVar(k, v, Loc(path, line, col), "env_file"))
    return out


_ENV_LINE = re.compile(r"[ \t]*(?:export[ \t]+)?([A-Za-z_][\w.\-\[\]]*)[ \t]*[=:][ \t]*")


def env_file_positions(text: str) -> dict[str, tuple[int, int]]:
    """Where each variable's value starts in an env file (the last assignment wins, as when parsing)."""
    out: dict[str, tuple[int, int]] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        m = _ENV_LINE.match(line)
        if m and not line.lstrip().startswith("#"):
            out[m.group(1)] = (lineno, m.end() + 1)
    return out


__all__ = [
    "build_project",
    "default",
    "is_compose_name",
    "is_override_name",
    "load_env",
    "looks_like_compose",
    "merge",
    "unknown",
]
