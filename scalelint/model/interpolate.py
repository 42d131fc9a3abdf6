"""Docker Compose variable interpolation and ``.env`` parsing, as Compose does it.

A linter that reads a compose file without interpolating it checks text the
engine never sees (``image: ${REGISTRY:-docker.io}/app``), so the checks need
the exact substitution compose-go's ``template`` package performs. The rules
below follow compose-go (template/template.go) and its ``dotenv`` parser;
where our behaviour knowingly differs, the comment at that spot says why.

Both entry points are pure and never raise: a linter must report a broken
template, not crash on it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

_NAME = re.compile(r"[_a-zA-Z][_a-zA-Z0-9]*")
# Runs of text with nothing to interpret: at top level only ``$`` matters; in a
# default/alternative/message operand the braces count too (for nesting).
_PLAIN_TOP = re.compile(r"[^$]+")
_PLAIN_OPERAND = re.compile(r"[^${}]+")
# Two-character operators first, so ``:-`` is never read as ``:`` + ``-``.
_OPERATORS = (":-", ":?", ":+", "-", "?", "+")


@dataclass(frozen=True)
class Interpolated:
    """The outcome of one interpolation, with everything a rule may report."""

    value: str
    unset: tuple[str, ...]
    errors: tuple[str, ...]
    used: tuple[str, ...]
    changed: bool


def has_interpolation(text: str) -> bool:
    """Cheap pre-check so callers can skip the parser for the common case."""
    return "$" in text


class _Frame:
    """One open ``${NAME<op>`` whose operand is still being read.

    Open braces live on an explicit stack instead of the call stack, which is
    what lets 5,000-deep nesting work. The operand is written straight into
    the shared output after a literal ``${NAME<op>`` placeholder at ``mark``;
    closing the brace then keeps, drops or replaces that tail, so every piece
    of text is copied once however deep it sits (linear time), and an
    operand that never closes is already in the output literally.
    """

    __slots__ = ("depth", "mark", "name", "op")

    def __init__(self, name: str, op: str, mark: int) -> None:
        self.name = name
        self.op = op
        self.mark = mark
        # Bare ``{``/``}`` pairs inside the operand: compose-go's brace matcher
        # counts every ``{``, so ``${A:-{x}}`` has the default ``{x}``.
        self.depth = 0


class _Interpolator:
    """A single left-to-right pass over the template."""

    def __init__(self, text: str, lookup: Mapping[str, str]) -> None:
        self.text = text
        self.lookup = lookup
        self.out: list[str] = []
        self.stack: list[_Frame] = []
        # dicts as ordered sets: reports keep first-appearance order.
        self.used: dict[str, None] = {}
        self.unset: dict[str, None] = {}
        self.errors: dict[str, None] = {}
        self.changed = False
        self.invalid = False

    def run(self) -> Interpolated:
        text, n, i, out = self.text, len(self.text), 0, self.out
        while i < n:
            frame = self.stack[-1] if self.stack else None
            ch = text[i]
            if ch == "$":
                i = self._dollar(i)
            elif frame is not None and ch == "{":
                frame.depth += 1
                out.append(ch)
                i += 1
            elif frame is not None and ch == "}":
                if frame.depth:
                    frame.depth -= 1
                    out.append(ch)
                else:
                    self._close()
                i += 1
            else:
                plain = _PLAIN_TOP if frame is None else _PLAIN_OPERAND
                match = plain.match(text, i)
                end = match.end() if match else i + 1
                out.append(text[i:end])
                i = end
        if self.stack:
            # Operands that never met their ``}`` stay as literal text.
            self._report_invalid()
        return Interpolated(
            value="".join(out),
            unset=tuple(self.unset),
            errors=tuple(self.errors),
            used=tuple(self.used),
            changed=self.changed,
        )

    def _dollar(self, i: int) -> int:
        """Interpret the ``$`` at ``i``; return where scanning resumes."""
        text, out = self.text, self.out
        nxt = text[i + 1 : i + 2]
        if nxt == "$":
            self.changed = True
            out.append("$")
            return i + 2
        named = _NAME.match(text, i + 1)
        if named:
            self.changed = True
            out.append(self._plain(named.group()))
            return named.end()
        if nxt != "{":
            # compose-go's pattern only flags ``${`` as invalid: ``$1``, ``$ ``,
            # ``$}`` and a trailing ``$`` match nothing and stay literal
            # (its TestUnescaped: "a $ string", "^REGEX$", "$}", "$").
            out.append("$")
            return i + 1
        self.changed = True
        braced = _NAME.match(text, i + 2)
        if braced is None:
            return self._invalid(i)
        name, j = braced.group(), braced.end()
        if text.startswith("}", j):
            out.append(self._plain(name))
            return j + 1
        for op in _OPERATORS:
            if text.startswith(op, j):
                self._note_used(name)
                self.stack.append(_Frame(name, op, len(out)))
                out.append("${" + name + op)
                return j + len(op)
        # Anything else after the name (``${A:x}``, ``${A }``) is invalid, as
        # in compose-go. Two knowing differences: compose-go's ``.`` does not
        # cross a newline, so it rejects a default spanning lines, which we
        # accept; and its ``${name[key]}`` named-mapping form, which compose
        # only enables internally, is reported here as invalid.
        return self._invalid(i)

    def _invalid(self, i: int) -> int:
        """Report a malformed ``${`` and keep it as literal text.

        compose-go fails the whole file here; continuing past the ``${`` lets
        the linter still check everything else in the value.
        """
        self._report_invalid()
        self.out.append("${")
        if self.stack:
            self.stack[-1].depth += 1  # compose-go's brace matcher counts this ``{``
        return i + 2

    def _report_invalid(self) -> None:
        """Record the format error once: it names the whole text, like compose."""
        if not self.invalid:
            self.invalid = True
            self.errors[f"invalid interpolation format for '{self.text}'"] = None

    def _note_used(self, name: str) -> None:
        self.used[name] = None

    def _get(self, name: str) -> str | None:
        """Look a name up; ``None`` means unset, as distinct from empty."""
        try:
            value = self.lookup[name]
        except (KeyError, TypeError):
            return None
        return None if value is None else str(value)

    def _plain(self, name: str) -> str:
        """``$NAME`` / ``${NAME}``: an unset variable becomes "" (compose warns)."""
        self._note_used(name)
        value = self._get(name)
        if value is None:
            self.unset[name] = None
            return ""
        return value

    def _close(self) -> None:
        """Apply the operator of the innermost open frame at its ``}``.

        The operand was interpolated before the variable is looked at, as in
        compose-go: so ``${SET:-${MISSING:?boom}}`` still reports ``boom`` and
        ``${SET:-$MISSING}`` still reports MISSING as unset.
        """
        frame = self.stack.pop()
        out, mark, op = self.out, frame.mark, frame.op
        value = self._get(frame.name)
        if op in (":-", "-"):
            use_operand = value is None or (op == ":-" and not value)
        elif op in (":+", "+"):
            use_operand = value is not None and (op == "+" or value != "")
            value = None  # absent or not: the variable's own text is never used
        elif value is None or (op == ":?" and not value):
            # Wording per this project's contract; compose-go itself says
            # "required variable NAME is missing a value: MESSAGE".
            message = "".join(out[mark + 1 :])
            if message:
                self.errors[f"{frame.name}: {message}"] = None
            else:
                self.errors[f"required variable {frame.name} is missing a value"] = None
            use_operand = False
        else:
            use_operand = False
        if use_operand:
            out[mark] = ""  # drop the ``${NAME<op>`` placeholder, keep the operand
            return
        del out[mark:]
        if value:
            out.append(value)


def interpolate(text: str, lookup: Mapping[str, str]) -> Interpolated:
    """Substitute ``$VAR`` / ``${VAR...}`` in ``text`` the way Compose does.

    Never raises: failures land in ``errors`` and the best-effort value is
    still returned, so one bad variable does not hide every other finding.
    """
    if not isinstance(text, str):
        text = str(text)
    if "$" not in text:
        return Interpolated(text, (), (), (), False)
    return _Interpolator(text, lookup).run()


# --------------------------------------------------------------------------
# .env / env_file parsing (compose-go dotenv)
# --------------------------------------------------------------------------

# dotenv's isSpace: blanks that are not a line break.
_ENV_SPACE = "\t\v\f\r \x85\xa0"
_EXPORT = re.compile(r"export[\t\f\r ]+")
# The escapes dotenv expands in double-quoted values; others stay verbatim.
_ESCAPE = re.compile(r'\\(?:[abcfnrtv$"\\]|0[0-9]{0,3})')
_SIMPLE_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "c": "\\c",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    '"': '"',
    "\\": "\\",
    # ``\$`` is a literal dollar; ``$$`` is how interpolation spells that.
    "$": "$$",
}


def _expand_escape(match: re.Match[str]) -> str:
    body = match.group()[1:]
    if body[0] != "0":
        return _SIMPLE_ESCAPES[body]
    # ``\0ooo``: Go rewrites it to ``\ooo``, valid only with 3 octal digits <= 255.
    digits = body[1:]
    if len(digits) == 3 and all(d in "01234567" for d in digits) and int(digits, 8) <= 255:
        return chr(int(digits, 8))
    return match.group()


def _is_key_char(ch: str) -> bool:
    """A dotenv key may hold letters, digits and ``_ . - [ ]``."""
    return ch in "_.-[]" or unicodedata.category(ch)[0] in "LN"


def _scan_key(stmt: str) -> tuple[str, int | None, str | None]:
    """Split off the key; return (key, index of ``=``/``:`` or None, problem)."""
    for j, ch in enumerate(stmt):
        if ch in _ENV_SPACE:
            continue
        if ch in "=:":  # dotenv also accepts the YAML-ish ``KEY: value``
            return stmt[:j].rstrip(), j, None
        if not _is_key_char(ch):
            return "", None, f"unexpected character {ch!r} in variable name"
    return stmt.rstrip(), None, None


def _find_close(segment: str, quote: str) -> int:
    r"""Index of the closing quote in ``segment``, or -1.

    For double quotes a backslash escapes the next character, so ``"a\\"``
    ends where a shell would end it; dotenv only checks the character before
    the quote. Single quotes follow dotenv: ``\'`` does not close.
    """
    i = 0
    while i < len(segment):
        ch = segment[i]
        if ch == "\\" and quote == '"':
            i += 2
            continue
        if ch == quote and (quote == '"' or not (i and segment[i - 1] == "\\")):
            return i
        i += 1
    return -1


def _read_quoted(first: str, lines: list[str], idx: int) -> tuple[str, str, int] | None:
    """Read a quoted value that may span lines; (body, after-quote, lines used)."""
    quote, segment, pieces, extra = first[0], first[1:], [], 0
    while True:
        end = _find_close(segment, quote)
        if end >= 0:
            pieces.append(segment[:end])
            return "\n".join(pieces), segment[end + 1 :], extra
        pieces.append(segment)
        if idx + extra >= len(lines):
            return None
        segment = lines[idx + extra]
        extra += 1


def parse_env_file(text: str) -> tuple[dict[str, str], list[tuple[int, str]]]:
    """Parse a Compose ``.env`` / ``env_file`` body into (values, problems).

    Problems are ``(1-based line, message)``; a bad line is skipped and the
    rest of the file is still read (compose would stop at the first one), so
    a single typo does not hide every later finding. A bare ``KEY`` means
    "inherit from the environment", which a static linter cannot see, so the
    key is left out.
    """
    values: dict[str, str] = {}
    problems: list[tuple[int, str]] = []
    lines = str(text).split("\n")
    idx = 0
    while idx < len(lines):
        lineno, stmt = idx + 1, lines[idx].lstrip()
        idx += 1
        if not stmt or stmt.startswith("#"):
            continue
        export = _EXPORT.match(stmt)
        if export:
            stmt = stmt[export.end() :]
        key, sep, problem = _scan_key(stmt)
        if problem is None and any(ch in _ENV_SPACE for ch in key):
            problem = "key cannot contain a space"
        if problem is None and sep is not None and not key:
            problem = "missing variable name before '" + stmt[sep] + "'"
        if problem is not None:
            problems.append((lineno, problem))
            continue
        if sep is None:
            continue
        rest = stmt[sep + 1 :].lstrip(_ENV_SPACE)
        if rest[:1] in ("'", '"'):
            quoted = _read_quoted(rest, lines, idx)
            if quoted is None:
                problems.append((lineno, f"unterminated quoted value {rest}"))
                continue
            body, after, extra = quoted
            idx += extra
            after = after.strip(_ENV_SPACE)
            if after and not after.startswith("#"):
                problems.append((lineno, f"unexpected text after quoted value: {after!r}"))
            if rest[0] == "'":
                values[key] = body
                continue
            raw = _ESCAPE.sub(_expand_escape, body)
        else:
            # Unquoted: an inline comment needs a blank before the ``#``.
            raw = rest.split(" #", 1)[0].rstrip()
        result = interpolate(raw, values)
        problems.extend((lineno, message) for message in result.errors)
        values[key] = result.value
    return values, problems
