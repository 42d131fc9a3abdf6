"""Dockerfile text: logical lines, shell-style words with ``$VAR`` substitution, JSON arrays.

Docker's own rules, down to where each character was written: continuation lines with the
``# escape=`` character, comment lines dropped even inside a continuation, heredoc bodies
skipped, quotes and escapes removed from words, ``${VAR:-default}`` substituted from the
ARG/ENV in scope, JSON escapes decoded (each decoded character keeps the position of the
escape that wrote it).
"""
from __future__ import annotations

import re
from collections.abc import Mapping

from scalelint.findings import Loc, Notice

from .located import FileOrigin, Word, WordBuilder

__all__ = ["escape_char", "instructions", "json_array", "split_words"]

_HEREDOC = re.compile(r"<<(-?)[ \t]*([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")
_DIRECTIVE = re.compile(r"#\s*([A-Za-z][A-Za-z0-9]*)\s*=\s*(\S*)\s*$")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def escape_char(text: str) -> str:
    """The ``# escape=`` parser directive, read only before the first other line."""
    for line in text.splitlines():
        match = _DIRECTIVE.match(line.strip())
        if not match:
            break
        if match.group(1).lower() == "escape" and match.group(2) in ("\\", "`"):
            return match.group(2)
    return "\\"


def instructions(text: str, origin: FileOrigin, notices: list[Notice]) -> list[tuple[str, Word, Loc]]:
    """Logical lines as (KEYWORD, arguments, position of the keyword).

    Continuations join lines; comment and empty lines inside a continuation are dropped as
    Docker drops them; heredoc bodies after RUN/COPY/ADD are skipped whole.
    """
    escape = escape_char(text)
    out: list[tuple[str, Word, Loc]] = []
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    i = 0
    while i < len(lines):
        builder = WordBuilder()
        started = False
        while i < len(lines):
            raw = lines[i].rstrip("\r\n")
            start = offsets[i]
            i += 1
            stripped = raw.strip()
            if not stripped or stripped.startswith("#"):
                continue  # blank and comment lines, also inside a continuation (Docker drops them)
            body = raw.rstrip(" \t")
            if body.endswith(escape):
                builder.add(origin.word(start, start + len(body) - 1))
                started = True
                continue
            builder.add(origin.word(start, start + len(raw)))
            started = True
            break
        if not started:
            continue
        logical = builder.build().strip()
        keyword_end = len(logical.text.split(None, 1)[0]) if logical.text.split() else 0
        keyword = logical.text[:keyword_end].upper()
        args = logical[keyword_end:].strip()
        where = logical.loc(0) or origin.loc(0)
        out.append((keyword, args, where))
        if keyword in ("RUN", "COPY", "ADD"):
            i = _skip_heredocs(args.text, lines, i, where, notices)
    return out


def _skip_heredocs(args: str, lines: list[str], i: int, where: Loc, notices: list[Notice]) -> int:
    for match in _HEREDOC.finditer(args):
        if args[max(match.start() - 1, 0):match.start()] == "<":
            continue  # <<< is a here-string
        strip_tabs, delimiter = match.group(1) == "-", match.group(3)
        while i < len(lines):
            body = lines[i].rstrip("\r\n")
            i += 1
            if (body.lstrip("\t") if strip_tabs else body) == delimiter:
                break
        else:
            notices.append(Notice(f"heredoc {delimiter} is not closed", where.path, where.line, where.column))
    return i



