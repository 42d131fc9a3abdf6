"""The evaluator for readers: modules, classes and helper calls, executed symbolically.

A settings module is a program: ``from .base import *``, ``if os.getenv("DB") == "postgres":``,
``try: from .local import * except ImportError: pass``, ``DATABASES["default"].update(...)``.
:class:`Interp` walks those statements in order with the container env, decides the branches
it can, and keeps what it cannot decide as *unknown* with the reason. Modules are executed at
most once (a cycle sees the partial namespace, as Python's import does), helper functions are
interpreted when called with known arguments (``envint("DB_CONN_MAX_AGE", "0")``), and loops
are never run: a name a loop assigns becomes unknown.
"""
from __future__ import annotations

import ast
import os
from collections.abc import Mapping
from dataclasses import dataclass

from scalelint.model import Val
from scalelint.sources.python import libs
from scalelint.sources.python.evaluator import Frame
from scalelint.sources.python.statements import Statements
from scalelint.sources.python.tree import Source, SourceTree
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
    Returned,
    SeqObj,
    Unsupported,
    V,
    kn,
    unk,
)

__all__ = ["Interp", "ModuleState"]

MAX_CALL_DEPTH = 8
MAX_IMPORT_DEPTH = 25


@dataclass
class ModuleState:
    source: Source
    ns: dict[str, V]
    done: bool = False


