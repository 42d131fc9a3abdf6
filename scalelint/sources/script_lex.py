"""Tokenize a POSIX/bash launch script, keeping the offset of every character.

The lexer is the part of the shell reader that knows quoting: ``'...'``, ``"..."``,
backslashes, ``$VAR``/``${VAR op word}``, ``$(...)``, backquotes and ``$((...))`` become
word *parts* that stay unexpanded until the script walker runs the command (variables
change while a script runs).  Comments are dropped, line continuations joined, heredoc
bodies skipped.  Errors raise :class:`ShellSyntaxError` with the offset.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .located import Word, WordBuilder

__all__ = ["MAX_DEPTH", "REDIRECTS", "Lit", "Param", "Part", "ShellSyntaxError", "Sub", "Tok", "WordTok", "tokenize"]

_OPERATORS = (
    ";;&", "&>>", "<<<", "<<-", ";;", ";&", "&&", "||", "|&", "&>", ">>", "<<", "<&", ">&", "<>", ">|",
    ";", "&", "|", "(", ")", "<", ">",
)
REDIRECTS = frozenset({"&>>", "<<<", "<<-", "&>", ">>", "<<", "<&", ">&", "<>", ">|", "<", ">"})
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SPECIAL = frozenset(" \t\r\n;&|()<>\\'\"$`")
_NEXT_SPECIAL = re.compile(r"[ \t\r\n;&|()<>\\'\"$`]")
_BLANKS = re.compile(r"[ \t\r]*")
_OP_FIRST = frozenset(";&|()<>")
_PARAM_OPS = (":-", ":=", ":+", ":?", "-", "=", "+", "?")
MAX_DEPTH = 50


class ShellSyntaxError(Exception):
    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


@dataclass(frozen=True)
class Lit:
    word: Word
    quoted: bool


@dataclass(frozen=True)
class Param:
    """``$NAME`` / ``${NAME}`` / ``${NAME<op>arg}``; op "" (plain), one of _PARAM_OPS, "#" (length), "?" ."""

    name: str
    op: str
    arg: tuple[Lit | Param | Sub, ...]
    quoted: bool
    raw: Word
    other: bool = False  # ${NAME%pat} and other forms the interpreter cannot evaluate


@dataclass(frozen=True)
class Sub:
    """``$(...)``, backquotes or ``$((...))``: output not known statically."""

    raw: Word
    quoted: bool
    arith: bool = False


Part = Lit | Param | Sub


@dataclass(frozen=True)
class WordTok:
    parts: tuple[Part, ...]
    start: int
    raw: Word

    @property
    def plain(self) -> str | None:
        """The text when the word is one unquoted literal (a reserved word, a name)."""
        if len(self.parts) == 1 and isinstance(self.parts[0], Lit) and not self.parts[0].quoted:
            return self.parts[0].word.text
        return None

    def literal(self) -> str | None:
        """The text when the word has no expansion at all (quotes removed)."""
        if all(isinstance(p, Lit) for p in self.parts):
            return "".join(p.word.text for p in self.parts if isinstance(p, Lit))
        return None



@dataclass(frozen=True)
class Tok:
    kind: str  # word | op | newline | eof
    at: int
    word: WordTok | None = None
    op: str = ""

# --- lexer ---------------------------------------------------------------------------------------

class _Lexer:
    def __init__(self, src: Word) -> None:
        self.src = src
        self.text = src.text
        self.i = 0
        self.heredocs: list[tuple[str, bool]] = []
        self.want_delimiter = False
        self.strip_tabs = False
        self.nesting = 0
        self.out: list[Tok] = []

    def tokens(self) -> list[Tok]:
        out = self.out
        text, n = self.text, len(self.text)
        while True:
            self.i = _BLANKS.match(text, self.i).end()  # type: ignore[union-attr]
            if text.startswith("\\\n", self.i):
                self.i += 2
                continue
            if self.i >= n:
                out.append(Tok("eof", n))
                return out
            char = text[self.i]
            if char == "#":
                end = text.find("\n", self.i)
                self.i = n if end < 0 else end
                continue
            if char == "\n":
                out.append(Tok("newline", self.i))
                self.i += 1
                self._skip_heredocs()
                continue
            if text.startswith(("<(", ">("), self.i):
                out.append(self._word())
                continue
            op = next((o for o in _OPERATORS if text.startswith(o, self.i)), None) if char in _OP_FIRST else None
            if op is not None:
                out.append(Tok("op", self.i, op=op))
                self.i += len(op)
                if op in ("<<", "<<-"):
                    self.want_delimiter = True
                    self.strip_tabs = op == "<<-"
                continue
            tok = self._word()
            if tok.word is not None and tok.word.plain is not None and tok.word.plain.isdigit() and (
                self.i < n and text[self.i] in "<>"
            ):
                continue  # an io number (2>&1): not an argument
            if self.want_delimiter and tok.word is not None:
                self.want_delimiter = False
                delimiter = "".join(p.raw.text if not isinstance(p, Lit) else p.word.text for p in tok.word.parts)
                self.heredocs.append((delimiter, self.strip_tabs))
            out.append(tok)

    def _skip_heredocs(self) -> None:
        text = self.text
        for delimiter, strip_tabs in self.heredocs:
            while self.i < len(text):
                end = text.find("\n", self.i)
                line = text[self.i:] if end < 0 else text[self.i:end]
                self.i = len(text) if end < 0 else end + 1
                if (line.lstrip("\t") if strip_tabs else line).rstrip("\r") == delimiter:
                    break
        self.heredocs = []

    def _word(self) -> Tok:
        start = self.i
        parts, self.i = self.parts(self.i, len(self.text), blank_ends=True, dquote=False)
        if self.i == start:  # a lone character no rule takes: consume it as text
            self.i += 1
            parts = [Lit(self.src[start:self.i], False)]
        return Tok("word", start, WordTok(tuple(parts), start, self.src[start:self.i]))

    def parts(self, i: int, end: int, *, blank_ends: bool, dquote: bool) -> tuple[list[Part], int]:
        """Parts of a word from ``i``: to the first unquoted blank/operator when ``blank_ends``,
        else to ``end`` (the argument of ``${X:-...}``).  ``dquote``: inside double quotes."""
        text, src = self.text, self.src
        self.nesting += 1
        if self.nesting > MAX_DEPTH:
            raise ShellSyntaxError("quotes and expansions nested too deeply", i)
        parts: list[Part] = []
        lit = WordBuilder()
        run = -1  # start of the pending run of plain characters

        def flush(quoted: bool) -> None:
            nonlocal lit
            if len(lit):
                parts.append(Lit(lit.build(), quoted))
                lit = WordBuilder()

        while i < end:
            char = text[i]
            if char not in _SPECIAL:
                if run < 0:
                    run = i
                found = _NEXT_SPECIAL.search(text, i, end)  # jump over the plain run at C speed
                i = found.start() if found else end
                continue
            if run >= 0:
                lit.add(src[run:i])
                run = -1
            if blank_ends and not dquote and (char in " \t\r\n;&|()<>"):
                if not (char in "<>" and text.startswith("(", i + 1)):
                    break
                close = self._match(i + 1, "(", ")")
                flush(dquote)
                parts.append(Sub(src[i:close], False))
                i = close
                continue
            if char == "\\":
                if text.startswith("\n", i + 1):
                    i += 2
                    continue
                if i + 1 < end and (not dquote or text[i + 1] in '$`"\\'):
                    lit.add(src[i + 1:i + 2])
                    i += 2
                    continue
                lit.add(src[i:i + 1])
                i += 1
                continue
            if char == "'" and not dquote:
                close = text.find("'", i + 1)
                if close < 0 or close >= end:
                    raise ShellSyntaxError("unterminated single quote", i)
                flush(False)
                parts.append(Lit(src[i + 1:close], True))
                i = close + 1
                continue
            if char == '"' and not dquote:
                flush(False)
                inner, j = self.parts(i + 1, end, blank_ends=False, dquote=True)
                if j >= end or text[j] != '"':
                    raise ShellSyntaxError("unterminated double quote", i)
                parts.extend(inner if inner else [Lit(Word(""), True)])
                i = j + 1
                continue
            if char == '"' and dquote:
                break
            if char == "$" or char == "`":
                part, j = self._dollar(i, dquote)
                if part is not None:
                    flush(dquote)
                    parts.append(part)
                    i = j
                    continue
            lit.add(src[i:i + 1])
            i += 1
        if run >= 0:
            lit.add(src[run:i])
        flush(dquote)
        self.nesting -= 1
        return parts, i

    def _match(self, i: int, opening: str, closing: str) -> int:
        """Offset after the ``closing`` that balances the ``opening`` at ``i``."""
        text, depth, quote = self.text, 0, ""
        j = i
        while j < len(text):
            char = text[j]
            if char == "\\" and quote != "'":
                j += 2
                continue
            if quote:
                quote = "" if char == quote else quote
            elif char in "'\"":
                quote = char
            elif char == opening:
                depth += 1
            elif char == closing:
                depth -= 1
                if depth == 0:
                    return j + 1
            j += 1
        raise ShellSyntaxError(f"unbalanced {opening}", i)

    def _dollar(self, i: int, dquote: bool) -> tuple[Part | None, int]:
        text, src = self.text, self.src
        if text[i] == "`":
            j = i + 1
            while j < len(text) and text[j] != "`":
                j += 2 if text[j] == "\\" else 1
            if j >= len(text):
                raise ShellSyntaxError("unterminated backquote", i)
            return Sub(src[i:j + 1], dquote), j + 1
        if text.startswith("$((", i):
            end = self._match(i + 1, "(", ")")
            return Sub(src[i:end], dquote, arith=True), end
        if text.startswith("$(", i):
            end = self._match(i + 1, "(", ")")
            return Sub(src[i:end], dquote), end
        if text.startswith("$'", i) and not dquote:
            close = text.find("'", i + 2)
            if close < 0:
                raise ShellSyntaxError("unterminated $'...'", i)
            return Lit(src[i + 2:close], True), close + 1
        if text.startswith("${", i):
            return self._braced(i, dquote)
        match = _NAME.match(text, i + 1)
        if match:
            return Param(match.group(0), "", (), dquote, src[i:match.end()]), match.end()
        if i + 1 < len(text) and (text[i + 1].isdigit() or text[i + 1] in "@*#?$!-"):
            return Param(text[i + 1], "", (), dquote, src[i:i + 2]), i + 2
        return None, i

    def _braced(self, i: int, dquote: bool) -> tuple[Part, int]:
        end = self._match(i + 1, "{", "}")
        text, src = self.text, self.src
        inner_start, inner_end = i + 2, end - 1
        inner = text[inner_start:inner_end]
        raw = src[i:end]
        if inner.startswith("#") and len(inner) > 1:
            return Param(inner[1:], "#", (), dquote, raw, other=not _NAME.fullmatch(inner[1:])), end
        match = _NAME.match(inner) or re.match(r"[0-9]+|[@*#?$!-]", inner)
        if not match:
            return Param(inner, "", (), dquote, raw, other=True), end
        name, rest_at = match.group(0), inner_start + match.end()
        rest = text[rest_at:inner_end]
        if not rest:
            return Param(name, "", (), dquote, raw), end
        op = next((o for o in _PARAM_OPS if rest.startswith(o)), None)
        if op is None:
            return Param(name, "", (), dquote, raw, other=True), end
        arg, _ = self.parts(rest_at + len(op), inner_end, blank_ends=False, dquote=dquote)
        return Param(name, op, tuple(arg), dquote, raw), end


def tokenize(src: Word, start: int = 0) -> tuple[list[Tok], ShellSyntaxError | None]:
    """The tokens of ``src`` from offset ``start`` (a line start), ending with an ``eof`` token;
    on a syntax error, the tokens read before it and the error."""
    lexer = _Lexer(src)
    lexer.i = start
    try:
        return lexer.tokens(), None
    except ShellSyntaxError as error:
        return lexer.out, error
