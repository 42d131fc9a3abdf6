"""Located text: strings that remember where each of their characters was written.

A worker count in a launch chain is rarely written where it is used: ``--workers $WORKERS``
in a script takes its number from the compose file, ``-w${REDASH_WEB_WORKERS:-4}`` from the
default inside the same token, ``CMD ["fastapi", "run", "--workers", "4"]`` from a JSON
string in a Dockerfile.  Every reader of the chain (Dockerfile, script, server config)
therefore works on :class:`Word` values instead of plain strings: a word's text plus spans
that say, for each character, which file and offset it came from, or which variable value
it is, or why it cannot be known.  Slicing and joining words keeps that information, so a
value found at the end of the chain points back at the character that set it.
"""
from __future__ import annotations

import gc
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol

from scalelint.findings import Loc
from scalelint.model import State, Val, known, unknown

__all__ = ["ArgOrigin", "FileOrigin", "FixedOrigin", "Origin", "Span", "Word", "WordBuilder", "paused_gc"]


#: spans kept per word; a word made of more pieces loses the positions of its middle ones
_MAX_SPANS = 64


class Origin(Protocol):
    """Something characters were written in: maps an offset of it to a position."""

    def loc(self, offset: int) -> Loc: ...


class FileOrigin:
    """A whole file's text; line starts are computed on the first question, not at read time."""

    __slots__ = ("_starts", "path", "text")

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.text = text
        self._starts: list[int] | None = None

    def loc(self, offset: int) -> Loc:
        starts = self._starts
        if starts is None:
            starts = [0]
            find = self.text.find
            at = find("\n")
            while at >= 0:
                starts.append(at + 1)
                at = find("\n", at + 1)
            self._starts = starts
        line = bisect_right(starts, max(offset, 0))
        return Loc(self.path, line, offset - starts[line - 1] + 1)

    def word(self, start: int = 0, end: int | None = None) -> Word:
        end = len(self.text) if end is None else end
        return Word(self.text[start:end], (Span(0, end - start, self, start),))


class FixedOrigin:
    """Text written at one place whose inner positions are not known (every char is there)."""

    __slots__ = ("where",)

    def __init__(self, where: Loc) -> None:
        self.where = where

    def loc(self, offset: int) -> Loc:
        return self.where


class ArgOrigin:
    """A token of the manifest: inner positions come from the token's own ``find``."""

    __slots__ = ("find", "text", "where")

    def __init__(self, text: str, where: Loc, find: Callable[[list[str]], Loc] | None) -> None:
        self.text = text
        self.where = where
        self.find = find

    def loc(self, offset: int) -> Loc:
        if offset <= 0 or self.find is None or offset >= len(self.text):
            return self.where
        # the prefix up to the character, then the character itself searched after it
        return self.find([self.text[:offset], self.text[offset]])


class Span:
    """Characters ``start:end`` of a word and where they come from.

    One of three kinds: written text (``origin`` + ``src``: character k is at
    ``origin.loc(src + k - start)``, or at ``origin.loc(src)`` for all when ``fixed``);
    a variable's value (``val``: every character is where the value was set, with its
    state); or unknown (``reason``, and ``cpu`` = (a, b) when it is a × CPUs + b).
    A plain slotted class: words are sliced per character while scripts are read.
    """

    __slots__ = ("cpu", "end", "fixed", "origin", "reason", "src", "start", "val")

    def __init__(
        self, start: int, end: int, origin: Origin | None = None, src: int = 0, fixed: bool = False,
        val: Val[str] | None = None, reason: str = "", cpu: tuple[float, float] | None = None,
    ) -> None:
        self.start = start
        self.end = end
        self.origin = origin
        self.src = src
        self.fixed = fixed
        self.val = val
        self.reason = reason
        self.cpu = cpu

    def __repr__(self) -> str:
        return f"Span({self.start}, {self.end}, src={self.src}, val={self.val!r}, reason={self.reason!r})"

    def moved(self, start: int, end: int, src: int) -> Span:
        return Span(start, end, self.origin, src, self.fixed, self.val, self.reason, self.cpu)

    @property
    def is_unknown(self) -> bool:
        return bool(self.reason) or (self.val is not None and self.val.state is State.UNKNOWN)

    def why(self) -> str:
        if self.reason:
            return self.reason
        return self.val.reason if self.val is not None else ""

    def loc(self, k: int) -> Loc | None:
        if self.val is not None:
            return self.val.loc
        if self.origin is None:
            return None
        return self.origin.loc(self.src if self.fixed else self.src + k - self.start)


