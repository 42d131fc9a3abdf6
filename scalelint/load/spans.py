"""Positions inside a string scalar: where character *k* of a value was written.

A command string, a ``sh -c`` script or a ``postgresql.conf`` block holds the
number a finding is about somewhere in its middle, possibly lines below the
key. The loader records *anchors* for such scalars — (offset in the value,
1-based line, 1-based column) for the start of each source line's content —
and :func:`position` maps any offset back to the file. Plain single-line
scalars need no anchors: offset k is simply k columns to the right.
"""
from __future__ import annotations

from array import array
from dataclasses import dataclass
from typing import Protocol

from scalelint.findings import by_fields

Anchor = tuple[int, int, int]
Anchors = tuple[Anchor, ...]


@by_fields
@dataclass(frozen=True, slots=True)
class Written:
    """How a string value was written: its anchors, and its text when that differs from the value
    (a compose value before interpolation: ``${UVICORN_WORKERS:-4}`` where the value is ``4``)."""

    anchors: Anchors | None
    text: str | None = None


def wants_anchors(value: str) -> bool:
    """Only strings that may hold commands, assignments or config text pay for anchors."""
    return " " in value or "\n" in value or "=" in value or "\t" in value


class SourceLines:
    """The lines of a stream by number, without a list of them all: one offset per line, found once
    per file (a 40 MB file of 165,000 documents once split its text again for every document)."""

    __slots__ = ("_starts", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._starts: array[int] | None = None

    def _index(self) -> array[int]:
        starts = self._starts
        if starts is None:
            starts = self._starts = array("q", [0])
            find, append, at = self.text.find, starts.append, 0
            while True:
                at = find("\n", at) + 1
                if not at:
                    break
                append(at)
        return starts

    def __len__(self) -> int:
        return len(self._index())

    def __getitem__(self, number: int) -> str:
        starts = self._index()
        end = starts[number + 1] - 1 if number + 1 < len(starts) else len(self.text)
        return self.text[starts[number]:end]


class Lines(Protocol):
    """Source lines by number (a list, or :class:`SourceLines`)."""

    def __len__(self) -> int: ...

    def __getitem__(self, number: int) -> str: ...


def compute(lines: Lines, start: tuple[int, int], end: tuple[int, int], value: str,
            style: str | None) -> Anchors:
    """Anchors of one scalar from the raw source lines and its 0-based start/end marks."""
    line0, col0 = start
    line1, col1 = end
    quoted = 1 if style in ('"', "'") else 0
    if style not in ("|", ">") and line0 == line1:
        return ((0, line0 + 1, col0 + quoted + 1),)
    out: list[Anchor] = []
    cursor = 0
    first = line0 + 1 if style in ("|", ">") else line0
    for ln in range(first, min(line1, len(lines) - 1) + 1):
        raw = lines[ln]
        if ln == line1:
            raw = raw[:col1]
        if ln == line0:
            col = col0 + quoted
            part = raw[col:]
        else:
            part = raw.lstrip(" \t")
            col = len(raw) - len(part)
        content = part.rstrip()
        if quoted and ln == line1 and content.endswith(style or ""):
            content = content[:-1]
        if not content:
            continue
        probe = content[:24].split("\\", 1)[0]  # escapes in double quotes change the text after them
        if not probe:
            continue
        found = value.find(probe, cursor)
        if found < 0:
            continue
        out.append((found, ln + 1, col + 1))
        cursor = found + len(probe)
    return tuple(out)


def position(anchors: Anchors | None, base: tuple[int, int], offset: int) -> tuple[int, int]:
    """Line and column of character ``offset`` of a value that starts at ``base``."""
    if not anchors:
        return base[0], base[1] + offset
    best = anchors[0]
    for anchor in anchors:
        if anchor[0] <= offset:
            best = anchor
        else:
            break
    return best[1], best[2] + (offset - best[0])


def find_after(text: str, needles: list[str]) -> int:
    """Offset of the last needle, each searched after the previous one; -1 when the last is missing.

    ``find_after("gunicorn -w 4 app", ["-w", "4"])`` finds the ``4`` that follows ``-w``.
    """
    cursor = 0
    found = -1
    for i, needle in enumerate(needles):
        if not needle:
            continue
        found = text.find(needle, cursor)
        if found < 0:
            if i == len(needles) - 1:
                return -1
            continue
        cursor = found + len(needle)
    return found
