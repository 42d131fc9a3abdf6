"""Load: bytes → positioned YAML documents, or an ``SL000`` problem with a position.

The C composer of ruamel.yaml (``ruamel.yaml.clib``) does the parsing; this
module only turns its nodes into :mod:`scalelint.yamltree` values. Doing the
conversion ourselves lets us resolve merge keys, reject duplicate keys and
bound alias expansion in one pass, and keeps the pure-Python round-trip loader
(an order of magnitude slower) off the hot path.

Nothing here knows about Kubernetes or Compose.
"""
from __future__ import annotations

import codecs
import os
import re
import stat
from dataclasses import dataclass, field
from typing import Any

from .spans import Written, compute, wants_anchors
from .yamltree import Pos, YMap, YSeq

#: Files larger than this are not read (reported as SL000). Real manifests are
#: kilobytes; a generated bundle of several thousand objects is a few MB.
MAX_FILE_BYTES = 64 * 1024 * 1024
#: Collections nested deeper than this are refused: no manifest needs it and the
#: conversion is recursive.
MAX_DEPTH = 256
#: A document may expand through aliases to at most this many nodes beyond its
#: own size (Compose and Kubernetes also refuse "excessive aliasing").
MAX_ALIAS_EXPANSION = 200_000

_TAG = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL, _MERGE = (
    _TAG + "str", _TAG + "int", _TAG + "float", _TAG + "bool", _TAG + "null", _TAG + "merge",
)
_MAP, _SEQ = _TAG + "map", _TAG + "seq"

_DIRECTIVE = re.compile(r"#\s*scalelint:\s*(disable-file|disable(?:=([A-Za-z0-9_,\- ]+))?)")


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


@dataclass
class Suppressions:
    """``# scalelint:`` comments found by a line scan of the raw text."""

    whole_file: bool = False
    #: line → codes disabled on that line (an empty set means every rule)
    lines: dict[int, set[str]] = field(default_factory=dict)
    #: lines holding nothing but the directive: they also cover the next line
    standalone: set[int] = field(default_factory=set)

    def covers(self, line: int, code: str, name: str) -> bool:
        if self.whole_file:
            return True
        for candidate in (line, line - 1):
            codes = self.lines.get(candidate)
            if codes is not None and (not codes or code in codes or name in codes or "ALL" in codes):
                # a directive on the line above only counts when it stands alone
                if candidate == line or candidate in self.standalone:
                    return True
        return False


@dataclass
class LoadedFile:
    path: str
    text: str = ""
    documents: list[Document] = field(default_factory=list)
    error: LoadError | None = None
    suppressions: Suppressions = field(default_factory=Suppressions)
    #: set when the file is not YAML we should lint (e.g. a Helm template)
    skip_reason: str | None = None


