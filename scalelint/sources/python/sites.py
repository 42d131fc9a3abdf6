"""Where engines and pools are built, and which of them the serving process keeps.

A tree holds many ``create_engine`` calls that never serve a request: a ``ping.py`` that waits
for the database, a migration helper with ``NullPool``, a management command, a test fixture.
The rule used here (also in the package docstring, "Which pools count"):

1. Files under ``tests/``, ``migrations/``, ``alembic/``, ``scripts/``, ``bin/``, ``tools/``,
   ``management/commands/`` and ``test_*.py`` files are not the serving process.
2. Code under ``if __name__ == "__main__":`` and modules that behave as one-shot scripts
   (a module-level ``exit()`` / ``sys.exit()`` or ``while`` loop) are not either.
3. When the caller names the application (``app.main:app``), only modules it imports,
   directly or not, count (read from import statements, also inside functions).
4. A call at module or class level counts. A call inside a function counts when what it
   builds outlives the call: it is returned or yielded (a factory, a lifespan), stored on an
   attribute or subscript (``app.state.pool = ...``, ``self.engine = ...``), or assigned to a
   ``global``. An engine kept in a local variable and dropped is a throw-away helper.
"""
from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import cast

from scalelint.findings import Notice
from scalelint.sources.python.interp import Interp
from scalelint.sources.python.tree import Source
from scalelint.sources.python.values import V, unk

__all__ = ["Scan", "Site", "call_sites", "counts", "excluded_path", "script_reason", "walk"]

_NOT_SERVING_DIRS = frozenset({"scripts", "script", "bin", "tools", "examples", "docs", "fixtures", "benchmarks"})


@dataclass
class Site:
    """One call that may build an engine or pool, with what is known about its surroundings."""

    source: Source
    call: ast.Call
    chain: list[ast.AST]  # enclosing function and class definitions, outermost first
    statement: ast.stmt  # the innermost statement holding the call
    main_block: bool


def excluded_path(rel: str) -> str | None:
    """Why a file is not part of the serving process, by its path alone."""
    parts = rel.split(os.sep)
    for i, part in enumerate(parts[:-1]):
        if part in _NOT_SERVING_DIRS:
            return f"under {part}/"
        if part == "management" and i + 1 < len(parts) - 1 and parts[i + 1] == "commands":
            return "a management command"
    if parts[-1] in ("manage.py", "setup.py", "conftest.py", "noxfile.py", "fabfile.py"):
        return "a command-line script"
    return None


def _is_main_test(test: ast.expr) -> bool:
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__"
            and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators))


def script_reason(source: Source) -> str | None:
    """Why a module is a one-shot script: it exits or loops forever when imported."""
    for stmt in source.tree.body:
        for node in ast.walk(stmt):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                break
            if isinstance(stmt, ast.If) and _is_main_test(stmt.test):
                break
            if isinstance(node, ast.While):
                return f"loops at module level (line {node.lineno}), a start-up script"
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name in ("exit", "quit") or (name == "_exit" and isinstance(func, ast.Attribute)):
                    return f"exits at module level (line {node.lineno}), a start-up script"
    return None


Walked = tuple[ast.AST, list[ast.AST], "ast.stmt | None", bool]


def walk(source: Source) -> list[Walked]:
    """Every node with its enclosing definitions, innermost statement and ``__main__``-block flag.

    Iterative (a 10,000-deep expression must not overflow the stack) and computed once per file."""
    cached = source.cache.get("walk")
    if cached is not None:
        return cast("list[Walked]", cached)
    found: list[Walked] = []
    stack: list[tuple[ast.AST, list[ast.AST], ast.stmt | None, bool]] = [(source.tree, [], None, False)]
    while stack:
        node, chain, statement, main = stack.pop()
        child_chain = [*chain, node] if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) \
            else chain
        child_main = main or (isinstance(node, ast.If) and _is_main_test(node.test))
        children = list(ast.iter_child_nodes(node))
        for child in reversed(children):
            child_stmt = child if isinstance(child, ast.stmt) else statement
            stack.append((child, child_chain, child_stmt, child_main))
        if node is not source.tree:
            found.append((node, chain, statement, main))
    source.cache["walk"] = found
    return found


def _lines_naming(source: Source, names: frozenset[str]) -> tuple[set[int], frozenset[str]]:
    """Lines where one of ``names`` (or a name it is imported as) is written, from the raw text."""
    text = b"\n".join(source.lines)
    spelled = b"|".join(re.escape(n.encode()) for n in sorted(names))
    aliases = {m.group(1).decode() for m in re.finditer(rb"\b(?:" + spelled + rb")\s+as\s+(\w+)", text)}
    every = names | aliases
    pattern = re.compile(rb"\b(?:" + b"|".join(re.escape(n.encode()) for n in sorted(every)) + rb")\b")
    lines = {text.count(b"\n", 0, m.start()) + 1 for m in pattern.finditer(text)}
    return lines, frozenset(every)


