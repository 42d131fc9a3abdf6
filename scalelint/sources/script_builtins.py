"""Shell builtins of the script walker: ``exec``, ``exit``, ``set``, ``shift``, ``cd``, ``source``...

Each handler gets the walker, the expanded words of the command, where it is written and
the command's own prefix assignments, and returns the exit status (None: not known).
``exec`` and ``exit`` end the walk by raising :class:`Exec` / :class:`Exit`, the way they
end the shell.
"""
from __future__ import annotations

import posixpath
from collections.abc import Callable
from typing import Protocol

from scalelint.findings import Loc

from .located import Word
from .script_test import evaluate_test


class _Walker(Protocol):
    """What the builtins read and change of the walker (:class:`scalelint.sources.script._Walker`),
    named here so that the walker's module and this one do not import each other."""

    source: Word
    cwd: str | None
    include: Callable[[str, str | None], Word | None] | None
    calls: int
    vars: dict[str, Word]
    positional: list[Word]

    def notice(self, message: str, where: Loc | None) -> None: ...

    def run_source(self, source: Word) -> None: ...

__all__ = ["HANDLERS", "MAX_CALLS", "Budget", "Exec", "Exit", "Return"]

MAX_CALLS = 32


class Exec(Exception):
    def __init__(self, words: list[Word], where: Loc | None, env: dict[str, Word]) -> None:
        super().__init__()
        self.words, self.where, self.env = words, where, env


class Exit(Exception):
    def __init__(self, where: Loc | None) -> None:
        super().__init__()
        self.where = where


class Return(Exception):
    pass


class Budget(Exception):
    pass


def _h_exec(w: _Walker, words: list[Word], where: Loc | None, prefix: dict[str, Word]) -> bool | None:
    rest = words[1:]
    while rest and rest[0].text.startswith("-") and rest[0].text != "--":
        rest = rest[2:] if rest[0].text == "-a" else rest[1:]
    if rest and rest[0].text == "--":
        rest = rest[1:]
    if not rest:
        return True  # exec with redirections only
    raise Exec(rest, where, prefix)


def _h_exit(w: _Walker, words: list[Word], where: Loc | None, prefix: dict[str, Word]) -> bool | None:
    raise Exit(where)


def _h_return(w: _Walker, words: list[Word], where: Loc | None, prefix: dict[str, Word]) -> bool | None:
    raise Return()


def _h_set(w: _Walker, words: list[Word], where: Loc | None, prefix: dict[str, Word]) -> bool | None:
    args = words[1:]
    i = 0
    while i < len(args):
        text = args[i].text
        if text == "--":
            w.positional = args[i + 1:]
            return True
        if not text.startswith(("-", "+")) or len(text) < 2:
            w.positional = args[i:]
            return True
        i += 2 if "o" in text[1:] else 1  # -o NAME / -euo NAME take the option name
    return True


def _h_shift(w: _Walker, words: list[Word], where: Loc | None, prefix: dict[str, Word]) -> bool | None:
    count = int(words[1].text) if len(words) > 1 and words[1].text.isdigit() else 1
    w.positional = w.positional[count:]
    return True


def _h_unset(w: _Walker, words: list[Word], where: Loc | None, prefix: dict[str, Word]) -> bool | None:
    for word in words[1:]:
        w.vars.pop(word.text, None)
    return True


def _h_cd(w: _Walker, words: list[Word], where: Loc | None, prefix: dict[str, Word]) -> bool | None:
    target = words[1] if len(words) > 1 else None
    if target is None or target.unknown_span() is not None or target.text == "-":
        w.cwd = None
        w.notice("cd to a directory not known statically: relative paths after it are not followed", where)
    elif target.text.startswith("/"):
        w.cwd = posixpath.normpath(target.text)
    elif w.cwd is not None:
        w.cwd = posixpath.normpath(posixpath.join(w.cwd, target.text))
    return True


def _h_source(w: _Walker, words: list[Word], where: Loc | None, prefix: dict[str, Word]) -> bool | None:
    target = words[1] if len(words) > 1 else None
    text = None
    if target is not None and target.unknown_span() is None and w.include is not None and w.calls < MAX_CALLS:
        text = w.include(target.text, w.cwd)
    if text is None:
        w.notice(f"sourced file {target.text if target else ''!r} cannot be read: its variables are not known", where)
        return None
    saved = w.source
    w.calls += 1
    try:
        w.run_source(text)
    finally:
        w.source = saved
        w.calls -= 1
    return True


def _h_test(w: _Walker, words: list[Word], where: Loc | None, prefix: dict[str, Word]) -> bool | None:
    args = words[1:]
    if words[0].text == "[":
        if not args or args[-1].text != "]":
            return None
        args = args[:-1]
    return evaluate_test(args, double=False)


def _h_eval(w: _Walker, words: list[Word], where: Loc | None, prefix: dict[str, Word]) -> bool | None:
    w.notice("eval is not followed", where)
    return None


def _h_true(w: _Walker, words: list[Word], where: Loc | None, prefix: dict[str, Word]) -> bool | None:
    return True


def _h_false(w: _Walker, words: list[Word], where: Loc | None, prefix: dict[str, Word]) -> bool | None:
    return False


_Handler = Callable[["_Walker", list[Word], "Loc | None", dict[str, Word]], "bool | None"]
HANDLERS: dict[str, _Handler] = {
    "exec": _h_exec, "exit": _h_exit, "return": _h_return, "set": _h_set, "shift": _h_shift, "unset": _h_unset,
    "cd": _h_cd, "source": _h_source, ".": _h_source, "test": _h_test, "[": _h_test, "eval": _h_eval,
    "true": _h_true, ":": _h_true, "false": _h_false,
}
