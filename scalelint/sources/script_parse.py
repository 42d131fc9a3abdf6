"""Parse a POSIX/bash launch script into a small syntax tree, keeping every offset.

Only the structure a launch chain needs is modelled: simple commands with their
assignments, pipelines, ``&&``/``||`` lists, ``if``, ``case``, loops, ``{ }``/``( )``
groups, function definitions and ``[[ ]]`` tests.  Words stay unexpanded
(:mod:`scalelint.sources.script_lex`): the walker expands them when it runs the command.
A syntax error is reported with its offset; parsing resumes at the next line.

Why this module is long: a recursive-descent parser, one small function per construct of the
shell grammar; splitting it would scatter the grammar.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .located import Word
from .script_lex import MAX_DEPTH, REDIRECTS, Lit, Param, ShellSyntaxError, Sub, Tok, WordTok, tokenize

__all__ = [
    "AndOr", "Case", "FuncDef", "Group", "If", "Lit", "Loop", "Node", "Param", "Pipeline", "Seq", "ShellSyntaxError",
    "Simple", "Sub", "Test", "WordTok", "parse_script",
]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ASSIGN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(\+?=)")

@dataclass
class Simple:
    assigns: list[tuple[str, WordTok]]
    words: list[WordTok]
    at: int


@dataclass
class Pipeline:
    cmds: list[Node]
    negate: bool
    at: int


@dataclass
class AndOr:
    first: Node
    rest: list[tuple[str, Node]]


@dataclass
class Seq:
    items: list[tuple[Node, bool]] = field(default_factory=list)  # (node, run in background)


@dataclass
class If:
    clauses: list[tuple[Seq, Seq]]
    orelse: Seq | None
    at: int


@dataclass
class Case:
    word: WordTok
    items: list[tuple[list[WordTok], Seq]]
    at: int


@dataclass
class Loop:
    kind: str  # while | until | for | select
    cond: Seq | None
    body: Seq
    at: int


@dataclass
class Group:
    body: Seq
    subshell: bool
    at: int


@dataclass
class FuncDef:
    name: str
    body: Node
    at: int


@dataclass
class Test:
    words: list[WordTok]
    at: int


Node = Simple | Pipeline | AndOr | Seq | If | Case | Loop | Group | FuncDef | Test

class _Parser:
    def __init__(self, tokens: list[Tok]) -> None:
        self.toks = tokens
        self.k = 0
        self.depth = 0

    def peek(self) -> Tok:
        return self.toks[self.k]

    def next(self) -> Tok:
        tok = self.toks[self.k]
        if tok.kind != "eof":
            self.k += 1
        return tok

    def is_word(self, *texts: str) -> bool:
        tok = self.peek()
        return tok.kind == "word" and tok.word is not None and tok.word.plain in texts

    def is_op(self, *ops: str) -> bool:
        tok = self.peek()
        return tok.kind == "op" and tok.op in ops

    def expect_word(self, text: str) -> Tok:
        self.newlines()
        if not self.is_word(text):
            tok = self.peek()
            raise ShellSyntaxError(f"expected {text!r}", tok.at)
        return self.next()

    def newlines(self) -> None:
        while self.peek().kind == "newline":
            self.next()

    def seq(self, stop_words: tuple[str, ...] = (), stop_ops: tuple[str, ...] = ()) -> Seq:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ShellSyntaxError("nested too deeply", self.peek().at)
        seq = Seq()
        while True:
            self.newlines()
            tok = self.peek()
            if tok.kind == "eof" or self.is_word(*stop_words) or self.is_op(*stop_ops):
                break
            if tok.kind == "op" and tok.op in (";", "&", ";;", ")", "&&", "||", "|"):
                raise ShellSyntaxError(f"unexpected {tok.op!r}", tok.at)
            node = self.and_or()
            background = False
            if self.is_op(";", "&"):
                background = self.next().op == "&"
            elif self.peek().kind not in ("newline", "eof") and not (
                self.is_word(*stop_words) or self.is_op(*stop_ops)
            ):
                raise ShellSyntaxError(f"unexpected {self._describe(self.peek())}", self.peek().at)
            seq.items.append((node, background))
        self.depth -= 1
        return seq

    @staticmethod
    def _describe(tok: Tok) -> str:
        if tok.kind == "op":
            return repr(tok.op)
        return repr(tok.word.raw.text[:30]) if tok.word is not None else tok.kind

    def and_or(self) -> Node:
        first = self.pipeline()
        rest: list[tuple[str, Node]] = []
        while self.is_op("&&", "||"):
            op = self.next().op
            self.newlines()
            rest.append((op, self.pipeline()))
        return AndOr(first, rest) if rest else first

    def pipeline(self) -> Node:
        at = self.peek().at
        negate = False
        if self.is_word("!"):
            self.next()
            negate = True
        cmds = [self.command()]
        while self.is_op("|", "|&"):
            self.next()
            self.newlines()
            cmds.append(self.command())
        return Pipeline(cmds, negate, at) if negate or len(cmds) > 1 else cmds[0]

    def command(self) -> Node:
        self.depth += 1
        try:
            return self._command()
        finally:
            self.depth -= 1

    def _command(self) -> Node:
        tok = self.peek()
        if self.depth > MAX_DEPTH:
            raise ShellSyntaxError("nested too deeply", tok.at)
        word = tok.word.plain if tok.word is not None else None
        if tok.kind == "op" and tok.op == "(":
            self.next()
            body = self.seq(stop_ops=(")",))
            self._close_op(")", tok.at)
            return self._redirects(Group(body, True, tok.at))
        if word == "{":
            self.next()
            body = self.seq(stop_words=("}",))
            self.expect_word("}")
            return self._redirects(Group(body, False, tok.at))
        if word == "if":
            return self._redirects(self.if_clause())
        if word == "case":
            return self._redirects(self.case_clause())
        if word in ("while", "until"):
            self.next()
            cond = self.seq(stop_words=("do",))
            return self._redirects(Loop(word, cond, self._do_group(), tok.at))
        if word in ("for", "select"):
            return self._redirects(self.for_clause(word))
        if word == "[[":
            return self.test()
        if word == "function":
            self.next()
            name_tok = self.next()
            if name_tok.word is None or name_tok.word.plain is None:
                raise ShellSyntaxError("expected a function name", name_tok.at)
            if self.is_op("("):
                self.next()
                self._close_op(")", name_tok.at)
            self.newlines()
            return FuncDef(name_tok.word.plain, self.command(), tok.at)
        if word is not None and _NAME.fullmatch(word) and self.toks[self.k + 1].op == "(" and (
            self.toks[self.k + 2].op == ")"
        ):
            self.k += 3
            self.newlines()
            return FuncDef(word, self.command(), tok.at)
        if tok.kind == "word" and word in ("then", "elif", "else", "fi", "do", "done", "esac", "}", "in", "]]"):
            raise ShellSyntaxError(f"unexpected {word!r}", tok.at)
        return self.simple()

    def _close_op(self, op: str, opened: int) -> None:
        self.newlines()
        if not self.is_op(op):
            raise ShellSyntaxError(f"{op!r} expected", self.peek().at if self.peek().kind != "eof" else opened)
        self.next()

    def _redirects(self, node: Node) -> Node:
        while self.is_op(*REDIRECTS):
            self.next()
            if self.peek().kind == "word":
                self.next()
        return node

    def _do_group(self) -> Seq:
        self.expect_word("do")
        body = self.seq(stop_words=("done",))
        self.expect_word("done")
        return body

    def simple(self) -> Node:
        at = self.peek().at
        assigns: list[tuple[str, WordTok]] = []
        words: list[WordTok] = []
        redirected = False
        while True:
            tok = self.peek()
            if tok.kind == "op" and tok.op in REDIRECTS:
                self.next()
                if self.peek().kind != "word":
                    raise ShellSyntaxError(f"{tok.op!r} without a target", tok.at)
                self.next()
                redirected = True
                continue
            if tok.kind != "word" or tok.word is None:
                break
            if not words and (split := _assignment(tok.word)) is not None:
                assigns.append(split)
            else:
                words.append(tok.word)
            self.next()
        if not assigns and not words and not redirected:
            tok = self.peek()
            raise ShellSyntaxError(f"unexpected {self._describe(tok)}", tok.at)
        return Simple(assigns, words, at)

    def if_clause(self) -> If:
        at = self.next().at
        clauses: list[tuple[Seq, Seq]] = []
        cond = self.seq(stop_words=("then",))
        self.expect_word("then")
        body = self.seq(stop_words=("elif", "else", "fi"))
        clauses.append((cond, body))
        orelse = None
        while True:
            self.newlines()
            if self.is_word("elif"):
                self.next()
                cond = self.seq(stop_words=("then",))
                self.expect_word("then")
                clauses.append((cond, self.seq(stop_words=("elif", "else", "fi"))))
            elif self.is_word("else"):
                self.next()
                orelse = self.seq(stop_words=("fi",))
            else:
                break
        self.expect_word("fi")
        return If(clauses, orelse, at)

    def case_clause(self) -> Case:
        at = self.next().at
        tok = self.next()
        if tok.word is None:
            raise ShellSyntaxError("case without a word", tok.at)
        self.expect_word("in")
        items: list[tuple[list[WordTok], Seq]] = []
        while True:
            self.newlines()
            if self.is_word("esac") or self.peek().kind == "eof":
                break
            if self.is_op("("):
                self.next()
            patterns: list[WordTok] = []
            while True:
                pat = self.next()
                if pat.word is None:
                    raise ShellSyntaxError("expected a case pattern", pat.at)
                patterns.append(pat.word)
                if self.is_op("|"):
                    self.next()
                    continue
                break
            if not self.is_op(")"):
                raise ShellSyntaxError("')' expected after a case pattern", self.peek().at)
            self.next()
            body = self.seq(stop_words=("esac",), stop_ops=(";;", ";&", ";;&"))
            items.append((patterns, body))
            if self.is_op(";;", ";&", ";;&"):
                self.next()
        self.expect_word("esac")
        return Case(tok.word, items, at)

    def for_clause(self, kind: str) -> Loop:
        at = self.next().at
        self.next()  # the variable
        while self.peek().kind == "word" and not self.is_word("do"):
            self.next()
        if self.is_op(";"):
            self.next()
        if self.is_op("(", "(("):  # for (( ; ; )) is lexed as words and ops: skip to do
            while self.peek().kind != "eof" and not self.is_word("do"):
                self.next()
        return Loop(kind, None, self._do_group(), at)

    def test(self) -> Test:
        at = self.next().at
        words: list[WordTok] = []
        while True:
            tok = self.next()
            if tok.kind == "eof":
                raise ShellSyntaxError("'[[' without ']]'", at)
            if tok.word is not None and tok.word.plain == "]]":
                return Test(words, at)
            if tok.kind == "op":
                words.append(WordTok((Lit(Word(tok.op), False),), tok.at, Word(tok.op)))
            elif tok.word is not None:
                words.append(tok.word)


def _assignment(word: WordTok) -> tuple[str, WordTok] | None:
    first = word.parts[0] if word.parts else None
    if not isinstance(first, Lit) or first.quoted:
        return None
    match = _ASSIGN.match(first.word.text)
    if not match or match.group(2) == "+=":
        return None
    rest = first.word[match.end():]
    parts = ((Lit(rest, False),) if rest.text else ()) + word.parts[1:]
    return match.group(1), WordTok(parts, word.start + match.end(), word.raw[match.end():])


def parse_script(src: Word) -> tuple[Seq, list[ShellSyntaxError]]:
    """The script's top-level sequence and the syntax errors met.

    After an error the parser resumes at the next line, so a broken construct in the
    middle of a script does not hide the ``exec`` at its end.
    """
    errors: list[ShellSyntaxError] = []
    tokens: list[Tok] = []
    start = 0
    while True:
        more, error = tokenize(src, start)
        if error is None:
            tokens.extend(more)
            break
        errors.append(error)
        # blank the line where the error starts (offsets stay as they were) and lex on from
        # there: what came before it was read without error
        start = src.text.rfind("\n", 0, error.offset) + 1
        tokens.extend(t for t in more if t.at < start)
        src = _blank_line(src, error.offset)
        if len(errors) > 50:
            tokens.append(Tok("eof", len(src.text)))
            break
    parser = _Parser(tokens)
    top = Seq()
    while parser.peek().kind != "eof":
        start = parser.k
        try:
            top.items.extend(parser.seq().items)
            if parser.peek().kind != "eof":
                raise ShellSyntaxError(f"unexpected {_Parser._describe(parser.peek())}", parser.peek().at)
        except ShellSyntaxError as error:
            errors.append(error)
            parser.depth = 0
            parser.k = max(parser.k, start + 1)
            while parser.peek().kind not in ("newline", "eof"):
                parser.next()
    return top, errors


def _blank_line(src: Word, offset: int) -> Word:
    """``src`` with the line holding ``offset`` replaced by spaces (lengths, hence offsets, kept)."""
    text = src.text
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    end = len(text) if end < 0 else end
    return Word(text[:start] + " " * (end - start) + text[end:], src.spans)

