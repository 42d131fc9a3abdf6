"""Parse: text → positioned YAML documents, or a :class:`LoadError` with a position.

The C composer of ruamel.yaml (``ruamel.yaml.clib``) does the parsing; this
module only turns its nodes into :mod:`scalelint.load.tree` values. Doing the
conversion ourselves lets us resolve merge keys, reject duplicate keys and
bound alias expansion in one pass, and keeps the pure-Python round-trip loader
(an order of magnitude slower) off the hot path.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from scalelint.load import fastyaml
from scalelint.load.fastyaml import tag_text
from scalelint.load.spans import SourceLines, Written, compute, wants_anchors
from scalelint.load.tree import Pos, YMap, YSeq, anchors_of, set_written

#: Collections nested deeper than this are refused: no manifest needs it; the conversion recurses.
MAX_DEPTH = 256
#: A document may expand through aliases to at most this many nodes beyond its
#: own size (Compose and Kubernetes also refuse "excessive aliasing").
MAX_ALIAS_EXPANSION = 200_000

_TAG = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL, _MERGE = (
    _TAG + "str", _TAG + "int", _TAG + "float", _TAG + "bool", _TAG + "null", _TAG + "merge",
)
_MAP, _SEQ = _TAG + "map", _TAG + "seq"


class LoadError(Exception):
    """Input that cannot be loaded; becomes ``SL000 invalid-input`` at ``pos``."""

    def __init__(self, message: str, pos: Pos = (1, 1)) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos


@dataclass
class Document:
    root: Any
    index: int
    pos: Pos


_parsers: dict[bool, Any] = {}
#: the pure parser is tried again after a C parser error only below this size
PURE_RETRY_BYTES = 2 * 1024 * 1024


def _parser(pure: bool = False) -> Any:
    if pure not in _parsers:
        from ruamel.yaml import YAML

        try:
            _parsers[pure] = YAML(typ="safe", pure=pure)
        except Exception:  # noqa: BLE001  # pragma: no cover - any failure of the C loader: use the pure parser
            _parsers[pure] = YAML(typ="safe", pure=True)
    return _parsers[pure]


def compose_documents(text: str, path: str = "", anchors: bool = True) -> list[Document]:
    """All documents of a stream as positioned trees. Raises :class:`LoadError`.

    ``anchors=False`` skips the positions inside string values (:mod:`scalelint.load.spans`): files
    whose findings never point into a string (rule files) need not pay for them.

    The C parser (libyaml) is fast but older than the YAML 1.2 grammar in one
    corner (``[host:80]`` in flow sequences); when it refuses a small file, the
    pure-Python parser gets a second look before the file is called invalid.
    """
    try:
        return _compose(text, path, pure=False, anchors=anchors)
    except LoadError as exc:
        if exc.message.startswith("invalid YAML: found") and len(text) <= PURE_RETRY_BYTES:
            try:
                return _compose(text, path, pure=True, anchors=anchors)
            except LoadError:
                pass
        raise


def iter_documents(text: str, path: str = "") -> Iterator[Document]:
    """Documents one by one, each free once used; :class:`LoadError` where the stream breaks."""
    if fastyaml.AVAILABLE and len(text) > SAFE_C_DEPTH and _depth_bound(text) > SAFE_C_DEPTH:
        _check_depth(text)
    yield from _iter(text, path, pure=False, anchors=True)


def _compose(text: str, path: str, pure: bool, guarded: bool = False, anchors: bool = True) -> list[Document]:
    if not pure and not guarded and fastyaml.AVAILABLE and len(text) > SAFE_C_DEPTH:
        bound = _depth_bound(text)
        if bound > SAFE_C_DEPTH:  # libyaml's composer recurses in C: 30,000 levels overflow an 8 MB stack
            return _compose_deep(text, path)
    return list(_iter(text, path, pure, anchors))


def _iter(text: str, path: str, pure: bool, anchors: bool) -> Iterator[Document]:
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    lines = SourceLines(text) if anchors else None
    try:
        nodes = fastyaml.compose_all(text) if not pure and fastyaml.AVAILABLE else _parser(pure).compose_all(text)
        for index, node in enumerate(nodes):
            if node is None:
                continue
            conv = _Converter(path, lines)
            root = conv.convert(node, 0)
            if root is None:
                continue  # an empty document between two `---`
            yield Document(root=root, index=index, pos=_pos(node))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        raise LoadError(f"invalid YAML: {_one_line(problem)}", pos) from None
    except YAMLError as exc:  # ReaderError and friends: no mark, a character index at best
        raise LoadError(f"invalid YAML: {_one_line(str(exc))}", _reader_pos(text, exc)) from None
    except RecursionError:
        raise LoadError(f"invalid YAML: nesting deeper than {MAX_DEPTH} levels") from None


#: nesting the C composer certainly survives (it overflows an 8 MB stack past about 20,000 levels)
SAFE_C_DEPTH = 5000
#: a flow collection opened and closed on one line with nothing between that could hide a bracket:
#: plain text, or quoted scalars without brackets where one must start (after ``[``, ``{``, ``,``, ``: ``)
_Q = r"""(?:"[^"\\\n\][{}]*"|'[^'\n\][{}]*')"""
_INNER = rf"""(?:[ \t]*{_Q})?(?:[^][{{}}\n"'#!]|,[ \t]*{_Q}|:[ \t]+{_Q})*"""
_SAME_LINE_PAIR = re.compile(rf"\[{_INNER}\]|\{{{_INNER}\}}")