def split_words(args: Word, escape: str, scope: Mapping[str, Word | None]) -> list[Word]:
    """Split like Docker's shell-word processing: quotes removed, escapes and ``$VAR`` applied."""
    text = args.text
    words: list[Word] = []
    current = WordBuilder()
    has_word = False
    quote = ""
    i = 0
    while i < len(text):
        char = text[i]
        if not quote and char in " \t\n":
            if has_word:
                words.append(current.build())
                current, has_word = WordBuilder(), False
            i += 1
            continue
        has_word = True
        if char == escape and quote != "'" and i + 1 < len(text) and (not quote or text[i + 1] in ('"', "$", escape)):
            current.add(args[i + 1:i + 2])
            i += 2
            continue
        if char in "\"'" and (not quote or quote == char):
            quote = "" if quote else char
            i += 1
            continue
        if char == "$" and quote != "'":
            value, i = _substitute(args, i, escape, scope)
            current.add(value)
            continue
        current.add(args[i:i + 1])
        i += 1
    if has_word:
        words.append(current.build())
    return words


def _substitute(args: Word, i: int, escape: str, scope: Mapping[str, Word | None]) -> tuple[Word, int]:
    """``$NAME``, ``${NAME}``, ``${NAME:-word}``, ``${NAME:+word}`` (and ``-``/``+``/``?``)."""
    text = args.text
    if text.startswith("${", i):
        depth, j = 0, i + 2
        while j < len(text):
            if text[j] == "}" and depth == 0:
                break
            depth += text.startswith("${", j)
            depth -= text[j] == "}"
            j += 1
        if j >= len(text):
            return args[i:i + 1], i + 1
        inner = text[i + 2:j]
        match = _NAME.match(inner)
        if not match:
            return args[i:j + 1], j + 1
        name = match.group(0)
        op_at = match.end()
        rest = inner[op_at:]
        value = scope.get(name)
        is_set = name in scope and value is not None
        nonempty = is_set and value is not None and bool(value.text)
        for op in (":-", ":+", ":?", "-", "+", "?"):
            if rest.startswith(op):
                arg_word = args[i + 2 + op_at + len(op):j]
                alternative = Word.join(split_words(arg_word, escape, scope), " ") if arg_word.text else Word("")
                test = nonempty if op.startswith(":") else is_set
                if op.endswith("-"):
                    return (value if test and value is not None else alternative), j + 1
                if op.endswith("+"):
                    return (alternative if test else Word("")), j + 1
                return (value if test and value is not None else Word("")), j + 1
        if rest:
            return args[i:j + 1], j + 1  # ${NAME#pattern} and friends: keep as written
        return (value or Word("")), j + 1
    match = _NAME.match(text, i + 1)
    if not match:
        return args[i:i + 1], i + 1
    return (scope.get(match.group(0)) or Word("")), match.end()


def json_array(args: Word) -> list[Word] | None:
    """A JSON array of strings, each decoded character mapped to where it is written."""
    text = args.text
    i = _skip_ws(text, 0)
    if not text.startswith("[", i):
        return None
    items: list[Word] = []
    i = _skip_ws(text, i + 1)
    if text.startswith("]", i):
        return items if not text[i + 1:].strip() else None
    while i < len(text):
        if text[i] != '"':
            return None
        builder = WordBuilder()
        i += 1
        while i < len(text) and text[i] != '"':
            if text[i] == "\\":
                decoded, size = _json_escape(text, i)
                if decoded is None:
                    return None
                piece = args[i:i + 1]
                builder.add(Word(decoded, piece.spans[:1]) if piece.spans else Word(decoded))
                i += size
            else:
                builder.add(args[i:i + 1])
                i += 1
        if i >= len(text):
            return None
        items.append(builder.build())
        i = _skip_ws(text, i + 1)
        if text.startswith("]", i):
            return items if not text[i + 1:].strip() else None
        if not text.startswith(",", i):
            return None
        i = _skip_ws(text, i + 1)
    return None


def _skip_ws(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\r\n":
        i += 1
    return i


_SIMPLE_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def _json_escape(text: str, i: int) -> tuple[str | None, int]:
    code = text[i + 1:i + 2]
    if code in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[code], 2
    if code == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", text[i + 2:i + 6]):
        return chr(int(text[i + 2:i + 6], 16)), 6
    return None, 1
