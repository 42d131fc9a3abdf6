"""Read: a file's bytes → text, its ``# scalelint:`` comments, and its documents (:mod:`.parse`).

Reading refuses what would hang or exhaust the run (devices, FIFOs, files over
:data:`MAX_FILE_BYTES`) and decodes the way YAML allows; every problem is a
:class:`~scalelint.load.parse.LoadError` with a position, which becomes ``SL000``.
Nothing here knows about Kubernetes or Compose.
"""
from __future__ import annotations

import codecs
import os
import re
import stat
from dataclasses import dataclass, field

from scalelint.load.parse import Document, LoadError, compose_documents
from scalelint.load.tree import Pos

__all__ = [
    "MAX_FILE_BYTES", "Document", "LoadError", "LoadedFile", "Suppressions", "compose_documents", "decode",
    "load_path", "load_text", "looks_like_helm", "read_text", "scan_suppressions",
]

#: Files larger than this are not read (reported as SL000). Real manifests are
#: kilobytes; a generated bundle of several thousand objects is a few MB.
MAX_FILE_BYTES = 64 * 1024 * 1024

_DIRECTIVE = re.compile(r"#\s*scalelint:\s*(disable-file|disable(?:=([A-Za-z0-9_,\- ]+))?)")


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
            # a directive on the line above only counts when it stands alone
            if (codes is not None and (not codes or code in codes or name in codes or "ALL" in codes)
                    and (candidate == line or candidate in self.standalone)):
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
    if len(data) > MAX_FILE_BYTES:  # grew since stat, or a /proc file that says it is empty
        raise LoadError(f"file is over the {MAX_FILE_BYTES} byte limit: not read")
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


def leading_comments(path: str) -> tuple[str, ...]:
    """The comment lines a file starts with, before its first line of content, without ``#``: where
    authors say how a file is run or that it is generated. ``---`` and blank lines are skipped; at
    most the first 4 KB are read (a UTF-8 or UTF-16 BOM honoured, as :func:`decode` does); unreadable: ()."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return ()
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = head[:len(head) // 2 * 2].decode("utf-16", "replace")
    else:  # the 4 KB may end inside a character: only the last line can suffer
        text = head.removeprefix(codecs.BOM_UTF8).decode("utf-8", "replace")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line == "---":
            continue
        if not line.startswith("#"):
            break
        out.append(line.lstrip("#").strip())
    return tuple(out)


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


_HELM_LINE = re.compile(r"^[ \t]*(?:- )?\{\{", re.MULTILINE)


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