def _depth_bound(text: str) -> int:
    """An upper bound of the nesting depth, at the cost of a few string scans.

    Block nesting needs a column per level (``- - - x`` two), so the longest line bounds it
    and the flow collections that open and close on one line; every other flow level needs a
    ``[`` or ``{`` that is still there once such one-line pairs are removed (innermost first;
    a quote, comment or tag between the brackets keeps them, as it could hide one).
    """
    longest = _longest_line(text)
    for _ in range(8):  # a pass per level of one-line nesting; stopping early only loosens the bound
        flow = text.count("[") + text.count("{")
        if flow + 2 * longest <= SAFE_C_DEPTH:
            break
        shorter = _SAME_LINE_PAIR.sub("", text)
        if len(shorter) == len(text):
            break
        text = shorter
    return text.count("[") + text.count("{") + 2 * longest


def _compose_deep(text: str, path: str) -> list[Document]:
    """Refuse nesting deeper than :data:`MAX_DEPTH` with a pass over the parser's events
    (iterative, about the cost of composing) before the composer recurses into it."""
    _check_depth(text)
    return _compose(text, path, False, guarded=True)


def _check_depth(text: str) -> None:
    """Refuse nesting deeper than :data:`MAX_DEPTH` by a pass over the parser's events (iterative).

    Invalid YAML is left to the composer: it stops at the same event, before any deeper one.
    """
    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.events import CollectionEndEvent, CollectionStartEvent, ScalarEvent, StreamEndEvent

    parser = fastyaml.CParser(text)
    try:
        depth = 0
        while True:
            event = parser.get_event()
            if event is None or isinstance(event, StreamEndEvent):
                return
            if isinstance(event, CollectionEndEvent):
                depth -= 1
            elif isinstance(event, (CollectionStartEvent, ScalarEvent)):
                if depth > MAX_DEPTH:
                    mark = event.start_mark
                    raise LoadError(f"invalid YAML: nesting deeper than {MAX_DEPTH} levels",
                                    (mark.line + 1, mark.column + 1))
                if isinstance(event, CollectionStartEvent):
                    depth += 1
    except YAMLError:
        return
    finally:
        parser.dispose()


