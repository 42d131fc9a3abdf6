"""Read a gunicorn config file (Python) with ``ast``: never imported, never executed.

A ``gunicorn.conf.py`` is code, but the settings that matter are nearly always module-level
assignments of literals, environment lookups with defaults and the CPU-count formula
``multiprocessing.cpu_count() * 2 + 1``.  Those are evaluated here over the container env;
anything else (a function call, a branch) is unknown with the reason.  A CPU formula is
kept as (a, b) in ``a × CPUs + b`` so that the caller can bound it by the CPU limit.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field

from scalelint.findings import Loc
from scalelint.model import Val, unknown

from .located import FileOrigin, Word

__all__ = ["PyConf", "read_python_settings"]

_CPU_CALLS = frozenset({
    "multiprocessing.cpu_count", "os.cpu_count", "cpu_count", "psutil.cpu_count", "mp.cpu_count",
})
_CPU = "depends on the CPU count"


@dataclass
class PyConf:
    """Module-level settings: name → value (text) with location; CPU formulas beside."""

    values: dict[str, Val[str]] = field(default_factory=dict)
    cpu: dict[str, tuple[float, float]] = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True)
class _V:
    """An evaluated expression: a constant, a CPU formula, or unknown."""

    value: object = None
    loc: Loc | None = None
    cpu: tuple[float, float] | None = None
    why: str = ""
    #: why the value is None (``os.getenv("X")`` with X unset), for when nothing replaces it
    none: str = ""


def read_python_settings(origin: FileOrigin, env: dict[str, Word], names: frozenset[str]) -> PyConf:
    """Evaluate the module-level assignments of ``names`` in the file (other names feed them)."""
    conf = PyConf()
    try:
        tree = ast.parse(origin.text)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        conf.error = f"not valid Python: {error}"
        return conf
    lines = origin.text.splitlines()
    scope: dict[str, _V] = {}
    evaluator = _Eval(origin, lines, env, scope)
    for node in tree.body:
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        elif isinstance(node, (ast.If, ast.Try, ast.For, ast.While, ast.With)):
            for name in _assigned(node):
                scope[name] = _V(loc=evaluator.loc(node), why=f"{name} is set inside a block (if/try/loop)")
            continue
        if value is None:
            continue
        try:
            result = evaluator.eval(value)
        except RecursionError:
            result = _V(loc=evaluator.loc(value), why="expression nested too deeply")
        for target in targets:
            if isinstance(target, ast.Name):
                scope[target.id] = result
    for name in names:
        item = scope.get(name)
        if item is None:
            continue
        if item.cpu is not None:
            conf.cpu[name] = item.cpu
            conf.values[name] = unknown(item.loc, _CPU)  # the caller says which setting and which server
        elif item.why or item.value is None:
            conf.values[name] = unknown(item.loc, item.why or item.none or "not a constant")
        else:
            conf.values[name] = Val(str(item.value), item.loc)
    return conf


def _assigned(node: ast.AST) -> set[str]:
    return {t.id for n in ast.walk(node) if isinstance(n, (ast.Assign, ast.AnnAssign))
            for t in (n.targets if isinstance(n, ast.Assign) else [n.target]) if isinstance(t, ast.Name)}


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


class _Eval:
    def __init__(self, origin: FileOrigin, lines: list[str], env: dict[str, Word], scope: dict[str, _V]) -> None:
        self.origin = origin
        self.lines = lines
        self.env = env
        self.scope = scope

    def loc(self, node: ast.AST) -> Loc:
        line = getattr(node, "lineno", 1)
        offset = getattr(node, "col_offset", 0)
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        column = len(text.encode("utf-8")[:offset].decode("utf-8", "ignore")) + 1  # ast counts UTF-8 bytes
        return Loc(self.origin.path, line, column)

    def eval(self, node: ast.expr) -> _V:
        where = self.loc(node)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str)) and not isinstance(
            node.value, bool
        ):
            return _V(node.value, where)
        if isinstance(node, ast.Name):
            found = self.scope.get(node.id)
            return found if found is not None else _V(loc=where, why=f"{node.id} is not a module constant")
        if isinstance(node, ast.Call):
            return self.call(node, where)
        if isinstance(node, ast.Subscript) and _dotted(node.value) in ("os.environ", "environ"):
            found = self.environ(self.eval(node.slice), None, where)
            return _V(loc=found.loc, why=found.none) if found.none else found
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
            first = self.eval(node.values[0])
            if first.why:
                return first
            if first.value or first.cpu:
                return first  # a falsy value (None, "", 0) gives way to the next operand
            return self.eval(ast.BoolOp(ast.Or(), node.values[1:])) if len(node.values) > 2 else self.eval(
                node.values[1])
        if isinstance(node, ast.BinOp):
            return self.binop(node, where)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            inner = self.eval(node.operand)
            if isinstance(inner.value, (int, float)):
                return _V(-inner.value, where)
        return _V(loc=where, why=f"{ast.unparse(node)[:60]} is not evaluated statically")

    def call(self, node: ast.Call, where: Loc) -> _V:
        name = _dotted(node.func)
        if name in _CPU_CALLS:
            return _V(loc=where, cpu=(1.0, 0.0))
        if name in ("os.environ.get", "environ.get", "os.getenv", "getenv") and node.args:
            fallback = self.eval(node.args[1]) if len(node.args) > 1 else None
            return self.environ(self.eval(node.args[0]), fallback, where)
        if name in ("int", "float", "str") and len(node.args) == 1:
            inner = self.eval(node.args[0])
            if inner.why or inner.cpu is not None:
                return inner
            if inner.value is None:
                return _V(loc=inner.loc, why=inner.none or "None is not a number")
            try:
                cast = {"int": int, "float": float, "str": str}[name]
                return _V(cast(inner.value), inner.loc)  # type: ignore[operator]
            except (TypeError, ValueError):
                return _V(loc=inner.loc, why=f"{inner.value!r} is not a number")
        if name == "len" and node.args and _dotted(getattr(node.args[0], "func", node.args[0])) == "os.sched_getaffinity":
            return _V(loc=where, cpu=(1.0, 0.0))
        return _V(loc=where, why=f"{name or 'a call'}() is not evaluated statically")

    def environ(self, key: _V, fallback: _V | None, where: Loc) -> _V:
        if not isinstance(key.value, str):
            return _V(loc=where, why="environment variable name is not a constant")
        word = self.env.get(key.value)
        if word is None:
            if fallback is None:
                return _V(None, where, none=f"{key.value} is not set in the container environment")
            return fallback
        val = word.value()
        if val.value is None:
            span = word.unknown_span()
            return _V(loc=val.loc, cpu=span.cpu if span else None, why="" if span and span.cpu else val.reason)
        return _V(str(val.value), val.loc)

    def binop(self, node: ast.BinOp, where: Loc) -> _V:
        left, right = self.eval(node.left), self.eval(node.right)
        for side in (left, right):
            if side.why:
                return side
        la, lb = left.cpu or (0.0, _num(left.value))
        ra, rb = right.cpu or (0.0, _num(right.value))
        if lb is None or rb is None:
            return _V(loc=where, why=f"{ast.unparse(node)[:60]} is not arithmetic on numbers")
        op = node.op
        if isinstance(op, ast.Add):
            a, b = la + ra, lb + rb
        elif isinstance(op, ast.Sub):
            a, b = la - ra, lb - rb
        elif isinstance(op, ast.Mult) and not (la and ra):
            a, b = la * rb + ra * lb, lb * rb
        elif isinstance(op, (ast.FloorDiv, ast.Div)) and not ra and rb:
            a, b = la / rb, (lb // rb if isinstance(op, ast.FloorDiv) else lb / rb)
        else:
            return _V(loc=where, why=f"{ast.unparse(node)[:60]} is not evaluated statically")
        if a:
            return _V(loc=where, cpu=(a, b))
        return _V(int(b) if float(b).is_integer() else b, where)


def _num(value: object) -> float | None:
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None

