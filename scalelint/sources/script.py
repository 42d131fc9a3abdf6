"""Follow a launch script statically: which long-running command does it end in, with what.

An entrypoint script is a small program whose inputs are its arguments (the image CMD or
the manifest's ``command``) and the container environment.  This module walks it the way
the shell would, without running anything: assignments and ``export`` with
``${VAR:-default}``/``${VAR:=default}``, functions, ``case "$1"`` dispatch with ``shift``,
``if`` on decidable tests, ``exec "$@"``.  The answer is the command the script ``exec``s,
or the last command it runs, every token a :class:`~scalelint.sources.located.Word` that
points at the character that wrote it (the ``4`` of ``-w${REDASH_WEB_WORKERS:-4}`` when the
variable is unset, the compose file's value when it is set).

What cannot be decided (a test on a file, a command's exit status, ``$(...)``) is said in a
notice with its position; the walk then prefers the branch that reaches a server, because
a linter that guesses the other way reports no workers at all.  Loops are not iterated.
Nothing is executed and nothing raises: syntax errors are notices and the rest of the
script is still read.

Why this module is long: the walker is one class whose methods are the shell's grammar
(lists, pipelines, ``if``, ``case``, loops, functions, assignments); builtins and expansion
already live in :mod:`.script_builtins` and :mod:`.script_expand`.
"""
from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from scalelint.findings import Loc, Notice

from .located import Word, paused_gc
from .script_builtins import HANDLERS, MAX_CALLS, Budget, Exec, Exit, Return
from .script_expand import Expander
from .script_parse import (
    AndOr,
    Case,
    FuncDef,
    Group,
    If,
    Lit,
    Loop,
    Node,
    Pipeline,
    Seq,
    Simple,
    Test,
    WordTok,
    parse_script,
)
from .script_test import evaluate_test

__all__ = ["MAX_SCRIPT", "ScriptResult", "run_script"]

#: bigger "scripts" are generated or hostile; walking them would cost seconds for nothing
MAX_SCRIPT = 256 * 1024

ServerTest = Callable[[Sequence[str]], bool]
Include = Callable[[str, "str | None"], "Word | None"]

_DECLARE = frozenset({"export", "local", "declare", "typeset", "readonly"})
#: builtins and helpers that are never the long-running command of a container
_BUILTINS = frozenset({
    "echo", "printf", "trap", "wait", "umask", "ulimit", "alias", "unalias", "shopt", "hash", "type", "read",
    "getopts", "let", "command", "builtin", "jobs", "disown", "pushd", "popd", "dirs", "history", "times",
})
_MAX_STEPS = 20000
_MAX_NOTICES = 20


@dataclass
class ScriptResult:
    """What a script runs: ``command`` (exec'd when ``exec``), where it is written, and context."""

    command: list[Word] | None = None
    exec: bool = False
    where: Loc | None = None
    #: commands started with ``&`` before it
    background: list[list[Word]] = field(default_factory=list)
    #: every other command it runs before (migrations, waits): one-offs
    ran: list[list[Word]] = field(default_factory=list)
    #: the environment the command gets: the container env, the script's exports on top
    env: dict[str, Word] = field(default_factory=dict)
    cwd: str | None = None
    #: where the script exits (``exit``, ``${X:?}``) when it does before exec'ing anything
    exited: Loc | None = None
    notices: list[Notice] = field(default_factory=list)
    steps: list[tuple[str, Loc]] = field(default_factory=list)
    #: why the script was not walked at all (too large): what it starts is unknown
    unreadable: str = ""


def run_script(
    source: Word, args: Sequence[Word], env: Mapping[str, Word], *, name: Word | None = None,
    cwd: str | None = None, is_server: ServerTest | None = None, include: Include | None = None,
) -> ScriptResult:
    """Walk the script ``source`` called with ``args`` in ``env`` (see the module docstring)."""
    if len(source.text) > MAX_SCRIPT:
        why = f"launch script larger than {MAX_SCRIPT // 1024} KB: not walked (launch scripts are a few KB)"
        where = source.loc(0)
        notice = Notice(why, where.path, where.line, where.column) if where is not None else Notice(why)
        return ScriptResult(notices=[notice], unreadable=why)
    walker = _Walker(source, list(args), dict(env), name or Word("sh"), cwd, is_server or (lambda _: False), include)
    with paused_gc():
        return walker.result()