def _longest_line(text: str, chunk: int = 1 << 20) -> int:
    """Length of the longest line, a megabyte at a time (no list of every line of a large file)."""
    longest = carry = 0
    for start in range(0, len(text), chunk):
        lines = text[start:start + chunk].split("\n")
        if len(lines) == 1:
            carry += len(lines[0])
            continue
        longest = max(longest, carry + len(lines[0]), max(map(len, lines[1:-1]), default=0))
        carry = len(lines[-1])
    return max(longest, carry)


def _reader_pos(text: str, exc: Exception) -> Pos:
    index = getattr(exc, "position", None)
    if isinstance(index, int) and 0 <= index <= len(text):
        line = text.count("\n", 0, index) + 1
        return line, index - (text.rfind("\n", 0, index) + 1) + 1
    return (1, 1)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _pos(node: Any) -> Pos:
    mark = node.start_mark
    return (mark.line + 1, mark.column + 1)


class _Converter:
    """One document's node graph → YMap/YSeq/scalars.

    Aliased nodes are the same node object; converting each once (memo by id)
    makes a billion-laughs document cost its real size, and the expanded size
    is still counted so that such a document is refused rather than handed on.
    """

    __slots__ = ("lines", "memo", "path", "real", "sizes", "total")

    def __init__(self, path: str, lines: SourceLines | None) -> None:
        """``lines`` None: no anchors for string values."""
        self.path = path
        self.lines = lines
        self.memo: dict[int, Any] = {}
        self.sizes: dict[int, int] = {}
        self.total = 0  # nodes as if every alias were expanded
        self.real = 0  # nodes actually in the document

    def convert(self, node: Any, depth: int) -> Any:
        # the hot loop of every run: attribute and global look-ups are hoisted, positions inlined
        if node.id == "scalar":
            if depth > MAX_DEPTH:
                raise LoadError(f"invalid YAML: nesting deeper than {MAX_DEPTH} levels", _pos(node))
            self.real += 1
            self.total += 1
            return scalar_value(node)
        key = id(node)
        memo = self.memo
        if key in memo:
            self.total += self.sizes[key]
            if self.total - self.real > MAX_ALIAS_EXPANSION:
                raise LoadError(
                    f"invalid YAML: aliases expand to more than {MAX_ALIAS_EXPANSION} nodes "
                    "(possible alias bomb)",
                    _pos(node),
                )
            return memo[key]
        if depth > MAX_DEPTH:
            raise LoadError(f"invalid YAML: nesting deeper than {MAX_DEPTH} levels", _pos(node))
        self.real += 1
        self.total += 1
        before = self.total - 1
        value: Any
        if node.id == "mapping":
            value = self._mapping(node, depth)
        else:
            mark = node.start_mark
            value = YSeq((mark.line + 1, mark.column + 1), self.path)
            ipos = value.ipos
            convert = self.convert
            for item in node.value:
                if item.id == "scalar" and depth < MAX_DEPTH:
                    self.real += 1
                    self.total += 1
                    tag = tag_text(item)
                    converted = item.value if tag == _STR else _scalar(item.value, tag)
                    if converted.__class__ is str and self.lines is not None and wants_anchors(converted):
                        if value.anchors is None:
                            value.anchors = {}
                        value.anchors[len(value)] = self._anchors(item, converted)
                else:
                    converted = convert(item, depth + 1)
                mark = item.start_mark
                value.append(converted)
                ipos.append((mark.line + 1, mark.column + 1))
        memo[key] = value
        self.sizes[key] = self.total - before
        return value

    def _mapping(self, node: Any, depth: int) -> YMap:
        mark = node.start_mark
        out = YMap((mark.line + 1, mark.column + 1), self.path)
        kposes, vposes = out.kpos, out.vpos
        merged: list[tuple[YMap, Pos]] = []
        convert = self.convert
        anchored = self.lines is not None
        for knode, vnode in node.value:
            tag = tag_text(knode)
            if tag == _MERGE:
                merged.extend(self._merge_sources(vnode, depth))
                continue
            if knode.id == "scalar":
                key = knode.value if tag == _STR else _scalar(knode.value, tag)
            else:
                key = convert(knode, depth + 1)
                if isinstance(key, (dict, list)):
                    key = str(key)
            mark = knode.start_mark
            kpos = (mark.line + 1, mark.column + 1)
            if key in out and not _same_key(out, key):
                # 1, 1.0 and true are different YAML keys but one Python dict key: keep the text
                key = knode.value if knode.id == "scalar" else str(key)
            if key in out:
                first = kposes[key]
                raise LoadError(f"invalid YAML: duplicate key {key!r} (first defined at line {first[0]})", kpos)
            tag = tag_text(vnode)
            if vnode.id == "scalar" and depth < MAX_DEPTH:
                self.real += 1
                self.total += 1
                converted = vnode.value if tag == _STR else _scalar(vnode.value, tag)
            else:
                converted = convert(vnode, depth + 1)
            mark = vnode.start_mark
            out[key] = converted
            kposes[key] = kpos
            vposes[key] = (mark.line + 1, mark.column + 1)
            if tag is not None and not tag.startswith(_TAG):
                if out.tags is None:
                    out.tags = {}
                out.tags[key] = tag
            if converted.__class__ is str and anchored and wants_anchors(converted):
                if out.anchors is None:
                    out.anchors = {}
                out.anchors[key] = self._anchors(vnode, converted)
        # explicit keys win over merged ones; among merged maps, the earlier wins
        for source, _ in merged:
            for k, v in source.items():
                if k not in out:
                    out.put(k, v, source.key_pos(k), source.value_pos(k), source.tag(k))
                    set_written(out, k, anchors_of(source, k))
        return out

    def _anchors(self, node: Any, value: str) -> Any:
        assert self.lines is not None
        start, end = node.start_mark, node.end_mark
        return Written(compute(self.lines, (start.line, start.column), (end.line, end.column), value,
                               getattr(node, "style", None)))

    def _merge_sources(self, vnode: Any, depth: int) -> list[tuple[YMap, Pos]]:
        value = self.convert(vnode, depth + 1)
        if isinstance(value, YMap):
            return [(value, _pos(vnode))]
        if isinstance(value, YSeq) and all(isinstance(v, YMap) for v in value):
            return [(v, value.item_pos(i)) for i, v in enumerate(value)]
        raise LoadError("invalid YAML: merge key '<<' needs a mapping or a list of mappings", _pos(vnode))


