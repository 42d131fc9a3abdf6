"""The positioned tree every later stage reads.

ruamel's C composer gives nodes with marks; we turn them into plain ``dict`` and
``list`` subclasses that remember where each key and value started. Scalars
stay native Python values (str, int, float, bool, None) so model code reads
like ordinary dict access; the position of a scalar is kept by its parent.
Lines and columns are 1-based.
"""
from __future__ import annotations

from typing import Any

Pos = tuple[int, int]


class YMap(dict):  # type: ignore[type-arg]
    """A mapping that knows where it, each key and each value start."""

    __slots__ = ("anchors", "kpos", "origin", "path", "pos", "tags", "vpos")

    def __init__(self, pos: Pos = (0, 0), path: str = "") -> None:
        super().__init__()
        self.pos = pos
        #: the file this mapping was read from
        self.path = path
        self.kpos: dict[Any, Pos] = {}
        self.vpos: dict[Any, Pos] = {}
        self.tags: dict[Any, str] | None = None
        #: keys merged in from another file (compose overrides) → that file
        self.origin: dict[Any, str] | None = None
        #: string values that may hold commands or config text → their :mod:`scalelint.load.spans` anchors
        self.anchors: dict[Any, Any] | None = None

    def key_path(self, key: Any) -> str:
        if self.origin and key in self.origin:
            return self.origin[key]
        return self.path

    def key_pos(self, key: Any) -> Pos:
        return self.kpos.get(key, self.pos)

    def value_pos(self, key: Any) -> Pos:
        return self.vpos.get(key, self.kpos.get(key, self.pos))

    def tag(self, key: Any) -> str | None:
        return self.tags.get(key) if self.tags else None

    def put(self, key: Any, value: Any, kpos: Pos, vpos: Pos, tag: str | None = None, path: str | None = None) -> None:
        self[key] = value
        self.kpos[key] = kpos
        self.vpos[key] = vpos
        if path is not None and path != self.path:
            if self.origin is None:
                self.origin = {}
            self.origin[key] = path
        elif self.origin and key in self.origin:
            del self.origin[key]
        if tag is not None:
            if self.tags is None:
                self.tags = {}
            self.tags[key] = tag
        elif self.tags and key in self.tags:
            del self.tags[key]

    def copy(self) -> YMap:  # type: ignore[override]
        new = YMap(self.pos, self.path)
        new.update(self)
        new.kpos = dict(self.kpos)
        new.vpos = dict(self.vpos)
        new.tags = dict(self.tags) if self.tags else None
        new.origin = dict(self.origin) if self.origin else None
        new.anchors = dict(self.anchors) if self.anchors else None
        return new


class YSeq(list):  # type: ignore[type-arg]
    """A sequence that knows where it and each item start."""

    __slots__ = ("anchors", "ipos", "origin", "path", "pos")

    def __init__(self, pos: Pos = (0, 0), path: str = "") -> None:
        super().__init__()
        self.pos = pos
        self.path = path
        self.ipos: list[Pos] = []
        #: items appended from another file (compose overrides) → that file
        self.origin: dict[int, str] | None = None
        #: string items that may hold commands → their :mod:`scalelint.load.spans` anchors
        self.anchors: dict[int, Any] | None = None

    def key_path(self, index: int) -> str:
        if self.origin and index in self.origin:
            return self.origin[index]
        return self.path

    def item_pos(self, index: int) -> Pos:
        if 0 <= index < len(self.ipos):
            return self.ipos[index]
        return self.pos

    def push(self, value: Any, pos: Pos, path: str | None = None) -> None:
        if path is not None and path != self.path:
            if self.origin is None:
                self.origin = {}
            self.origin[len(self)] = path
        self.append(value)
        self.ipos.append(pos)


def anchors_of(node: YMap | YSeq, key: Any) -> Any:
    return node.anchors.get(key) if node.anchors else None


def set_written(node: YMap | YSeq, key: Any, written: Any) -> None:
    """Record (or, with None, forget) how the string at ``key`` was written (see :mod:`scalelint.load.spans`)."""
    if written is None:
        if node.anchors and key in node.anchors:
            del node.anchors[key]
        return
    if node.anchors is None:
        node.anchors = {}
    node.anchors[key] = written


def get_map(node: Any, key: str) -> YMap | None:
    """``node[key]`` when both are mappings; None for any other shape (wrong types never raise)."""
    if isinstance(node, dict):
        value = node.get(key)
        if isinstance(value, dict):
            return value  # type: ignore[return-value]
    return None


def get_seq(node: Any, key: str) -> YSeq | None:
    if isinstance(node, dict):
        value = node.get(key)
        if isinstance(value, list):
            return value  # type: ignore[return-value]
    return None


def get_str(node: Any, key: str) -> str | None:
    """A scalar as text (numbers too, as YAML wrote them is lost, so ``str(value)``); None otherwise."""
    if isinstance(node, dict):
        value = node.get(key)
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return str(value)
    return None


def to_plain(node: Any) -> Any:
    """Plain dict/list copy (for JSON Schema validation and tests)."""
    if isinstance(node, dict):
        return {k if isinstance(k, str) else str(k): to_plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [to_plain(v) for v in node]
    return node
