"""A compose project's files → one merged tree (SPEC §2): variables, interpolation, override rules.

Interpolation runs per file before merging, as Compose does: ``.env`` (or ``--env-file``
files; the process environment only with ``--use-env``), then every string of the file.
The merge follows compose-go's override rules and keeps each value's own file and
position, so a finding points at the file that set it (the override file, when it did).
"""
from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from scalelint.findings import Notice
from scalelint.load.spans import Written, position
from scalelint.load.tree import YMap, YSeq, anchors_of, set_written
from scalelint.model.interpolate import interpolate, parse_env_file

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


class Interpolator:
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


def keyed(node: Any) -> YMap:
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
    out = keyed(base).copy()
    o = keyed(over)
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


_ENV_LINE = re.compile(r"[ \t]*(?:export[ \t]+)?([A-Za-z_][\w.\-\[\]]*)[ \t]*[=:][ \t]*")


def env_file_positions(text: str) -> dict[str, tuple[int, int]]:
    """Where each variable's value starts in an env file (the last assignment wins, as when parsing)."""
    out: dict[str, tuple[int, int]] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        m = _ENV_LINE.match(line)
        if m and not line.lstrip().startswith("#"):
            out[m.group(1)] = (lineno, m.end() + 1)
    return out
