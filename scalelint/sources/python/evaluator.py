"""Expressions: what ``int(os.getenv("POOL_SIZE", "5")) or 5`` is, without running it.

The evaluator follows names through module constants, imports, class attributes and the
functions of the tree (see :mod:`.interp`), and library calls through :mod:`.libs`. What it
cannot know it returns as *unknown* with the reason; it never raises to its caller except
:class:`~.values.Raised` (an exception the analysed code itself would raise, which its own
``try`` may catch). Depth and a step budget bound the work on hostile input.

Why this module is long: one ``visit`` per kind of expression node, each small; splitting
them across modules would only scatter the dispatch table.
"""
from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from scalelint.model import Val
from scalelint.sources.python.tree import Source
from scalelint.sources.python.values import (
    Bound,
    ClassObj,
    DictObj,
    FuncObj,
    Instance,
    Lazy,
    ModuleObj,
    Raised,
    Ref,
    SeqObj,
    Unsupported,
    V,
    combine,
    is_unknown,
    kn,
    plain,
    truth,
    unk,
)

__all__ = ["BUILTINS", "MAX_DEPTH", "Evaluator", "Frame"]

MAX_DEPTH = 60
MAX_STEPS = 400_000
BUILTINS = frozenset({
    "int", "str", "float", "bool", "dict", "list", "tuple", "set", "len", "min", "max", "abs", "round",
    "getattr", "isinstance", "print", "open", "sorted", "any", "all", "repr", "type",
})
_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
}
_CMPOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt,
    ast.GtE: operator.ge, ast.Is: operator.is_, ast.IsNot: operator.is_not,
    ast.In: lambda a, b: operator.contains(b, a), ast.NotIn: lambda a, b: not operator.contains(b, a),
}


@dataclass
class Frame:
    """Where names are looked up: a function's locals, a class body being executed, the module."""

    source: Source
    globals: dict[str, V]
    locals: dict[str, V] | None = None
    classns: dict[str, V] | None = None
    global_names: frozenset[str] = frozenset()

    def scope(self) -> dict[str, V]:
        """Where an assignment in this frame lands."""
        if self.locals is not None:
            return self.locals
        if self.classns is not None:
            return self.classns
        return self.globals