class _Walker(Expander):
    def __init__(
        self, source: Word, args: list[Word], env: dict[str, Word], name: Word, cwd: str | None,
        is_server: ServerTest, include: Include | None,
    ) -> None:
        super().__init__(env, args, name)
        self.source = source
        self.cwd = cwd
        self.is_server = is_server
        self.include = include
        self.functions: dict[str, Node] = {}
        self.out = ScriptResult()
        self.last: tuple[list[Word], Loc | None, dict[str, Word]] | None = None
        self.steps = 0
        self.calls = 0
        self.seen: set[Notice] = set()
        self.dropped = 0

    # --- driver --------------------------------------------------------------------------------
    def result(self) -> ScriptResult:
        out = self.out
        try:
            self.run_source(self.source)
        except Exec as done:
            out.command, out.exec, out.where = done.words, True, done.where
            out.env = self._environment(done.env)
            out.cwd = self.cwd
            self._close_notices()
            return out
        except Exit as stop:
            out.exited = stop.where
        except Return:
            pass
        except Budget:
            self.notice("script too long or recursive to follow to its end", self._loc(0))
        except RecursionError:
            self.notice("script nested too deeply to follow", self._loc(0))
        if self.last is not None:
            out.command, out.where = self.last[0], self.last[1]
            out.env = self._environment(self.last[2])
            if out.ran and out.ran[-1] is self.last[0]:
                out.ran.pop()
        else:
            out.env = self._environment({})
        out.cwd = self.cwd
        self._close_notices()
        return out

    def run_source(self, source: Word) -> None:
        tree, errors = parse_script(source)
        for error in errors[:3]:
            where = source.loc(min(error.offset, max(len(source.text) - 1, 0)))
            self.notice(f"shell syntax error: {error.message}; the rest of that line is skipped", where)
        if len(errors) > 3:
            self.notice(f"{len(errors) - 3} more shell syntax errors", source.loc(0))
        self.source = source
        self.seq(tree)

    def _environment(self, extra: dict[str, Word]) -> dict[str, Word]:
        env = {k: v for k, v in self.vars.items() if k in self.exported}
        env.update(extra)
        return env

    def _loc(self, offset: int) -> Loc | None:
        return self.source.loc(offset)

    def notice(self, message: str, where: Loc | None) -> None:
        """Record a notice once; past _MAX_NOTICES only count them (a big script must not flood)."""
        notice = Notice(message) if where is None else Notice(message, where.path, where.line, where.column)
        if notice in self.seen:
            return
        self.seen.add(notice)
        if len(self.out.notices) < _MAX_NOTICES:
            self.out.notices.append(notice)
        else:
            self.dropped += 1

    def _close_notices(self) -> None:
        if self.dropped:
            where = self.source.loc(0)
            text = f"{self.dropped} more notices about this script not shown"
            self.out.notices.append(Notice(text, where.path, where.line, where.column) if where else Notice(text))

    # --- nodes ---------------------------------------------------------------------------------
    def seq(self, seq: Seq) -> bool | None:
        status: bool | None = True
        for node, background in seq.items:
            if background:
                self.background(node)
                status = True
            else:
                status = self.run(node)
        return status

    def run(self, node: Node) -> bool | None:
        self.steps += 1
        if self.steps > _MAX_STEPS:
            raise Budget()
        if isinstance(node, Simple):
            return self.simple(node)
        if isinstance(node, Seq):
            return self.seq(node)
        if isinstance(node, AndOr):
            return self.and_or(node)
        if isinstance(node, Pipeline):
            status: bool | None = None
            for cmd in node.cmds:
                status = self.run(cmd)
            return (None if status is None else not status) if node.negate else status
        if isinstance(node, If):
            return self.if_node(node)
        if isinstance(node, Case):
            return self.case(node)
        if isinstance(node, Group):
            return self.subshell(node.body) if node.subshell else self.seq(node.body)
        if isinstance(node, FuncDef):
            self.functions[node.name] = node.body
            return True
        if isinstance(node, Test):
            return evaluate_test([w for t in node.words for w in self.expand(t, split=False)], double=True)
        if isinstance(node, Loop):
            if self.reaches(node.body) > 0:
                self.notice(f"{node.kind} loop: its body is read once", self._loc(node.at))
                return self.seq(node.body)
            return None
        return None

    def background(self, node: Node) -> None:
        if isinstance(node, Simple):
            words = self.expand_all(node.words)
            if words:
                self.out.background.append(words)
                self.out.steps.append((f"& {words[0].text}", words[0].loc(0) or self._loc(node.at) or Loc("")))

    def subshell(self, body: Seq) -> bool | None:
        saved = (dict(self.vars), set(self.exported), list(self.positional), self.cwd)
        try:
            return self.seq(body)
        except Exit:
            return None
        finally:
            self.vars, self.exported, self.positional, self.cwd = saved

    def and_or(self, node: AndOr) -> bool | None:
        status = self.run(node.first)
        for op, right in node.rest:
            wanted = op == "&&"
            if status is None:
                score = self.reaches(right)
                if (wanted and score < 0) or (not wanted and score <= 0):
                    continue  # `x || exit 1`, `[ -f f ] && exit`: assume the usual path
            elif status is not wanted:
                continue
            status = self.run(right)
        return status

    def if_node(self, node: If) -> bool | None:
        for index, (cond, body) in enumerate(node.clauses):
            status = self.seq(cond)
            if status is True:
                return self.seq(body)
            if status is None:
                rest = [b for _, b in node.clauses[index + 1:]] + ([node.orelse] if node.orelse else [])
                other = max((self.reaches(b) for b in rest), default=0)
                take = self.reaches(body) >= other
                branch = "its then branch" if take else "the other branches"
                self.notice(f"condition cannot be decided statically: followed {branch}", self._loc(node.at))
                if take:
                    return self.seq(body)
        if node.orelse is not None:
            return self.seq(node.orelse)
        return True

    def case(self, node: Case) -> bool | None:
        subject = Word.join(self.expand(node.word, split=False))
        if subject.unknown_span() is not None:
            best = max(range(len(node.items)), key=lambda i: self.reaches(node.items[i][1]), default=None)
            self.notice("case subject cannot be known statically: followed the branch that starts a server",
                        self._loc(node.at))
            return self.seq(node.items[best][1]) if best is not None else None
        for patterns, body in node.items:
            for pattern in patterns:
                text = self.pattern(pattern)
                if text is not None and fnmatch.fnmatchcase(subject.text, text):
                    self.out.steps.append((f"case {subject.text!r} matches {pattern.raw.text}", self._loc(pattern.start)
                                           or Loc("")))
                    return self.seq(body)
        return True

    def pattern(self, tok: WordTok) -> str | None:
        out = []
        for part in tok.parts:
            if isinstance(part, Lit):
                text = part.word.text
                out.append(re.sub(r"([*?\[])", r"[\1]", text) if part.quoted else text)
            else:
                value = Word.join(self._part(part))
                if value.unknown_span() is not None:
                    return None
                out.append(value.text)
        return "".join(out)

    def reaches(self, node: Node | None, seen: frozenset[str] = frozenset()) -> int:
        """1 when ``node`` can reach an exec or a server, -1 when it exits first, else 0 (static)."""
        if node is None:
            return 0
        if isinstance(node, Seq):
            for item, _ in node.items:
                score = self.reaches(item, seen)
                if score:
                    return score
            return 0
        if isinstance(node, Simple):
            words = [t.literal() or "" for t in node.words]
            if not words:
                return 0
            head = words[0]
            if head == "exec" and len(words) > 1:
                return 1
            if head in ("exit", "return"):
                return -1
            if head in self.functions and head not in seen:
                return max(self.reaches(self.functions[head], seen | {head}), 0)
            return 1 if self.is_server(words) else 0
        children: Sequence[Node | None] = []
        if isinstance(node, AndOr):
            children = [node.first, *(n for _, n in node.rest)]
        elif isinstance(node, Pipeline):
            children = list(node.cmds)
        elif isinstance(node, If):
            children = [*(b for _, b in node.clauses), node.orelse]
        elif isinstance(node, Case):
            children = [b for _, b in node.items]
        elif isinstance(node, (Group, Loop)):
            children = [node.body]
        elif isinstance(node, FuncDef):
            return 0
        scores = [self.reaches(child, seen) for child in children]
        return 1 if 1 in scores else 0

    # --- simple commands -----------------------------------------------------------------------
    def simple(self, node: Simple) -> bool | None:
        first = node.words[0].literal() if node.words else None
        if first in _DECLARE:
            self.assign_all(node.assigns, export=False)
            return self.declare(first or "", node.words[1:])
        prefix = {name: Word.join(self.expand(tok, split=False)) for name, tok in node.assigns}
        words = self.expand_all(node.words)
        if not words:
            for name, value in prefix.items():
                self.vars[name] = value
            return True
        head = words[0].text
        where = words[0].loc(0) or self._loc(node.at)
        if head in self.functions:
            return self.call(head, words[1:])
        handler = HANDLERS.get(head)
        if handler is not None:
            return handler(self, words, where, prefix)
        if head in _BUILTINS:
            return None
        self.out.ran.append(words)
        self.last = (words, where, prefix)
        return None

    def assign_all(self, assigns: list[tuple[str, WordTok]], export: bool) -> None:
        for name, tok in assigns:
            self.vars[name] = Word.join(self.expand(tok, split=False))
            if export:
                self.exported.add(name)

    def declare(self, kind: str, toks: list[WordTok]) -> bool:
        export = kind == "export"
        for tok in toks:
            text = tok.literal()
            if text is not None and text.startswith("-"):
                export = export or "x" in text
                continue
            word = Word.join(self.expand(tok, split=False))
            name, eq, _ = word.text.partition("=")
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                continue
            if eq:
                self.vars[name] = word[len(name) + 1:]
            if export:
                self.exported.add(name)
        return True

    def call(self, name: str, args: list[Word]) -> bool | None:
        self.calls += 1
        if self.calls > MAX_CALLS:
            raise Budget()
        saved = self.positional
        self.positional = args
        try:
            return self.run(self.functions[name])
        except Return:
            return None
        finally:
            self.positional = saved
            self.calls -= 1

    # --- expansion -----------------------------------------------------------------------------
