"""Point the objects of a rendered Helm stream at their templates (``# Source:`` comments).

Templates are not YAML, so there are no nodes to walk: each rendered document's
lines are aligned to its template's lines by their keys (difflib), values
ignored, since values are what templating changes. A matched line keeps its
column relative to the indentation; a line no template line matches (made by
``include`` or ``toYaml``) maps to the ``{{ ... }}`` action between its matched
neighbours, else to the matched line before it. A template that yields several
documents (``---`` inside, or a ``range``) is split at ``---`` and the n-th
rendered document of that source is aligned to the n-th part when the counts agree.
"""
from __future__ import annotations

import bisect
import difflib
import re
from collections.abc import Callable

from scalelint.load.parse import Document
from scalelint.load.tree import Pos
from scalelint.render.sourcemap import SourceFiles, point_all, repoint

_SOURCE = re.compile(r"^# Source: (\S.*?)\s*$")
_SEPARATOR = re.compile(r"^---(\s|$)")
_ACTION_ONLY = re.compile(r"^\s*(?:\{\{.*?\}\}\s*)+$")
_KEY = re.compile(r"^((?:- )*)([^\s:{}\[\]#'\"][^:#]*?|\"[^\"]*\"|'[^']*'):(?:\s|$)")


def source_comments(text: str) -> list[tuple[int, str | None]]:
    """(line, source) for each ``# Source:`` comment and (line, None) for each ``---`` separator."""
    marks: list[tuple[int, str | None]] = []
    if "# Source:" not in text:
        return marks
    for lineno, line in enumerate(text.splitlines(), 1):
        if line.startswith("# Source:"):
            m = _SOURCE.match(line)
            if m:
                marks.append((lineno, m.group(1)))
        elif _SEPARATOR.match(line):
            marks.append((lineno, None))
    return marks


def doc_sources(text: str, documents: list[Document]) -> list[tuple[str | None, int, int]]:
    """For each document: (the ``# Source:`` written above it, its first line, its last line)."""
    marks = source_comments(text)
    separators = [ln for ln, s in marks if s is None]
    total = text.count("\n") + 1
    out = []
    for doc in documents:
        start = doc.pos[0]
        source = None
        for ln, s in marks:
            if ln >= start:
                break
            source = s  # a separator after the comment resets it
        end = next((ln - 1 for ln in separators if ln > start), total)
        out.append((source, start, end))
    return out


def _token(line: str) -> str | None:
    s = line.strip()
    if not s or s.startswith("#") or _SEPARATOR.match(s):
        return None
    m = _KEY.match(s)
    if m:
        return m.group(1) + m.group(2) + ":"
    if s.startswith("- "):
        rest = s[2:].strip()
        return "- " + ("{{}}" if "{{" in rest else rest)
    return "{{}}" if "{{" in s else s


def _segments(lines: list[str]) -> list[tuple[int, int]]:
    """Line ranges (0-based, end exclusive) of the ``---``-separated documents of a template."""
    bounds, start = [], 0
    for i, line in enumerate(lines):
        if _SEPARATOR.match(line):
            bounds.append((start, i))
            start = i + 1
    bounds.append((start, len(lines)))
    return [(a, b) for a, b in bounds if any(_token(x) and not _ACTION_ONLY.match(x) for x in lines[a:b])]


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def align(rendered: list[str], first: int, last: int, template: list[str],
          segment: tuple[int, int]) -> Callable[[Pos], Pos]:
    """A position mapper: rendered stream (line, col) → template (line, col).

    ``rendered`` is the whole stream; ``first``..``last`` the 1-based lines of the
    document. Matched lines keep their column relative to the indentation; a line no
    template line matches goes to the template action that produced it (the first
    ``{{ ... }}``-only line between its matched neighbours), else to the matched
    line before it.
    """
    lo, hi = segment
    r_idx = [i for i in range(first - 1, min(last, len(rendered))) if _token(rendered[i]) is not None]
    t_idx = [i for i in range(lo, hi) if _token(template[i]) is not None and not _ACTION_ONLY.match(template[i])]
    actions = [i for i in range(lo, hi) if _ACTION_ONLY.match(template[i])]
    sm = difflib.SequenceMatcher(None, [_token(rendered[i]) for i in r_idx], [_token(template[i]) for i in t_idx],
                                 autojunk=False)
    matched: dict[int, int] = {}
    for a, b, size in sm.get_matching_blocks():
        for k in range(size):
            matched[r_idx[a + k]] = t_idx[b + k]
    keys = sorted(matched)

    def target(rline: int) -> tuple[int, bool]:
        if rline in matched:
            return matched[rline], True
        at = bisect.bisect_left(keys, rline)
        prev_t = matched[keys[at - 1]] if at > 0 else lo - 1
        next_t = matched[keys[at]] if at < len(keys) else hi
        for a in actions:
            if prev_t < a < next_t:
                return a, False
        return (prev_t if prev_t >= lo else (t_idx[0] if t_idx else lo)), False

    def fn(pos: Pos) -> Pos:
        rline = pos[0] - 1
        t, exact = target(rline)
        if not (0 <= t < len(template)):
            return (1, 1)
        tl = template[t]
        if not exact or not (0 <= rline < len(rendered)):
            return (t + 1, _indent(tl) + 1)
        col = pos[1] - _indent(rendered[rline]) + _indent(tl)
        return (t + 1, max(1, min(col, len(tl) + 1)))

    return fn


def map_helm_documents(text: str, documents: list[Document], resolve: Callable[[str], str | None],
                       files: SourceFiles, fallback: tuple[str, Pos] | None) -> None:
    """Re-point each document under a ``# Source:`` comment at its template, line by line.

    ``resolve`` turns the comment's path into a readable file (or None); a document
    whose template cannot be read points at line 1 of ``fallback`` or, without one,
    at line 1 of the path as written.
    """
    placed = doc_sources(text, documents)
    counts: dict[str, int] = {}
    for source, _, _ in placed:
        if source:
            counts[source] = counts.get(source, 0) + 1
    seen: dict[str, int] = {}
    rendered = text.splitlines()
    for doc, (source, start, end) in zip(documents, placed):
        if source is None:
            if fallback is not None:
                point_all(doc.root, *fallback)
            continue
        nth = seen.get(source, 0)
        seen[source] = nth + 1
        path = resolve(source)
        tmpl = files.text(path) if path else None
        if path is None or tmpl is None:
            if fallback is not None:
                point_all(doc.root, *fallback)
            else:
                point_all(doc.root, source, (1, 1))
            continue
        tlines = tmpl.splitlines()
        segs = _segments(tlines)
        segment = segs[nth] if len(segs) == counts[source] and nth < len(segs) else (0, len(tlines))
        repoint(doc.root, path, align(rendered, start, end, tlines, segment))
