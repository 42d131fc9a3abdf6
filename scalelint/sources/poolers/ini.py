"""``pgbouncer.ini`` read the way PgBouncer reads it, with a position for every value.

The grammar is PgBouncer's own (libusual ``cfparser.c`` ``parse_ini_file``, which PgBouncer
links; described at https://www.pgbouncer.org/config.html#description):

- leading whitespace and blank lines are skipped; a line starting with ``;`` or ``#`` is a
  comment.  ``;``/``#`` later in a line are *not* comments: ``pool_size = 20 ; note`` sets the
  value ``20 ; note``, which PgBouncer then refuses as a number;
- ``[section]`` opens a section; ``%include file`` reads another file there;
- ``key = value``: the key is ``[A-Za-z0-9_.*-]+`` or ``'quoted'``, the value runs to the end of
  the line with trailing blanks dropped; keys and section names are case-sensitive;
- any syntax error stops loading, and PgBouncer does not start.

``[databases]`` values are connection strings (``loader.c`` ``cstr_get_pair``): ``key=value``
pairs separated by spaces, blanks allowed around ``=``, values optionally ``'quoted'`` with
``''`` for a quote.  Nothing here raises on odd input: what PgBouncer would refuse becomes a
problem, what scalelint cannot follow a notice.
"""
from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, field

from scalelint.findings import Loc, Notice
from scalelint.model import Val, known

from .model import Problem, env_text, notice

__all__ = ["IniEntry", "IniFile", "parse_connstring", "parse_pgbouncer_ini"]

_SPACE = " \t\n\v\f\r"  # C isspace() in the C locale
_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-*")


@dataclass(frozen=True)
class IniEntry:
    """One ``key = value`` as PgBouncer will see it.

    ``origin`` is "" for a line of a file; an entrypoint that writes the file from env sets
    it to the env name (``"POOL_SIZE"``), so messages can name what the user wrote.
    """

    section: str  # "" before any [section]
    key: str
    value: Val[str]
    key_loc: Loc | None
    origin: str = ""
    #: connection-string pairs already split (an entrypoint building a [databases] line from
    #: several env values keeps each value's own position); None = parse ``value``
    params: Mapping[str, Val[str]] | None = None


@dataclass
class IniFile:
    path: str
    entries: list[IniEntry] = field(default_factory=list)
    sections: list[tuple[str, Loc]] = field(default_factory=list)
    includes: list[tuple[str, Loc]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)


class _Positions:
    """Offsets in the text → 1-based (line, column) in the file the text came from."""

    def __init__(self, text: str, path: str, line_offset: int, column_offset: int) -> None:
        self.starts = [0] + [i + 1 for i, char in enumerate(text) if char == "\n"]
        self.path, self.line_offset, self.column_offset = path, line_offset, column_offset

    def loc(self, offset: int) -> Loc:
        index = bisect.bisect_right(self.starts, offset) - 1
        column = offset - self.starts[index] + 1
        return Loc(self.path, index + 1 + self.line_offset, column + self.column_offset)


def _line_end(text: str, p: int) -> int:
    end = text.find("\n", p)
    return len(text) if end < 0 else end


def parse_pgbouncer_ini(
    text: str, path: str, *, line_offset: int = 0, column_offset: int = 0
) -> IniFile:
    """Every section, include and ``key = value`` of a ``pgbouncer.ini``, in file order.

    A port of ``parse_ini_file``: where PgBouncer stops at a syntax error, this records the
    problem and goes on at the next line, so one typo does not hide the rest of the file.
    """
    result = IniFile(path)
    if text.startswith("\ufeff"):  # positions are counted without it, as editors show the file
        # parse_ini_file does not skip a byte order mark: the first key is empty, a syntax error
        result.problems.append((("the file starts with a byte order mark: PgBouncer reads it as text, stops "
                                "with a syntax error on line 1 and does not start"), Loc(path, 1 + line_offset, 1)))
        text = text[1:]
    pos = _Positions(text, path, line_offset, column_offset)
    section = ""
    p, n = 0, len(text)
    while p < n:
        while p < n and text[p] in _SPACE:
            p += 1
        if p >= n:
            break
        if text.startswith("%include", p) and p + 8 < n and text[p + 8] in " \t":
            end = _line_end(text, p)
            target = text[p + 8:end].strip(_SPACE)
            result.includes.append((target, pos.loc(p)))
            result.notices.append(notice(f"%include {target}: scalelint does not read included files; "
                                         "settings made there are not known", pos.loc(p)))
            p = end
            continue
        if text[p] in "#;":
            p = _line_end(text, p)
            continue
        if text[p] == "[":
            start, end = p + 1, p + 1
            while end < n and text[end] not in "]\n":
                end += 1
            if end >= n or text[end] != "]":
                result.problems.append(((f"syntax error: section header {text[p:end].strip()!r} has no closing ']'; "
                                        "PgBouncer stops loading and does not start"), pos.loc(p)))
                p = _line_end(text, p)
                continue
            section = text[start:end]
            result.sections.append((section, pos.loc(p)))
            p = end + 1
            continue
        p = _read_pair(text, p, section, pos, result)
    return result