def read_text(path: str) -> str:
    """Read a regular file as text. Raises :class:`LoadError` for anything else.

    ``stat`` before ``open`` so that a FIFO or a link to ``/dev/zero`` named
    ``x.yaml`` is never opened (it would block or never end).
    """
    try:
        st = os.stat(path)
    except OSError as exc:
        raise LoadError(f"cannot read file: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        raise LoadError("not a regular file (device, FIFO or socket): not read")
    if st.st_size > MAX_FILE_BYTES:
        raise LoadError(f"file is {st.st_size} bytes, over the {MAX_FILE_BYTES} byte limit: not read")
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise LoadError(f"cannot read file: {exc.strerror or exc}") from None
    return decode(data)


def decode(data: bytes) -> str:
    """Bytes → text the way YAML allows (UTF-8, UTF-16 with BOM), with a positioned error."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise LoadError("invalid UTF-16 text") from None
    nul = data.find(b"\0")
    if nul != -1:
        line, col = _byte_pos(data, nul)
        raise LoadError(f"binary file (NUL byte at line {line}, column {col})", (line, col))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, col = _byte_pos(data, exc.start)
        raise LoadError(
            f"not valid UTF-8: byte 0x{data[exc.start]:02x} at line {line}, column {col}", (line, col)
        ) from None


def _byte_pos(data: bytes, offset: int) -> Pos:
    line_start = data.rfind(b"\n", 0, offset) + 1
    line = data.count(b"\n", 0, offset) + 1
    col = len(data[line_start:offset].decode("utf-8", errors="replace")) + 1
    return line, col


def scan_suppressions(text: str) -> Suppressions:
    sup = Suppressions()
    if "scalelint:" not in text:
        return sup
    for lineno, line in enumerate(text.splitlines(), 1):
        if "scalelint:" not in line:
            continue
        m = _DIRECTIVE.search(line)
        if not m:
            continue
        if m.group(1) == "disable-file":
            sup.whole_file = True
            continue
        codes = {c.strip().upper() for c in (m.group(2) or "").split(",") if c.strip()}
        # rule names are kebab-case; keep their lower-case spelling too
        codes |= {c.lower() for c in codes}
        sup.lines.setdefault(lineno, set()).update(codes)
        if line.lstrip().startswith("#"):
            sup.standalone.add(lineno)
    return sup


_HELM_LINE = re.compile(r"^[ \t]*(?:- )?\{\{", re.M)


def looks_like_helm(text: str) -> bool:
    """True for Go-template text: a line that starts with ``{{`` (control flow, includes).

    A plain ``{{`` inside a string (Prometheus rules, Argo templates) does not count:
    those files are valid YAML and are linted as such.
    """
    return "{{" in text and _HELM_LINE.search(text) is not None


def load_text(path: str, text: str) -> LoadedFile:
    """Parse every document of ``text``; never raises."""
    result = LoadedFile(path=path, text=text)
    result.suppressions = scan_suppressions(text)
    if looks_like_helm(text):
        result.skip_reason = "helm"
        return result
    try:
        result.documents = compose_documents(text, path)
    except LoadError as exc:
        if "{{" in text:
            result.skip_reason = "helm"
        else:
            result.error = exc
    return result


def load_path(path: str) -> LoadedFile:
    try:
        text = read_text(path)
    except LoadError as exc:
        return LoadedFile(path=path, error=exc)
    return load_text(path, text)


_parsers: dict[bool, Any] = {}
#: the pure parser is tried again after a C parser error only below this size
PURE_RETRY_BYTES = 2 * 1024 * 1024


def _parser(pure: bool = False) -> Any:
    if pure not in _parsers:
        from ruamel.yaml import YAML

        try:
            _parsers[pure] = YAML(typ="safe", pure=pure)
        except Exception:  # pragma: no cover - clib missing: fall back to the pure parser
            _parsers[pure] = YAML(typ="safe", pure=True)
    return _parsers[pure]


def compose_documents(text: str, path: str = "") -> list[Document]:
    """All documents of a stream as positioned trees. Raises :class:`LoadError`.

    The C parser (libyaml) is fast but older than the YAML 1.2 grammar in one
    corner (``[host:80]`` in flow sequences); when it refuses a small file, the
    pure-Python parser gets a second look before the file is called invalid.
    """
    try:
        return _compose(text, path, pure=False)
    except LoadError as exc:
        if exc.message.startswith("invalid YAML: found") and len(text) <= PURE_RETRY_BYTES:
            try:
                return _compose(text, path, pure=True)
            except LoadError:
                pass
        raise


def _compose(text: str, path: str, pure: bool) -> list[Document]:
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    docs: list[Document] = []
    try:
        for index, node in enumerate(_parser(pure).compose_all(text)):
            if node is None:
                continue
            conv = _Converter(path, text)
            root = conv.convert(node, 0)
            if root is None:
                continue  # an empty document between two `---`
            docs.append(Document(root=root, index=index, pos=_pos(node)))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        raise LoadError(f"invalid YAML: {_one_line(problem)}", pos) from None
    except YAMLError as exc:  # ReaderError and friends: no mark, a character index at best
        raise LoadError(f"invalid YAML: {_one_line(str(exc))}", _reader_pos(text, exc)) from None
    except RecursionError:
        raise LoadError(f"invalid YAML: nesting deeper than {MAX_DEPTH} levels") from None
    return docs


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

    __slots__ = ("path", "memo", "sizes", "total", "real", "text", "_lines")

    def __init__(self, path: str, text: str = "") -> None:
        self.path = path
        self.text = text
        self._lines: list[str] | None = None
        self.memo: dict[int, Any] = {}
        self.sizes: dict[int, int] = {}
        self.total = 0  # nodes as if every alias were expanded
        self.real = 0  # nodes actually in the document

    def convert(self, node: Any, depth: int) -> Any:
        key = id(node)
        if key in self.memo:
            self.total += self.sizes[key]
            if self.total - self.real > MAX_ALIAS_EXPANSION:
                raise LoadError(
                    f"invalid YAML: aliases expand to more than {MAX_ALIAS_EXPANSION} nodes "
                    "(possible alias bomb)",
                    _pos(node),
                )
            return self.memo[key]
        if depth > MAX_DEPTH:
            raise LoadError(f"invalid YAML: nesting deeper than {MAX_DEPTH} levels", _pos(node))
        self.real += 1
        self.total += 1
        if node.id == "scalar":
            return scalar_value(node)
        before = self.total - 1
        value: Any
        if node.id == "mapping":
            value = self._mapping(node, depth)
        else:
            value = YSeq(_pos(node), self.path)
            for item in node.value:
                converted = self.convert(item, depth + 1)
                if isinstance(converted, str) and wants_anchors(converted):
                    if value.anchors is None:
                        value.anchors = {}
                    value.anchors[len(value)] = self._anchors(item, converted)
                value.push(converted, _pos(item))
        self.memo[key] = value
        self.sizes[key] = self.total - before
        return value

    def _mapping(self, node: Any, depth: int) -> YMap:
        out = YMap(_pos(node), self.path)
        merged: list[tuple[YMap, Pos]] = []
        for knode, vnode in node.value:
            if knode.tag == _MERGE:
                merged.extend(self._merge_sources(vnode, depth))
                continue
            key = self.convert(knode, depth + 1) if knode.id != "scalar" else scalar_value(knode)
            if isinstance(key, (dict, list)):
                key = str(key)
            kpos = _pos(knode)
            if key in out:
                first = out.kpos[key]
                raise LoadError(f"invalid YAML: duplicate key {key!r} (first defined at line {first[0]})", kpos)
            tag = vnode.tag
            custom = None if tag is None or tag.startswith(_TAG) else str(tag)
            converted = self.convert(vnode, depth + 1)
            out.put(key, converted, kpos, _pos(vnode), custom)
            if isinstance(converted, str) and wants_anchors(converted):
                if out.anchors is None:
                    out.anchors = {}
                out.anchors[key] = self._anchors(vnode, converted)
        # explicit keys win over merged ones; among merged maps, the earlier wins
        for source, _ in merged:
            for k, v in source.items():
                if k not in out:
                    out.put(k, v, source.key_pos(k), source.value_pos(k), source.tag(k))
                    anchors = source.anchors.get(k) if source.anchors else None
                    if anchors is not None:
                        if out.anchors is None:
                            out.anchors = {}
                        out.anchors[k] = anchors
        return out

    def _anchors(self, node: Any, value: str) -> Any:
        if self._lines is None:
            self._lines = self.text.split("\n")
        start, end = node.start_mark, node.end_mark
        return Written(compute(self._lines, (start.line, start.column), (end.line, end.column), value,
                               getattr(node, "style", None)))

    def _merge_sources(self, vnode: Any, depth: int) -> list[tuple[YMap, Pos]]:
        value = self.convert(vnode, depth + 1)
        if isinstance(value, dict):
            return [(value, _pos(vnode))]
        if isinstance(value, list) and all(isinstance(v, dict) for v in value):
            return [(v, value.item_pos(i)) for i, v in enumerate(value)]
        raise LoadError("invalid YAML: merge key '<<' needs a mapping or a list of mappings", _pos(vnode))


_INT_PREFIX = {"0x": 16, "0o": 8, "0b": 2}
_SPECIAL_FLOATS = {".inf": float("inf"), "+.inf": float("inf"), "-.inf": float("-inf"), ".nan": float("nan")}


def scalar_value(node: Any) -> Any:
    """Resolve a scalar by the tag the composer's resolver gave it; unknown tags stay text.

    Nothing is constructed from tags: ``!!python/object`` is just a string here.
    """
    tag = node.tag
    text = node.value
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
