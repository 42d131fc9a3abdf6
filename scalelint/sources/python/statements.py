"""Statements of a module, a class body or a helper, executed symbolically (see :mod:`.interp`).

Assignments, branches decided against the container env, ``try``/``except`` around imports,
imports (lazily bound, star imports executed), definitions. Loops are never run: what a loop
assigns becomes unknown. At module level a statement that would fail makes what it assigns
unknown and execution goes on; inside a helper the failure propagates to the call, which
becomes unknown.
"""
from __future__ import annotations

import ast

from scalelint.sources.python.evaluator import Evaluator, Frame
from scalelint.sources.python.tree import Source, SourceTree
from scalelint.sources.python.values import (
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
    plain,
    truth,
    unk,
)

__all__ = ["Statements", "assigned_names"]

_MUTATORS = frozenset({"update", "setdefault", "read", "read_file", "read_string", "append", "extend", "insert",
                       "pop", "read_env", "from_mapping"})


def assigned_names(stmts: list[ast.stmt]) -> set[str]:
    names: set[str] = set()
    for stmt in stmts:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
    return names


class Statements(Evaluator):
    """Statement execution; module loading and calls come from :class:`~.interp.Interp`."""

    tree: SourceTree

    def load_star(self, module: str) -> dict[str, V] | None:
        raise NotImplementedError

    def resolve_module(self, name: str, level: int, source: Source) -> str:
        raise NotImplementedError

    def in_tree(self, name: str) -> bool:
        raise NotImplementedError

    def class_ns(self, cls: ClassObj) -> dict[str, V]:
        raise NotImplementedError

    def exec_block(self, stmts: list[ast.stmt], frame: Frame) -> None:
        """Run statements; at module level a failing one makes its targets unknown and the rest still runs."""
        for stmt in stmts:
            try:
                self.exec_stmt(stmt, frame)
            except Raised as error:
                if frame.locals is not None:
                    raise
                self._poison(stmt, frame, f"line {stmt.lineno} {error.reason}")
            except Unsupported as error:
                if frame.locals is not None:
                    raise
                self._poison(stmt, frame, error.reason)
            except RecursionError:
                if frame.locals is not None:
                    raise Unsupported("nested too deeply") from None
                self._poison(stmt, frame, "nested too deeply to follow")

    def _poison(self, stmt: ast.stmt, frame: Frame, reason: str) -> None:
        """A module-level statement that would fail: what it assigns becomes unknown, the rest goes on."""
        scope = frame.scope()
        for name in assigned_names([stmt]):
            scope[name] = unk(frame.source.loc(stmt), reason)

    def exec_stmt(self, stmt: ast.stmt, frame: Frame) -> None:
        method = getattr(self, "_s_" + type(stmt).__name__, None)
        if method is not None:
            method(stmt, frame)
        elif frame.locals is not None and not isinstance(stmt, (ast.Pass, ast.Assert, ast.Expr)):
            raise Unsupported(f"{type(stmt).__name__} statements in helpers are not followed")

    def _s_Expr(self, stmt: ast.Expr, frame: Frame) -> None:
        call = stmt.value
        if isinstance(call, ast.Await):
            call = call.value
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr in _MUTATORS:
            self.eval(call, frame)

    def _s_Assign(self, stmt: ast.Assign, frame: Frame) -> None:
        value = self.eval(stmt.value, frame)
        for target in stmt.targets:
            self.assign(target, value, frame)

    def _s_AnnAssign(self, stmt: ast.AnnAssign, frame: Frame) -> None:
        if stmt.value is not None:
            self.assign(stmt.target, self.eval(stmt.value, frame), frame)

    def _s_AugAssign(self, stmt: ast.AugAssign, frame: Frame) -> None:
        if isinstance(stmt.target, ast.Name):
            expr = ast.BinOp(left=ast.Name(stmt.target.id, ast.Load()), op=stmt.op, right=stmt.value)
            ast.copy_location(expr, stmt)
            self.assign(stmt.target, self.eval(expr, frame), frame)

    def assign(self, target: ast.expr, value: V, frame: Frame) -> None:
        """Bind a value: names, unpacking, ``d[key] = v`` on known dicts, ``Class.attr = v``."""
        if isinstance(target, ast.Name):
            scope = frame.globals if target.id in frame.global_names else frame.scope()
            scope[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            items = value.value.items if isinstance(value.value, SeqObj) else None
            plain_targets = all(not isinstance(t, ast.Starred) for t in target.elts)
            for i, elt in enumerate(target.elts):
                if items is not None and plain_targets and len(items) == len(target.elts):
                    self.assign(elt, items[i], frame)
                else:
                    inner = elt.value if isinstance(elt, ast.Starred) else elt
                    self.assign(inner, unk(frame.source.loc(elt), "unpacking not followed"), frame)
        elif isinstance(target, ast.Subscript):
            container = self.eval(target.value, frame)
            if isinstance(container.value, DictObj):
                key = self.eval(target.slice, frame) if not isinstance(target.slice, ast.Slice) else None
                try:
                    container.value.items[plain(key) if key else None] = value
                except (Unsupported, TypeError):
                    container.value.partial = True
        elif isinstance(target, ast.Attribute):
            owner = self.eval(target.value, frame)
            if isinstance(owner.value, ClassObj):
                self.class_ns(owner.value)[target.attr] = value
            elif isinstance(owner.value, Instance):
                owner.value.data.setdefault("attrs", {})[target.attr] = value

    def _s_If(self, stmt: ast.If, frame: Frame) -> None:
        test = self.eval(stmt.test, frame)
        decided = truth(test)
        if decided is not None:
            self.exec_block(stmt.body if decided else stmt.orelse, frame)
            return
        if frame.locals is not None:
            raise Unsupported(f"depends on a condition at line {stmt.lineno} that cannot be decided"
                              + (f" ({test.reason})" if test.reason else ""))
        scope = frame.scope()
        before = dict(scope)
        self.exec_block(stmt.body, frame)
        taken = dict(scope)
        scope.clear()
        scope.update(before)
        self.exec_block(stmt.orelse, frame)
        skipped = dict(scope)
        reason = f"depends on the condition at {frame.source.path}:{stmt.lineno}, which cannot be decided statically"
        if test.reason:
            reason += f" ({test.reason})"
        for name in set(taken) | set(skipped):
            a, b = taken.get(name), skipped.get(name)
            if a is b or (a is not None and b is not None and self._same(a, b)):
                continue
            if name not in before and (a is None or b is None):
                # assigned on one side only: the name exists only if that side runs, so take it
                scope[name] = a if a is not None else b  # type: ignore[assignment]
            else:
                scope[name] = unk(frame.source.loc(stmt), reason)

    @staticmethod
    def _same(a: V, b: V) -> bool:
        try:
            return bool(plain(a) == plain(b))
        except Unsupported:
            return False

    def _s_Try(self, stmt: ast.Try, frame: Frame) -> None:
        try:
            self._run_raising(stmt.body, frame)
        except Raised as error:
            handler = next((h for h in stmt.handlers if self._catches(h, error.kind)), None)
            if handler is None:
                raise
            if handler.name:
                frame.scope()[handler.name] = unk(frame.source.loc(handler), "an exception object")
            self.exec_block(handler.body, frame)
        else:
            self.exec_block(stmt.orelse, frame)
        finally:
            self.exec_block(stmt.finalbody, frame)

    _s_TryStar = _s_Try

    def _run_raising(self, stmts: list[ast.stmt], frame: Frame) -> None:
        """Run ``stmts`` letting Raised out, so that the enclosing ``try`` sees it."""
        for stmt in stmts:
            try:
                self.exec_stmt(stmt, frame)
            except Unsupported as error:
                if frame.locals is not None:
                    raise
                self._poison(stmt, frame, error.reason)

    @staticmethod
    def _catches(handler: ast.ExceptHandler, kind: str) -> bool:
        """Whether an ``except`` clause catches an exception of ``kind`` (by name and the usual bases)."""
        if handler.type is None:
            return True
        names = {n.attr if isinstance(n, ast.Attribute) else getattr(n, "id", "")
                 for n in (handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type])}
        broad = {"Exception", "BaseException"}
        if kind in ("ModuleNotFoundError", "ImportError"):
            broad |= {"ImportError", "ModuleNotFoundError"}
        if kind in ("KeyError", "IndexError"):
            broad.add("LookupError")
        return kind in names or bool(names & broad)

    def _s_With(self, stmt: ast.With, frame: Frame) -> None:
        for item in stmt.items:
            if item.optional_vars is not None:
                self.assign(item.optional_vars, unk(frame.source.loc(item.context_expr), "a context manager"), frame)
        self.exec_block(stmt.body, frame)

    def _s_For(self, stmt: ast.For | ast.While, frame: Frame) -> None:
        if frame.locals is not None:
            raise Unsupported("loops in helpers are not followed")
        reason = f"assigned in a loop at line {stmt.lineno}, which is not run"
        for name in assigned_names(stmt.body + stmt.orelse):
            frame.scope()[name] = unk(frame.source.loc(stmt), reason)

    _s_While = _s_For
    _s_AsyncFor = _s_For

    def _s_Match(self, stmt: ast.stmt, frame: Frame) -> None:
        for name in assigned_names([stmt]):
            frame.scope()[name] = unk(frame.source.loc(stmt), "assigned in a match statement")

    def _s_Delete(self, stmt: ast.Delete, frame: Frame) -> None:
        for target in stmt.targets:
            if isinstance(target, ast.Name):
                frame.scope().pop(target.id, None)

    def _s_Return(self, stmt: ast.Return, frame: Frame) -> None:
        raise Returned(self.eval(stmt.value, frame) if stmt.value else kn(None, frame.source.loc(stmt)))

    def _s_Raise(self, stmt: ast.Raise, frame: Frame) -> None:
        exc = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
        kind = exc.attr if isinstance(exc, ast.Attribute) else getattr(exc, "id", "Exception")
        raise Raised(kind, f"raises {kind} (line {stmt.lineno})")

    def _s_Global(self, stmt: ast.Global, frame: Frame) -> None:
        frame.global_names = frame.global_names | set(stmt.names)

    def _s_Import(self, stmt: ast.Import, frame: Frame) -> None:
        loc = frame.source.loc(stmt)
        for alias in stmt.names:
            if alias.asname:
                value = kn(Lazy(alias.name, None), loc) if self.in_tree(alias.name) else kn(Ref(alias.name), loc)
                frame.scope()[alias.asname] = value
            else:
                top = alias.name.split(".")[0]
                frame.scope()[top] = kn(ModuleObj(top), loc) if self.in_tree(top) else kn(Ref(top), loc)

    def _s_ImportFrom(self, stmt: ast.ImportFrom, frame: Frame) -> None:
        module = self.resolve_module(stmt.module or "", stmt.level, frame.source)
        loc = frame.source.loc(stmt)
        local = self.in_tree(module)
        if stmt.level and not local:
            raise Raised("ImportError", f"imports {'.' * stmt.level}{stmt.module or ''}, which is not in the tree")
        for alias in stmt.names:
            if alias.name == "*":
                if local:
                    self._star(module, frame)
                continue
            name = alias.asname or alias.name
            if self.tree.module_file(f"{module}.{alias.name}") is not None:
                frame.scope()[name] = kn(Lazy(f"{module}.{alias.name}", None), loc)  # a submodule
            elif local:
                frame.scope()[name] = kn(Lazy(module, alias.name), loc)
            else:
                frame.scope()[name] = kn(Ref(f"{module}.{alias.name}"), loc)

    def _star(self, module: str, frame: Frame) -> None:
        """``from module import *``: ``__all__`` when it is a literal, else every public name."""
        ns = self.load_star(module)
        if ns is None:
            if self.tree.module_file(module) is None:
                raise Raised("ImportError", f"module {module} is not in the tree")
            return
        exported = ns.get("__all__")
        names: list[str] | None = None
        if exported is not None and isinstance(exported.value, SeqObj):
            try:
                names = [str(n) for n in plain(exported)]
            except Unsupported:
                names = None
        scope = frame.scope()
        for name, value in list(ns.items()):
            if (names is None and not name.startswith("_")) or (names is not None and name in names):
                scope[name] = value

    def _s_FunctionDef(self, stmt: ast.FunctionDef | ast.AsyncFunctionDef, frame: Frame) -> None:
        frame.scope()[stmt.name] = kn(FuncObj(stmt, frame.source, frame.globals, frame.locals), frame.source.loc(stmt))

    _s_AsyncFunctionDef = _s_FunctionDef

    def _s_ClassDef(self, stmt: ast.ClassDef, frame: Frame) -> None:
        bases = [self.eval(b, frame) for b in stmt.bases]
        cls = ClassObj(stmt, frame.source, frame.globals, bases)
        frame.scope()[stmt.name] = kn(cls, frame.source.loc(stmt))