def _same_key(out: YMap, key: Any) -> bool:
    """Is ``key`` a YAML duplicate of a key already in ``out``, not merely equal in Python (``1 == True``)?"""
    for k in out:
        if k == key:
            return type(k) is type(key)
    return True


_INT_PREFIX = {"0x": 16, "0o": 8, "0b": 2}
_SPECIAL_FLOATS = {".inf": float("inf"), "+.inf": float("inf"), "-.inf": float("-inf"), ".nan": float("nan")}


def scalar_value(node: Any) -> Any:
    """Resolve a scalar by the tag the composer's resolver gave it; unknown tags stay text.

    Nothing is constructed from tags: ``!!python/object`` is just a string here.
    """
    return _scalar(node.value, tag_text(node))


def _scalar(text: str, tag: str | None) -> Any:
    if tag == _STR or tag is None:
        return text
    try:
        if tag == _INT:
            t = text.replace("_", "").lower()
            sign = -1 if t.startswith("-") else 1
            t = t.lstrip("+-")
            base = _INT_PREFIX.get(t[:2])
            return sign * (int(t[2:], base) if base else int(t, 10))
        if tag == _FLOAT:
            t = text.replace("_", "").lower()
            return _SPECIAL_FLOATS[t] if t in _SPECIAL_FLOATS else float(t)
        if tag == _BOOL:
            return text.lower() in ("true", "yes", "on", "y")
        if tag == _NULL:
            return None
    except (ValueError, KeyError):
        return text
    return text