@dataclass(frozen=True)
class Word:
    """A string with the origin of every character (see the module docstring)."""

    text: str
    spans: tuple[Span, ...] = field(default=(), compare=False)

    # --- construction -------------------------------------------------------------------------
    @staticmethod
    def plain(text: str, where: Loc | None) -> Word:
        """Text written at one place (a manifest value without inner positions)."""
        if where is None or not text:
            return Word(text)
        return Word(text, (Span(0, len(text), FixedOrigin(where), 0, True),))

    @staticmethod
    def of_val(val: Val[str], name: str = "") -> Word:
        """A variable's value: unknown values keep a ``${NAME}`` placeholder as their text."""
        if val.state is State.UNKNOWN or val.value is None:
            text = f"${{{name}}}" if name else "?"
            return Word(text, (Span(0, len(text), val=val, reason=val.reason or f"{name} is unknown"),))
        text = str(val.value)
        return Word(text, (Span(0, len(text), val=val),) if text else ())

    @staticmethod
    def unknown(text: str, where: Loc | None, reason: str, cpu: tuple[float, float] | None = None) -> Word:
        text = text or "?"
        origin = FixedOrigin(where) if where is not None else None
        return Word(text, (Span(0, len(text), origin, 0, True, reason=reason, cpu=cpu),))

    @staticmethod
    def join(words: Iterable[Word], sep: str = "") -> Word:
        builder = WordBuilder()
        for i, word in enumerate(words):
            if i and sep:
                builder.add(Word(sep))
            builder.add(word)
        return builder.build()

    # --- reading ------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.text)

    def __str__(self) -> str:
        return self.text

    def __add__(self, other: Word) -> Word:
        return Word.join((self, other))

    def __getitem__(self, item: slice) -> Word:
        start, stop, _ = item.indices(len(self.text))
        stop = max(stop, start)
        spans = []
        for span in self.spans:
            a, b = max(span.start, start), min(span.end, stop)
            if a >= b:
                continue
            spans.append(span.moved(a - start, b - start, span.src if span.fixed else span.src + (a - span.start)))
        return Word(self.text[start:stop], tuple(spans))

    def _spans_in(self, start: int, end: int) -> list[Span]:
        return [s for s in self.spans if s.start < end and s.end > start]

    def loc(self, k: int = 0) -> Loc | None:
        """Where character ``k`` was written (the first located one from there on)."""
        for span in self.spans:
            if span.end > k and span.loc(max(k, span.start)) is not None:
                return span.loc(max(k, span.start))
        for span in reversed(self.spans):
            if span.start <= k and span.loc(span.start) is not None:
                return span.loc(span.start)
        return None

    def unknown_span(self, start: int = 0, end: int | None = None) -> Span | None:
        end = len(self.text) if end is None else end
        for span in self._spans_in(start, max(end, start + 1)):
            if span.is_unknown:
                return span
        return None

    def value(self, start: int = 0, end: int | None = None) -> Val[str]:
        """Characters ``start:end`` as a value: unknown if any of them is, located where written.

        When the characters are exactly one variable's value, the value keeps that variable's
        location and state (a ``default`` stays a default).
        """
        end = len(self.text) if end is None else end
        bad = self.unknown_span(start, end)
        if bad is not None:
            return unknown(bad.loc(max(start, bad.start)), bad.why())
        spans = self._spans_in(start, end)
        if len(spans) == 1 and spans[0].val is not None:
            val = spans[0].val
            return Val(self.text[start:end], val.loc, val.state, val.reason)
        return known(self.text[start:end], self.loc(start))

    def split(self) -> list[Word]:
        """Split at unquoted-style whitespace (the shell's default IFS)."""
        out: list[Word] = []
        i, n, text = 0, len(self.text), self.text
        while i < n:
            while i < n and text[i] in " \t\n":
                i += 1
            j = i
            while j < n and text[j] not in " \t\n":
                j += 1
            if j > i:
                out.append(self[i:j])
            i = j
        return out

    def strip(self) -> Word:
        text = self.text
        a = len(text) - len(text.lstrip())
        b = len(text.rstrip())
        return self[a:max(a, b)]


class WordBuilder:
    """Builds a word piece by piece in linear time, merging spans that continue each other."""

    def __init__(self) -> None:
        self._text: list[str] = []
        self._spans: list[Span] = []
        self._len = 0

    def __len__(self) -> int:
        return self._len

    def add(self, word: Word) -> None:
        if not word.text:
            return
        self._text.append(word.text)
        for span in word.spans:
            start, end = span.start + self._len, span.end + self._len
            last = self._spans[-1] if self._spans else None
            if (
                last is not None and last.end == start and last.origin is span.origin
                and span.origin is not None and not last.fixed and not span.fixed
                and last.val is None and span.val is None and not last.reason and not span.reason
                and last.src + (last.end - last.start) == span.src
            ):
                last.end = end  # spans in a builder are its own copies: extending in place is safe
            else:
                self._spans.append(span.moved(start, end, span.src))
        self._len += len(word.text)

    def add_text(self, text: str) -> None:
        """Characters that were not written anywhere (a separator, a default path)."""
        if text:
            self._text.append(text)
            self._len += len(text)

    def build(self) -> Word:
        spans = self._spans
        if len(spans) > _MAX_SPANS:  # a value built from a chain of others: keep its two ends located
            spans = spans[:_MAX_SPANS // 2] + spans[-_MAX_SPANS // 2:]
        return Word("".join(self._text), tuple(spans))


@contextmanager
def paused_gc() -> Iterator[None]:
    """Run a parse without cyclic garbage collection.

    Parsing allocates many small, acyclic objects (spans, words, tokens) that all stay
    alive until the parse ends; the collector would rescan them again and again, which
    more than doubles the time of a large file.  Reference counting still frees them.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
