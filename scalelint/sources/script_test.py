"""The parts of a shell script that compute values: ``test``/``[``/``[[``, ``$((...))``, ``$(...)``.

They decide which branch of an entrypoint runs (``[ "$1" = server ]``, ``[[ -n $AUTH ]]``)
and sometimes the worker count itself (``$(( $(nproc) * 2 + 1 ))``).  Each answers with a
three-valued result: True, False, or None when the answer depends on something that exists
only at run time (a file, a command's output, an unknown variable).  A CPU-count formula is
kept as ``a × CPUs + b`` so that a CPU limit can bound it later.
"""
from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable

from .located import Word

__all__ = ["arithmetic", "evaluate_test", "substitution"]

_CPU_COMMANDS = re.compile(
    r"^\$\(\s*(nproc(\s+--all)?|getconf\s+_?NPROCESSORS_ONLN|grep\s+-c\s+\^?processor\s+/proc/cpuinfo"
    r"|python3?\s+-c\s+['\"]import\s+(os|multiprocessing)\s*;\s*print\((os|multiprocessing)\.cpu_count\(\)\)['\"])\s*\)$"
)
_CPU_REASON = "depends on the CPU count"
_INT_OPS = {"-eq", "-ne", "-lt", "-le", "-gt", "-ge"}
_STR_OPS = {"=", "==", "!=", "<", ">", "=~"}
_FILE_OPS = {"-a", "-e", "-f", "-d", "-r", "-w", "-x", "-s", "-L", "-h", "-p", "-S", "-b", "-c", "-g", "-u", "-k", "-O",
             "-G", "-N", "-t", "-v", "-o"}


def substitution(raw: Word) -> Word:
    """The output of ``$(...)``/backquotes: unknown; CPU-count commands say so with formula (1, 0)."""
    text = raw.text
    if text.startswith("`"):
        text = "$(" + text[1:-1] + ")"
    if _CPU_COMMANDS.match(text):
        return Word.unknown(raw.text, raw.loc(0), _CPU_REASON, (1.0, 0.0))
    return Word.unknown(raw.text, raw.loc(0), f"output of {raw.text[:60]} is known only at run time")


# --- tests ---------------------------------------------------------------------------------------