def call_sites(source: Source, names: frozenset[str]) -> Iterator[Site]:
    """Calls whose callee is spelled as one of ``names`` (``create_engine``, ``sa.create_engine``),
    or as a name the file imports one of them as (``from sqlalchemy import create_engine as ce``).

    Only the nodes that span a line naming one of them are visited: a 20,000-line module that
    mentions ``create_engine`` once costs one descent, not a walk of its whole tree."""
    lines, names = _lines_naming(source, names)
    seen: set[int] = set()
    for line in sorted(lines):
        stack: list[tuple[ast.AST, list[ast.AST], ast.stmt | None, bool]] = [(source.tree, [], None, False)]
        while stack:
            node, chain, statement, main = stack.pop()
            if isinstance(node, ast.Call) and statement is not None and id(node) not in seen:
                func = node.func
                spelled = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
                if spelled in names and getattr(func, "end_lineno", 0) == line:
                    seen.add(id(node))
                    yield Site(source, node, chain, statement, main)
            child_chain = [*chain, node] if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                              ast.ClassDef)) else chain
            child_main = main or (isinstance(node, ast.If) and _is_main_test(node.test))
            for child in reversed(list(ast.iter_child_nodes(node))):
                start, end = getattr(child, "lineno", None), getattr(child, "end_lineno", None)
                if start is not None and end is not None and not start <= line <= end:
                    continue
                stack.append((child, child_chain, child if isinstance(child, ast.stmt) else statement, child_main))


class Scan:
    """The counting rule applied to one tree, with a notice for every pool it leaves out."""

    def __init__(self, interp: Interp, app_module: str | None) -> None:
        self.interp = interp
        self.notices: list[Notice] = []
        tree = interp.tree
        self.closure = tree.closure([app_module]) if app_module and tree.module_file(app_module) else None

    def sites(self, needles: tuple[bytes, ...], names: frozenset[str]) -> Iterator[tuple[Site, V]]:
        """Candidate calls in serving files, with their resolved callee (``Ref("sqlalchemy.create_engine")``)."""
        tree = self.interp.tree
        for rel in tree.grep(needles):
            if excluded_path(rel):
                continue
            source = tree.parse(rel)
            if source is None:
                continue
            for site in call_sites(source, names):
                try:
                    yield site, callee(self.interp, site)
                except Exception as error:  # noqa: BLE001 - hostile code must not stop the scan
                    yield site, unk(source.loc(site.call), f"callee not followed ({type(error).__name__})")

    def skip_reason(self, site: Site, always: bool = False) -> str | None:
        """Why ``site`` does not count (rules 2-4), None when it does; ``always``: it configures a global."""
        if site.main_block:
            return "under if __name__ == '__main__'"
        script = script_reason(site.source)
        if script:
            return f"{site.source.rel} {script}"
        if not always:
            keep, why = counts(site)
            if not keep:
                return why
        return None

    def reachable(self, site: Site) -> bool | None:
        """Whether the application module imports ``site``'s module (None: no application given)."""
        if self.closure is None:
            return None
        return site.source.rel in self.closure

    def skipped(self, site: Site, what: str, reason: str) -> None:
        loc = site.source.loc(site.call)
        self.notices.append(Notice(f"not counted: {what} ({reason})", loc.path, loc.line, loc.column))


def callee(interp: Interp, site: Site) -> V:
    frame = interp.frame_at(site.source, site.chain, site.call)
    return interp.value_of(site.call.func, frame)


def _names_in(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _unwrap(node: ast.AST | None) -> ast.AST | None:
    while isinstance(node, ast.Await):
        node = node.value
    return node


def counts(site: Site) -> tuple[bool, str]:
    """Whether the pool built at ``site`` outlives its function (rule 4), and why."""
    func = next((s for s in reversed(site.chain) if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))), None)
    if func is None:
        return True, "built at import"
    stmt = site.statement
    name = func.name
    if isinstance(stmt, (ast.Return,)) or any(isinstance(n, (ast.Yield, ast.YieldFrom)) and site.call in
                                             list(ast.walk(n)) for n in ast.walk(stmt)):
        return True, f"returned by {name}()"
    globals_ = {n for s in ast.walk(func) if isinstance(s, ast.Global) for n in s.names}
    targets: list[ast.expr] = []
    if isinstance(stmt, ast.Assign):
        targets = stmt.targets
    elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign)):
        targets = [stmt.target]
    elif isinstance(stmt, (ast.With, ast.AsyncWith)):
        targets = [i.optional_vars for i in stmt.items if i.optional_vars is not None
                   and _unwrap(i.context_expr) is site.call]
    for target in targets:
        if isinstance(target, (ast.Attribute, ast.Subscript)):
            return True, f"stored on {ast.unparse(target)} in {name}()"
        if isinstance(target, ast.Name) and target.id in globals_:
            return True, f"assigned to the global {target.id} in {name}()"
    local = {t.id for target in targets for t in ast.walk(target) if isinstance(t, ast.Name)}
    if local and _flows_out(func, local, globals_):
        return True, f"kept beyond {name}()"
    return False, f"a throw-away pool in {name}() (not returned, stored or global)"


def _flows_out(func: ast.AST, local: set[str], globals_: set[str]) -> bool:
    """Whether a local name holding the pool is returned, yielded or stored somewhere that outlives the call."""
    names = set(local)
    for node in ast.walk(func):
        if isinstance(node, ast.Assign) and _names_in(node.value) & names:
            for target in node.targets:
                if isinstance(target, (ast.Attribute, ast.Subscript)):
                    return True
                if isinstance(target, ast.Name):
                    if target.id in globals_:
                        return True
                    names.add(target.id)
    for node in ast.walk(func):
        if isinstance(node, (ast.Return, ast.Yield, ast.YieldFrom)) and node.value is not None \
                and _names_in(node.value) & names:
            return True
    return False
