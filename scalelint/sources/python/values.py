"""What a Python expression can evaluate to when nothing is executed.

Every result is a :class:`~scalelint.model.Val`: the value, where it was written (the literal,
the env entry, the expression that computed it) and its status. The value itself is a plain
Python constant (``int``, ``str``, ``None`` ...) or one of the symbolic objects below, which
stand for things that exist only when the program runs: a module, a function of the tree, a
class, an instance of a library class (``environs.Env()``, a pydantic settings object), a
dict that later statements may still mutate (``DATABASES["default"].update(...)``).
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from scalelint.findings import Loc
from scalelint.model import State, Val

if TYPE_CHECKING:
    from scalelint.sources.python.tree import Source

__all__ = [
    "Bound",
    "ClassObj",
    "DictObj",
    "FuncObj",
    "Instance",
    "Lazy",
    "ModuleObj",
    "Raised",
    "Ref",
    "Returned",
    "SeqObj",
    "Unsupported",
    "V",
    "combine",
    "is_unknown",
    "kn",
    "plain",
    "truth",
    "unk",
]

V = Val[Any]

_STATE_ORDER = (State.UNKNOWN, State.ASSUMED, State.KNOWN, State.DEFAULT)


class Raised(Exception):
    """An exception the analysed program would raise (``os.environ["X"]`` with X unset,
    ``int("abc")``, an explicit ``raise``): ``try``/``except`` in the analysed code may catch it."""

    def __init__(self, kind: str, reason: str = "") -> None:
        super().__init__(kind)
        self.kind = kind
        self.reason = reason or f"raises {kind}"


class Unsupported(Exception):
    """Code the evaluator does not model (a loop, a branch that cannot be decided in a helper)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Returned(Exception):
    """A ``return`` inside an interpreted helper, carrying its value out of the statements."""

    def __init__(self, value: Val[Any]) -> None:
        super().__init__("return")
        self.value = value


@dataclass(eq=False)
class Ref:
    """Something defined outside the tree, by its dotted name (``os.environ``, ``sqlalchemy.create_engine``)."""

    qualname: str


@dataclass(eq=False)
class ModuleObj:
    """A module of the tree, executed on first attribute access."""

    name: str


@dataclass(frozen=True)
class Lazy:
    """``from module import name``, resolved when the name is first read (most never are)."""

    module: str
    name: str | None


@dataclass(eq=False)
class FuncObj:
    """A function or lambda of the tree, with the module globals (and enclosing locals) it closes over."""

    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
    source: Source
    globals: dict[str, V]
    closure: dict[str, V] | None = None

    @property
    def name(self) -> str:
        return getattr(self.node, "name", "<lambda>")


@dataclass(eq=False)
class ClassObj:
    """A class of the tree; its body runs once, on first attribute access."""

    node: ast.ClassDef
    source: Source
    globals: dict[str, V]
    bases: list[V]
    ns: dict[str, V] | None = None  # the executed body, filled on first use
    annotations: dict[str, ast.expr] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.node.name


@dataclass(eq=False)
class Instance:
    """An object at run time: ``kind`` names the library type ("environs", "settings", ...)."""

    kind: str
    cls: ClassObj | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(eq=False)
class Bound:
    """``target.name`` where ``name`` is a method: called later with its arguments."""

    target: V
    name: str


@dataclass(eq=False)
class DictObj:
    """A dict literal or a dict a library returns; mutable like the real one.

    ``partial`` is set when a key could not be known, so a missing key is not proof of absence."""

    items: dict[Any, V] = field(default_factory=dict)
    partial: bool = False


@dataclass(eq=False)
class SeqObj:
    items: list[V]
    kind: str = "list"  # list | tuple | set


def kn(value: Any, loc: Loc | None, state: State = State.KNOWN, reason: str = "") -> V:
    return Val(value, loc, state, reason)


def unk(loc: Loc | None, reason: str) -> V:
    return Val(None, loc, State.UNKNOWN, reason)


def is_unknown(v: V) -> bool:
    return v.state is State.UNKNOWN


def combine(*vals: V) -> tuple[State, str]:
    """The status of a value computed from ``vals``: the weakest wins, ``default`` only if all are."""
    states = {v.state for v in vals}
    state = next((s for s in _STATE_ORDER if s in states), State.KNOWN)
    reason = "; ".join(dict.fromkeys(v.reason for v in vals if v.reason and v.state is state))
    return state, reason


_PRIMITIVES = (str, int, float, bool, bytes, type(None))


def plain(v: V) -> Any:
    """The Python value of a known constant or container of constants; raises Unsupported otherwise."""
    if is_unknown(v):
        raise Unsupported(v.reason)
    value = v.value
    if isinstance(value, _PRIMITIVES):
        return value
    if isinstance(value, SeqObj):
        items = [plain(i) for i in value.items]
        return tuple(items) if value.kind == "tuple" else frozenset(items) if value.kind == "set" else items
    if isinstance(value, DictObj) and not value.partial:
        return {k: plain(i) for k, i in value.items.items()}
    raise Unsupported("not a constant")


def truth(v: V) -> bool | None:
    """Python truthiness when it can be known, else None."""
    if is_unknown(v):
        return None
    value = v.value
    if isinstance(value, _PRIMITIVES):
        return bool(value)
    if isinstance(value, SeqObj):
        return bool(value.items)
    if isinstance(value, DictObj):
        return True if value.items else (None if value.partial else False)
    if isinstance(value, Instance) and value.kind == "path":
        return True
    if isinstance(value, (FuncObj, ClassObj, ModuleObj)):
        return True
    return None