def _and(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def _or(a: bool | None, b: bool | None) -> bool | None:
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


def _not(a: bool | None) -> bool | None:
    return None if a is None else not a


def evaluate_test(args: list[Word], *, double: bool) -> bool | None:
    """``test``/``[ ]`` (``double``: ``[[ ]]``) over expanded words; None when not decidable."""
    try:
        parser = _TestParser(args, double)
        value = parser.expr()
        return value if parser.i == len(args) else None
    except (IndexError, ValueError, RecursionError):
        return None


class _TestParser:
    def __init__(self, args: list[Word], double: bool) -> None:
        self.args = args
        self.double = double
        self.i = 0

    def peek(self) -> str | None:
        return self.args[self.i].text if self.i < len(self.args) else None

    def expr(self) -> bool | None:
        value = self.conj()
        while self.peek() == ("||" if self.double else "-o"):
            self.i += 1
            value = _or(value, self.conj())
        return value

    def conj(self) -> bool | None:
        value = self.neg()
        while self.peek() == ("&&" if self.double else "-a"):
            self.i += 1
            value = _and(value, self.neg())
        return value

    def neg(self) -> bool | None:
        if self.peek() == "!" and self.i + 1 < len(self.args):
            self.i += 1
            return _not(self.neg())
        return self.primary()

    def primary(self) -> bool | None:
        token = self.peek()
        if token is None:
            return False
        if token == "(":
            self.i += 1
            value = self.expr()
            if self.peek() != ")":
                raise ValueError("unbalanced")
            self.i += 1
            return value
        following = self.args[self.i + 1].text if self.i + 1 < len(self.args) else None
        if following in _INT_OPS | _STR_OPS and self.i + 2 < len(self.args):
            left, right = self.args[self.i], self.args[self.i + 2]
            self.i += 3
            return self.binary(left, following or "", right)
        if token in ("-z", "-n") and self.i + 1 < len(self.args):
            word = self.args[self.i + 1]
            self.i += 2
            if word.unknown_span() is not None:
                return None
            return (not word.text) if token == "-z" else bool(word.text)
        if token in _FILE_OPS and self.i + 1 < len(self.args):
            self.i += 2
            return None  # files and terminals exist only at run time
        word = self.args[self.i]
        self.i += 1
        return None if word.unknown_span() is not None else bool(word.text)

    def binary(self, left: Word, op: str, right: Word) -> bool | None:
        if left.unknown_span() is not None or right.unknown_span() is not None or op == "=~":
            return None
        a, b = left.text, right.text
        if op in _INT_OPS:
            x, y = int(a.strip()), int(b.strip())  # ValueError: not decidable
            return {"-eq": x == y, "-ne": x != y, "-lt": x < y, "-le": x <= y, "-gt": x > y, "-ge": x >= y}[op]
        if op in ("=", "=="):
            return fnmatch.fnmatchcase(a, b) if self.double else a == b
        if op == "!=":
            return not fnmatch.fnmatchcase(a, b) if self.double else a != b
        return a < b if op == "<" else a > b


# --- arithmetic ----------------------------------------------------------------------------------

Linear = tuple[float, float]  # a × CPUs + b
_ARITH_TOKEN = re.compile(r"\s*(\d+|[A-Za-z_][A-Za-z0-9_]*|\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*|\$\([^()]*\)|[-+*/%()])")


def arithmetic(raw: Word, lookup: Callable[[str], Word | None]) -> Word:
    """``$((...))`` with integers, variables and ``$(nproc)``: a number, a CPU formula, or unknown."""
    inner = raw.text[3:-2]
    where = raw.loc(0)
    tokens: list[str] = []
    pos = 0
    while pos < len(inner.rstrip()):
        match = _ARITH_TOKEN.match(inner, pos)
        if not match:
            return Word.unknown(raw.text, where, f"{raw.text[:60]} is not evaluated statically")
        tokens.append(match.group(1))
        pos = match.end()
    try:
        parser = _Arith(tokens, lookup)
        value = parser.sum()
        if parser.i != len(tokens):
            raise ValueError("trailing tokens")
    except (ValueError, IndexError, ZeroDivisionError, RecursionError):
        return Word.unknown(raw.text, where, f"{raw.text[:60]} is not evaluated statically")
    a, b = value
    if a:
        return Word.unknown(raw.text, where, _CPU_REASON, (a, b))
    return Word.plain(str(int(b)), where)


class _Arith:
    def __init__(self, tokens: list[str], lookup: Callable[[str], Word | None]) -> None:
        self.tokens = tokens
        self.lookup = lookup
        self.i = 0

    def sum(self) -> Linear:
        a, b = self.product()
        while self.i < len(self.tokens) and self.tokens[self.i] in "+-":
            op = self.tokens[self.i]
            self.i += 1
            c, d = self.product()
            a, b = (a + c, b + d) if op == "+" else (a - c, b - d)
        return a, b

    def product(self) -> Linear:
        a, b = self.atom()
        while self.i < len(self.tokens) and self.tokens[self.i] in ("*", "/", "%"):
            op = self.tokens[self.i]
            self.i += 1
            c, d = self.atom()
            if op == "*":
                if a and c:
                    raise ValueError("not linear")
                a, b = (a * d + c * b, b * d)
            elif c:
                raise ValueError("division by the CPU count")
            elif op == "/":
                if a:
                    a, b = a / d, b / d
                else:
                    b = float(int(b / d))
            else:
                if a:
                    raise ValueError("modulo of the CPU count")
                b = float(int(b) % int(d))
        return a, b

    def atom(self) -> Linear:
        token = self.tokens[self.i]
        self.i += 1
        if token == "(":
            value = self.sum()
            if self.tokens[self.i] != ")":
                raise ValueError("unbalanced")
            self.i += 1
            return value
        if token == "-":
            a, b = self.atom()
            return -a, -b
        if token.isdigit():
            return 0.0, float(token)
        if token.startswith("$("):
            if _CPU_COMMANDS.match(token):
                return 1.0, 0.0
            raise ValueError("command output")
        name = token.lstrip("$").strip("{}")
        if ":-" in name:
            name, fallback = name.split(":-", 1)
        else:
            fallback = "0"
        found = self.lookup(name)
        text = found.text if found is not None and found.text else fallback
        if found is not None and found.unknown_span() is not None:
            span = found.unknown_span()
            if span is not None and span.cpu is not None:
                return span.cpu
            raise ValueError("unknown variable")
        return 0.0, float(int(text.strip()))