class Evaluator:
    """Expression evaluation; :class:`~.interp.Interp` adds statements, modules and calls."""

    def __init__(self, env: Mapping[str, Val[str]]) -> None:
        self.env = env
        self.env_lower = {k.lower(): k for k in env}
        self.steps = 0
        self.depth = 0

    # hooks implemented by Interp -----------------------------------------------------------
    def resolve_lazy(self, lazy: Lazy, frame: Frame, node: ast.AST) -> V:
        raise NotImplementedError

    def module_attr(self, module: ModuleObj, name: str, frame: Frame, node: ast.AST) -> V:
        raise NotImplementedError

    def class_attr(self, cls: ClassObj, name: str, frame: Frame, node: ast.AST) -> V | None:
        raise NotImplementedError

    def call_function(self, func: FuncObj, args: list[V], kwargs: dict[str, V], node: ast.AST,
                      bound_self: V | None = None) -> V:
        raise NotImplementedError

    def instantiate(self, cls: ClassObj, args: list[V], kwargs: dict[str, V], frame: Frame, node: ast.AST) -> V:
        raise NotImplementedError

    def call_library(self, fn: V, args: list[V], kwargs: dict[str, V], frame: Frame, node: ast.AST) -> V:
        raise NotImplementedError

    def attribute_of(self, target: V, name: str, frame: Frame, node: ast.AST) -> V:
        raise NotImplementedError

    def subscript_of(self, target: V, key: V, frame: Frame, node: ast.AST) -> V:
        raise NotImplementedError

    # entry ---------------------------------------------------------------------------------
    def eval(self, node: ast.expr, frame: Frame) -> V:
        """The value of ``node``; Raised propagates, everything else becomes unknown."""
        self.steps += 1
        if self.steps > MAX_STEPS:
            return unk(frame.source.loc(node), "evaluation budget exhausted")
        if self.depth >= MAX_DEPTH:
            return unk(frame.source.loc(node), "expression nested too deeply to follow")
        self.depth += 1
        try:
            method = getattr(self, "_e_" + type(node).__name__, None)
            if method is None:
                return unk(frame.source.loc(node), f"{type(node).__name__} expressions are not followed")
            result: V = method(node, frame)
            return result
        except Unsupported as error:
            return unk(frame.source.loc(node), error.reason)
        except RecursionError:
            return unk(frame.source.loc(node), "expression nested too deeply to follow")
        finally:
            self.depth -= 1

    # leaves ----------------------------------------------------------------------------------
    def _e_Constant(self, node: ast.Constant, frame: Frame) -> V:
        return kn(node.value, frame.source.loc(node))

    def _e_Name(self, node: ast.Name, frame: Frame) -> V:
        return self.lookup(node.id, frame, node)

    def lookup(self, name: str, frame: Frame, node: ast.AST) -> V:
        """Locals, the class body being executed, module globals (resolving lazy imports), then builtins."""
        for scope in (frame.locals, frame.classns, frame.globals):
            if scope is not None and name in scope:
                value = scope[name]
                if isinstance(value.value, Lazy):
                    value = self.resolve_lazy(value.value, frame, node)
                    scope[name] = value
                return value
        if name in BUILTINS:
            return kn(Ref("builtins." + name), frame.source.loc(node))
        return unk(frame.source.loc(node), f"`{name}` is not defined where it is used")

    def _e_Attribute(self, node: ast.Attribute, frame: Frame) -> V:
        target = self.eval(node.value, frame)
        if is_unknown(target):
            return target
        return self.attribute_of(target, node.attr, frame, node)

    def _e_Subscript(self, node: ast.Subscript, frame: Frame) -> V:
        target = self.eval(node.value, frame)
        if is_unknown(target):
            return target
        if isinstance(node.slice, ast.Slice):
            return unk(frame.source.loc(node), "slices are not followed")
        return self.subscript_of(target, self.eval(node.slice, frame), frame, node)

    # containers -----------------------------------------------------------------------------
    def _e_Dict(self, node: ast.Dict, frame: Frame) -> V:
        result = DictObj()
        for key_node, value_node in zip(node.keys, node.values):
            if key_node is None:  # {**other}
                self.merge_into(result, self.eval(value_node, frame))
                continue
            key = self.eval(key_node, frame)
            try:
                result.items[plain(key)] = self.eval(value_node, frame)
            except (Unsupported, TypeError):
                result.partial = True
        return kn(result, frame.source.loc(node))

    @staticmethod
    def merge_into(target: DictObj, other: V) -> None:
        if isinstance(other.value, DictObj):
            target.items.update(other.value.items)
            target.partial = target.partial or other.value.partial
        else:
            target.partial = True

    def _seq(self, elts: list[ast.expr], frame: Frame, kind: str, node: ast.AST) -> V:
        """A list/tuple/set literal, with ``*spread`` of known sequences."""
        items: list[V] = []
        for elt in elts:
            if isinstance(elt, ast.Starred):
                inner = self.eval(elt.value, frame)
                if not isinstance(inner.value, SeqObj):
                    return unk(frame.source.loc(node), "unpacking of an unknown sequence")
                items.extend(inner.value.items)
            else:
                items.append(self.eval(elt, frame))
        return kn(SeqObj(items, kind), frame.source.loc(node))

    def _e_List(self, node: ast.List, frame: Frame) -> V:
        return self._seq(node.elts, frame, "list", node)

    def _e_Tuple(self, node: ast.Tuple, frame: Frame) -> V:
        return self._seq(node.elts, frame, "tuple", node)

    def _e_Set(self, node: ast.Set, frame: Frame) -> V:
        return self._seq(node.elts, frame, "set", node)

    def _e_JoinedStr(self, node: ast.JoinedStr, frame: Frame) -> V:
        parts: list[str] = []
        vals: list[V] = []
        for part in node.values:
            v = self.eval(part.value if isinstance(part, ast.FormattedValue) else part, frame)
            if is_unknown(v):
                return v
            if isinstance(part, ast.FormattedValue) and (part.format_spec is not None or part.conversion != -1):
                return unk(frame.source.loc(node), "formatted f-string fields are not followed")
            vals.append(v)
            parts.append(self.to_str(v))
        state, reason = combine(*vals) if vals else combine(kn("", None))
        return Val("".join(parts), frame.source.loc(node), state, reason)

    @staticmethod
    def to_str(v: V) -> str:
        value = v.value
        if isinstance(value, Instance) and value.kind == "path":
            return str(value.data["path"])
        if isinstance(value, (str, int, float, bool, type(None))):
            return str(value)
        raise Unsupported("str() of an object is not followed")

    # operators ------------------------------------------------------------------------------
    def _e_BinOp(self, node: ast.BinOp, frame: Frame) -> V:
        left, right = self.eval(node.left, frame), self.eval(node.right, frame)
        for side in (left, right):
            if is_unknown(side):
                return side
        if isinstance(left.value, Instance) and left.value.kind == "path" and isinstance(node.op, ast.Div):
            path = f"{left.value.data['path']}/{plain(right)}"
            return kn(Instance("path", data={"path": path}), frame.source.loc(node))
        op = _BINOPS.get(type(node.op))
        if op is None:
            raise Unsupported("this operator is not followed")
        a, b = plain(left), plain(right)
        if isinstance(node.op, ast.Mod) and isinstance(a, str):
            raise Unsupported("%-formatting is not followed")
        if isinstance(node.op, ast.Pow) and isinstance(b, int) and abs(b) > 64:
            raise Unsupported("large powers are not followed")
        if isinstance(node.op, ast.Mult) and any(isinstance(x, (str, bytes, list, tuple)) and isinstance(y, int)
                                                 and y > 10_000 for x, y in ((a, b), (b, a))):
            raise Unsupported("large repetitions are not followed")
        try:
            result = op(a, b)
        except ZeroDivisionError:
            raise Raised("ZeroDivisionError") from None
        except (TypeError, ValueError, OverflowError):
            raise Unsupported("operator on mismatched types") from None
        state, reason = combine(left, right)
        return Val(result, frame.source.loc(node), state, reason)

    def _e_UnaryOp(self, node: ast.UnaryOp, frame: Frame) -> V:
        operand = self.eval(node.operand, frame)
        if isinstance(node.op, ast.Not):
            t = truth(operand)
            if t is None:
                return operand if is_unknown(operand) else unk(frame.source.loc(node), "truth value not known")
            return Val(not t, operand.loc, operand.state, operand.reason)
        value = plain(operand)
        if isinstance(node.op, ast.USub) and isinstance(value, (int, float)) and not isinstance(value, bool):
            return Val(-value, frame.source.loc(node), operand.state, operand.reason)
        if isinstance(node.op, ast.UAdd) and isinstance(value, (int, float)):
            return operand
        raise Unsupported("this unary operator is not followed")

    def _e_BoolOp(self, node: ast.BoolOp, frame: Frame) -> V:
        """``a or b`` is ``a`` when ``a`` is truthy, else ``b`` (the ``X or default`` idiom)."""
        is_or = isinstance(node.op, ast.Or)
        value = self.eval(node.values[0], frame)
        for nxt in node.values[1:]:
            t = truth(value)
            if t is None:
                return value if is_unknown(value) else unk(frame.source.loc(node), "truth value not known")
            if t == is_or:
                return value
            value = self.eval(nxt, frame)
        return value

    def _e_Compare(self, node: ast.Compare, frame: Frame) -> V:
        left = self.eval(node.left, frame)
        used = [left]
        result = True
        for op, right_node in zip(node.ops, node.comparators):
            right = self.eval(right_node, frame)
            used.append(right)
            outcome = self.compare(op, left, right, frame, node)
            if outcome is None:
                first = next((u for u in used if is_unknown(u)), None)
                return first or unk(frame.source.loc(node), "comparison cannot be decided")
            result = result and outcome
            left = right
        state, reason = combine(*used)
        return Val(result, frame.source.loc(node), state, reason)

    def compare(self, op: ast.cmpop, left: V, right: V, frame: Frame, node: ast.AST) -> bool | None:
        """One comparison; None when it cannot be decided (an unknown operand, mismatched types)."""
        if isinstance(op, (ast.In, ast.NotIn)) and isinstance(right.value, Ref) and right.value.qualname == "os.environ":
            try:
                name = plain(left)
            except Unsupported:
                return None
            found = self.env_has(name)
            if found is None:
                return None
            return found if isinstance(op, ast.In) else not found
        if is_unknown(left) or is_unknown(right):
            return None
        if isinstance(op, (ast.In, ast.NotIn)) and isinstance(right.value, DictObj):
            try:
                key = plain(left)
            except Unsupported:
                return None
            if key not in right.value.items and right.value.partial:
                return None
            present = key in right.value.items
            return present if isinstance(op, ast.In) else not present
        try:
            a, b = plain(left), plain(right)
        except Unsupported:
            return None
        if isinstance(op, (ast.Is, ast.IsNot)):
            same = type(a) is type(b) and a == b and isinstance(a, (bool, type(None)))
            return same if isinstance(op, ast.Is) else not same
        try:
            return bool(_CMPOPS[type(op)](a, b))
        except (TypeError, KeyError):
            return None

    def env_has(self, name: Any) -> bool | None:
        """Whether the container env sets ``name``; None when its value is unknown (a Secret)."""
        if not isinstance(name, str):
            return None
        return name in self.env

    def _e_IfExp(self, node: ast.IfExp, frame: Frame) -> V:
        t = truth(self.eval(node.test, frame))
        if t is None:
            return unk(frame.source.loc(node), f"depends on a condition at line {node.lineno} that cannot be decided")
        return self.eval(node.body if t else node.orelse, frame)

    def _e_NamedExpr(self, node: ast.NamedExpr, frame: Frame) -> V:
        value = self.eval(node.value, frame)
        frame.scope()[node.target.id] = value
        return value

    def _e_Await(self, node: ast.Await, frame: Frame) -> V:
        return self.eval(node.value, frame)

    def _e_Lambda(self, node: ast.Lambda, frame: Frame) -> V:
        return kn(FuncObj(node, frame.source, frame.globals, frame.locals), frame.source.loc(node))

    # calls ----------------------------------------------------------------------------------
    def _e_Call(self, node: ast.Call, frame: Frame) -> V:
        func = self.eval(node.func, frame)
        if is_unknown(func):
            return func
        args, kwargs = self.arguments(node, frame)
        return self.call(func, args, kwargs, frame, node)

    def arguments(self, node: ast.Call, frame: Frame) -> tuple[list[V], dict[str, V]]:
        """A call's arguments, raising as the analysed code would; readers use ``Interp.call_arguments``."""
        args: list[V] = []
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                inner = self.eval(arg.value, frame)
                if not isinstance(inner.value, SeqObj):
                    raise Unsupported("*args of an unknown sequence")
                args.extend(inner.value.items)
            else:
                args.append(self.eval(arg, frame))
        kwargs: dict[str, V] = {}
        for kw in node.keywords:
            if kw.arg is None:
                spread = self.eval(kw.value, frame)
                if not isinstance(spread.value, DictObj) or spread.value.partial:
                    kwargs["**"] = spread if is_unknown(spread) else unk(spread.loc, "**kwargs not fully known")
                    continue
                kwargs.update({str(k): v for k, v in spread.value.items.items()})
            else:
                kwargs[kw.arg] = self.eval(kw.value, frame)
        return args, kwargs

    def call(self, func: V, args: list[V], kwargs: dict[str, V], frame: Frame, node: ast.AST) -> V:
        """Dispatch: functions of the tree are interpreted, classes instantiated, the rest goes to :mod:`.libs`."""
        target = func.value
        if isinstance(target, FuncObj):
            return self.call_function(target, args, kwargs, node)
        if isinstance(target, ClassObj):
            return self.instantiate(target, args, kwargs, frame, node)
        if isinstance(target, Bound) and isinstance(target.target.value, Instance) \
                and target.target.value.kind == "object" and target.target.value.cls is not None:
            method = self.class_attr(target.target.value.cls, target.name, frame, node)
            if method is not None and isinstance(method.value, FuncObj):
                return self.call_function(method.value, args, kwargs, node, bound_self=target.target)
        return self.call_library(func, args, kwargs, frame, node)