def _read_pair(text: str, p: int, section: str, pos: _Positions, result: IniFile) -> int:
    """Read ``key = value`` at ``p``; return where the next statement starts."""
    n = len(text)
    key_at = p
    if text[p] == "'":
        close = text.find("'", p + 1)
        if close < 0 or close == p + 1:
            return _syntax(result, pos, text, p, "a quoted key is not closed or empty")
        key, p = text[p + 1:close], close + 1
    else:
        while p < n and text[p] in _KEY_CHARS:
            p += 1
        key = text[key_at:p]
    while p < n and text[p] in " \t":
        p += 1
    if p >= n or text[p] != "=":
        what = f"{key!r} is not followed by '='" if key else f"{text[key_at:_line_end(text, key_at)].strip()!r} is not a key"
        return _syntax(result, pos, text, key_at, what)
    p += 1
    while p < n and text[p] in " \t":
        p += 1
    value_at, end = p, _line_end(text, p)
    raw = text[value_at:end].rstrip(_SPACE)
    value_loc = pos.loc(value_at)
    result.entries.append(IniEntry(section, key, known(raw, value_loc), pos.loc(key_at)))
    return end


def _syntax(result: IniFile, pos: _Positions, text: str, at: int, what: str) -> int:
    result.problems.append((f"syntax error: {what}; PgBouncer stops loading the file and does not start", pos.loc(at)))
    return _line_end(text, at)


def _shifted(loc: Loc | None, by: int) -> Loc | None:
    return None if loc is None else Loc(loc.path, loc.line, loc.column + by)


def parse_connstring(value: Val[str]) -> tuple[dict[str, Val[str]], list[str]]:
    """The ``key=value`` pairs of a ``[databases]``/``[users]`` value, each with its column.

    Returns the pairs (a later duplicate wins, as in ``parse_database``) and the syntax errors
    PgBouncer would report (``syntax error in connection string``).  A value that is not
    readable (an unresolved env reference) yields no pairs.
    """
    text, _ = env_text(value)
    if text is None:  # unreadable: no pairs, and nothing PgBouncer would call a syntax error
        return {}, []
    pairs: dict[str, Val[str]] = {}
    errors: list[str] = []
    p, n = 0, len(text)
    while True:
        while p < n and text[p] == " ":
            p += 1
        if p >= n:
            break
        key_at = p
        while p < n and text[p] not in "= ":
            p += 1
        key = text[key_at:p]
        while p < n and text[p] == " ":
            p += 1
        if p >= n or text[p] != "=" or not key:
            errors.append(f"{text[key_at:].split(' ')[0]!r} is not key=value")
            break
        p += 1
        while p < n and text[p] == " ":
            p += 1
        value_at = p
        if p < n and text[p] == "'":
            chars: list[str] = []
            p += 1
            while p < n and not (text[p] == "'" and not text.startswith("''", p)):
                chars.append(text[p])
                p += 2 if text.startswith("''", p) else 1
            if p >= n:
                errors.append(f"the quoted value of {key!r} is not closed")
                break
            item, p = "".join(chars), p + 1
        else:
            while p < n and text[p] != " ":
                p += 1
            item = text[value_at:p]
        if not item:
            errors.append(f"{key!r} has an empty value")
            break
        loc = _shifted(value.loc, value_at) if value.spot is None else value.spot.at(value_at)
        pairs[key] = known(item, loc)
    return pairs, errors

