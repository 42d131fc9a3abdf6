"""What the library models (:mod:`.libs`, :mod:`.configlibs`, :mod:`.inifiles`) ask of the interpreter.

They are called by :class:`~scalelint.sources.python.interp.Interp` and call back into it; naming
the interpreter through this protocol instead of importing its class keeps the import graph a tree.
"""
from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

from scalelint.model import Val

if TYPE_CHECKING:
    from scalelint.sources.python.evaluator import Frame
    from scalelint.sources.python.tree import SourceTree
    from scalelint.sources.python.values import ClassObj, DictObj, FuncObj, V


class Host(Protocol):
    env: Mapping[str, Val[str]]
    #: lower-cased env names → their spelling (pydantic settings match names case-insensitively)
    env_lower: dict[str, str]
    #: ini files a settings module reads: path → (section, option) → (value, line, column)
    ini_cache: dict[str, dict[tuple[str, str], tuple[str, int, int]]]
    tree: SourceTree

    def attribute_of(self, target: V, name: str, frame: Frame, node: ast.AST) -> V: ...

    def call_function(self, func: FuncObj, args: list[V], kwargs: dict[str, V], node: ast.AST,
                      bound_self: V | None = None) -> V: ...

    def class_ns(self, cls: ClassObj) -> dict[str, V]: ...

    def mro(self, cls: ClassObj, seen: set[int] | None = None) -> list[ClassObj]: ...

    def merge_into(self, target: DictObj, other: V) -> None: ...

    def to_str(self, v: V) -> str: ...