class Interp(Statements):
    """The whole evaluator: expressions (inherited), statements, modules, calls."""

    def __init__(self, tree: SourceTree, env: Mapping[str, Val[str]]) -> None:
        super().__init__(env)
        self.tree = tree
        self.modules: dict[str, ModuleState] = {}
        self.call_depth = 0
        self.import_depth = 0
        self.resolving: set[Lazy] = set()  # lazy imports being resolved, to stop cycles
        #: ini files a settings module reads: (section, option) -> (value, line, column)
        self.ini_cache: dict[str, dict[tuple[str, str], tuple[str, int, int]]] = {}

    # modules ---------------------------------------------------------------------------------
    def load(self, name: str) -> ModuleState | None:
        """The executed namespace of an in-tree module (partial while it is still executing)."""
        if name in self.modules:
            return self.modules[name]
        source = self.tree.parse_module(name)
        if source is None:
            return None
        return self.load_source(source, name)

    def load_source(self, source: Source, name: str | None = None) -> ModuleState | None:
        """Execute ``source`` once, under its module name (or its path when it is not importable)."""
        key = name or (source.module if self.tree.module_file(source.module) == source.rel else "file:" + source.rel)
        if key in self.modules:
            return self.modules[key]
        if self.import_depth >= MAX_IMPORT_DEPTH:
            return None
        abs_file = os.path.join(self.tree.abs_root, source.rel)
        state = ModuleState(source, {"__file__": kn(abs_file, None), "__name__": kn(source.module, None)})
        self.modules[key] = state
        # a module runs in its own context: the expression and call depth of the importer do not count
        saved = self.depth, self.call_depth
        self.depth = self.call_depth = 0
        self.import_depth += 1
        try:
            self.exec_block(source.tree.body, Frame(source, state.ns))
        except RecursionError:
            pass  # what was assigned so far stays; the rest of the module is not read
        finally:
            self.import_depth -= 1
            self.depth, self.call_depth = saved
            state.done = True
        return state

    def load_star(self, module: str) -> dict[str, V] | None:
        state = self.load(module)
        return state.ns if state is not None else None

    def resolve_module(self, name: str, level: int, source: Source) -> str:
        if not level:
            return name
        parts = source.package.split(".") if source.package else []
        if level > 1:
            parts = parts[: len(parts) - (level - 1)]
        return ".".join([*parts, name] if name else parts)

    def in_tree(self, name: str) -> bool:
        return self.tree.module_file(name) is not None or self.tree.has_module_prefix(name)

    def resolve_lazy(self, lazy: Lazy, frame: Frame, node: ast.AST) -> V:
        loc = frame.source.loc(node)
        if lazy.name is None:
            return kn(ModuleObj(lazy.module), loc)
        return self.module_attr(ModuleObj(lazy.module), lazy.name, frame, node)

    def module_attr(self, module: ModuleObj, name: str, frame: Frame, node: ast.AST) -> V:
        """``module.name``: the module's own binding, else a submodule of the tree."""
        sub = f"{module.name}.{name}"
        state = self.load(module.name)
        if state is not None and name in state.ns:
            value = state.ns[name]
            if isinstance(value.value, Lazy):
                lazy = value.value
                if lazy in self.resolving:  # a.py: `from a import x` (or a longer cycle of them)
                    return unk(frame.source.loc(node), f"`{name}` is imported in a cycle and never assigned")
                self.resolving.add(lazy)
                try:
                    value = self.resolve_lazy(lazy, Frame(state.source, state.ns), node)
                finally:
                    self.resolving.discard(lazy)
                state.ns[name] = value
            return value
        if self.in_tree(sub):
            return kn(ModuleObj(sub), frame.source.loc(node))
        if state is None and self.tree.module_file(module.name) is not None:
            return unk(frame.source.loc(node), f"module {module.name} could not be read")
        return unk(frame.source.loc(node), f"`{name}` is not set in module {module.name}")

    # classes -------------------------------------------------------------------------------
    def class_ns(self, cls: ClassObj) -> dict[str, V]:
        """The class body's namespace, executed once on first use."""
        if cls.ns is None:
            cls.ns = {}
            for stmt in cls.node.body:
                if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                    cls.annotations[stmt.target.id] = stmt.annotation
            self.exec_block(cls.node.body, Frame(cls.source, cls.globals, classns=cls.ns))
        return cls.ns

    def mro(self, cls: ClassObj, seen: set[int] | None = None) -> list[ClassObj]:
        """Classes of the tree in lookup order (depth first, cycle-safe); library bases are left out."""
        seen = seen if seen is not None else set()
        if id(cls) in seen:
            return []
        seen.add(id(cls))
        order = [cls]
        for base in cls.bases:
            if isinstance(base.value, ClassObj):
                order.extend(self.mro(base.value, seen))
        return order

    def library_bases(self, cls: ClassObj) -> set[str]:
        """Dotted names of the library classes ``cls`` derives from (``pydantic_settings.BaseSettings``)."""
        found: set[str] = set()
        for klass in self.mro(cls):
            found.update(b.value.qualname for b in klass.bases if isinstance(b.value, Ref))
        return found

    def class_attr(self, cls: ClassObj, name: str, frame: Frame, node: ast.AST) -> V | None:
        for klass in self.mro(cls):
            ns = self.class_ns(klass)
            if name in ns:
                return ns[name]
        return None

    def instantiate(self, cls: ClassObj, args: list[V], kwargs: dict[str, V], frame: Frame, node: ast.AST) -> V:
        kind = "settings" if libs.is_settings_class(self.library_bases(cls)) else "object"
        return kn(Instance(kind, cls, {"kwargs": kwargs}), frame.source.loc(node))

    # attributes and calls -----------------------------------------------------------------------
    def attribute_of(self, target: V, name: str, frame: Frame, node: ast.AST) -> V:
        """``target.name`` for every kind of value: modules, library names, classes, instances, methods."""
        value = target.value
        loc = frame.source.loc(node)
        if isinstance(value, ModuleObj):
            return self.module_attr(value, name, frame, node)
        if isinstance(value, Ref):
            return kn(Ref(f"{value.qualname}.{name}"), loc)
        if isinstance(value, ClassObj):
            found = self.class_attr(value, name, frame, node)
            return found if found is not None else unk(loc, f"{value.name}.{name} is not set in the class")
        if isinstance(value, Instance) and value.kind == "settings" and value.cls is not None:
            return libs.settings_field(self, value, name, node, frame)
        if isinstance(value, Instance) and value.kind == "object" and value.cls is not None:
            attrs = value.data.get("attrs", {})
            if name in attrs:
                return attrs[name]
            found = self.class_attr(value.cls, name, frame, node)
            if found is not None and not isinstance(found.value, FuncObj):
                return found
            return kn(Bound(target, name), loc)
        if isinstance(value, Instance) and value.kind == "path":
            return libs.path_attr(target, name, loc)
        return kn(Bound(target, name), loc)

    def subscript_of(self, target: V, key: V, frame: Frame, node: ast.AST) -> V:
        return libs.subscript(self, target, key, frame, node)

    def call_library(self, fn: V, args: list[V], kwargs: dict[str, V], frame: Frame, node: ast.AST) -> V:
        return libs.call(self, fn, args, kwargs, frame, node)

    def call_function(self, func: FuncObj, args: list[V], kwargs: dict[str, V], node: ast.AST,
                      bound_self: V | None = None) -> V:
        """Interpret a helper of the tree (``envint``, ``empty_str_cast``, ``get_settings``)."""
        loc = func.source.loc(func.node)
        if self.call_depth >= MAX_CALL_DEPTH:
            return unk(loc, f"calls nested too deeply to follow {func.name}()")
        if isinstance(func.node, ast.AsyncFunctionDef):
            return unk(loc, f"{func.name}() is a coroutine")
        local: dict[str, V] = dict(func.closure or {})
        frame = Frame(func.source, func.globals, locals=local)
        self._bind(func, [bound_self, *args] if bound_self is not None else args, kwargs, frame)
        self.call_depth += 1
        try:
            if isinstance(func.node, ast.Lambda):
                return self.eval(func.node.body, frame)
            self.exec_block(func.node.body, frame)
        except Returned as ret:
            return ret.value
        except Unsupported as error:
            return unk(loc, f"{func.name}(): {error.reason}")
        finally:
            self.call_depth -= 1
        return kn(None, loc)

    def _bind(self, func: FuncObj, args: list[V], kwargs: dict[str, V], frame: Frame) -> None:
        """Parameters from positional and keyword arguments, then defaults (evaluated in the function's module)."""
        spec = func.node.args
        positional = [*spec.posonlyargs, *spec.args]
        defaults: dict[str, ast.expr] = dict(zip([a.arg for a in positional[len(positional) - len(spec.defaults):]],
                                                 spec.defaults))
        defaults.update({a.arg: d for a, d in zip(spec.kwonlyargs, spec.kw_defaults) if d is not None})
        assert frame.locals is not None
        for i, param in enumerate(positional):
            if i < len(args):
                frame.locals[param.arg] = args[i]
            elif param.arg in kwargs:
                frame.locals[param.arg] = kwargs[param.arg]
            elif param.arg in defaults:
                frame.locals[param.arg] = self.eval(defaults[param.arg], Frame(func.source, func.globals))
            else:
                frame.locals[param.arg] = unk(func.source.loc(param), f"parameter `{param.arg}` of {func.name}()")
        for param in spec.kwonlyargs:
            if param.arg in kwargs:
                frame.locals[param.arg] = kwargs[param.arg]
            elif param.arg in defaults:
                frame.locals[param.arg] = self.eval(defaults[param.arg], Frame(func.source, func.globals))
            else:
                frame.locals[param.arg] = unk(func.source.loc(param), f"parameter `{param.arg}` of {func.name}()")
        if spec.vararg:
            frame.locals[spec.vararg.arg] = kn(SeqObj(args[len(positional):], "tuple"), None)
        if spec.kwarg:
            names = {p.arg for p in [*positional, *spec.kwonlyargs]}
            frame.locals[spec.kwarg.arg] = kn(DictObj({k: v for k, v in kwargs.items() if k not in names}), None)

    # entry points for readers: never raise ----------------------------------------------------
    def value_of(self, node: ast.expr, frame: Frame) -> V:
        """``eval`` for readers: an exception the analysed code would raise becomes unknown."""
        try:
            return self.eval(node, frame)
        except Raised as error:
            return unk(frame.source.loc(node), error.reason)
        except (Unsupported, Returned) as error:
            return unk(frame.source.loc(node), getattr(error, "reason", "not followed"))

    def call_arguments(self, call: ast.Call, frame: Frame) -> tuple[list[V], dict[str, V]]:
        """A call's arguments, each evaluated on its own: one unreadable argument spoils no other."""
        args: list[V] = []
        for arg in call.args:
            if isinstance(arg, ast.Starred):
                inner = self.value_of(arg.value, frame)
                if isinstance(inner.value, SeqObj):
                    args.extend(inner.value.items)
                else:
                    args.append(unk(frame.source.loc(arg), "*args not readable"))
            else:
                args.append(self.value_of(arg, frame))
        kwargs: dict[str, V] = {}
        for kw in call.keywords:
            value = self.value_of(kw.value, frame)
            if kw.arg is not None:
                kwargs[kw.arg] = value
            elif isinstance(value.value, DictObj) and not value.value.partial:
                kwargs.update({str(k): v for k, v in value.value.items.items()})
            else:
                kwargs["**"] = value if value.state.value == "unknown" else unk(value.loc, "**kwargs not fully known")
        return args, kwargs

    # locating a node's frame -------------------------------------------------------------------
    def frame_at(self, source: Source, chain: list[ast.AST], node: ast.AST) -> Frame:
        """A frame in which an expression at ``node`` can be evaluated.

        ``chain`` is the list of enclosing function and class definitions, outermost first.
        Module names come from the executed module; a function's parameters take their
        defaults (unknown without one) and its simple assignments before ``node`` are run in
        order, whatever branch they sit in: an approximation (see the package docstring)."""
        state = self.load_source(source)
        globals_ = state.ns if state is not None else {}
        frame = Frame(source, globals_)
        for scope in chain:
            if isinstance(scope, ast.ClassDef):
                cls = globals_.get(scope.name)
                classns = self.class_ns(cls.value) if cls is not None and isinstance(cls.value, ClassObj) else {}
                frame = Frame(source, globals_, locals=frame.locals, classns=classns)
            elif isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
                local: dict[str, V] = dict(frame.locals or {})
                frame = Frame(source, globals_, locals=local)
                self._bind(FuncObj(scope, source, globals_), [], {}, frame)
                for stmt in self._prior_assignments(scope, node):
                    try:
                        self.exec_stmt(stmt, frame)
                    except (Raised, Unsupported, Returned, RecursionError):
                        self._poison(stmt, frame, f"line {stmt.lineno} cannot be followed")
        return frame

    @staticmethod
    def _prior_assignments(scope: ast.AST, node: ast.AST) -> list[ast.stmt]:
        line = getattr(node, "lineno", 0)
        found = [s for s in ast.walk(scope) if isinstance(s, (ast.Assign, ast.AnnAssign, ast.Global))
                 and s is not scope and getattr(s, "lineno", 0) < line]
        inner = {id(s) for d in ast.walk(scope) if d is not scope and isinstance(d, (ast.FunctionDef,
                 ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)) for s in ast.walk(d)}
        return sorted((s for s in found if id(s) not in inner), key=lambda s: (s.lineno, s.col_offset))


