"""The package's layout is the pipeline: a folder per stage, imports only down the pipeline, no cycles.

Read statically (``ast``), lazy imports inside functions included: an import that only runs on
some paths is still a dependency. The README's "Architecture" section describes the same layers.
"""
from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "scalelint"

#: bottom to top: a module may import from its own layer or a lower one, never a higher one
LAYERS = [
    ("vocabulary", {"scalelint.findings", "scalelint._moved"}),
    ("load", {"scalelint.load"}),
    ("model", {"scalelint.model"}),
    ("config", {"scalelint.config"}),
    ("render, sources", {"scalelint.render", "scalelint.sources"}),
    ("analyze", {"scalelint.analyze"}),
    ("check", {"scalelint.check"}),
    ("output", {"scalelint.output"}),
    ("run", {"scalelint.lifeline", "scalelint.batch", "scalelint.pipeline"}),
    ("cli", {"scalelint.cli_common", "scalelint.cli_plan", "scalelint.cli", "scalelint.console", "scalelint.__main__",
             "scalelint"}),
]
LONG = 400
#: what a module over LONG lines must say at its top, with the reason
LONG_MARK = "Why this module is long:"


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The module an imported dotted name lives in (``scalelint.model.Val`` → ``scalelint.model``)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str) -> Iterator[tuple[str, int]]:
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            if not base.startswith("scalelint"):
                continue
            for alias in node.names:
                target = _resolve(f"{base}.{alias.name}") or _resolve(base)
                if target and target != module:
                    yield target, node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("scalelint"):
                    target = _resolve(alias.name)
                    if target and target != module:
                        yield target, node.lineno


def _layer(module: str) -> int:
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if module == prefix or (prefix != "scalelint" and module.startswith(prefix + ".")):
                return index
    raise AssertionError(f"{module} belongs to no layer: add its folder to LAYERS (and to the README)")


EDGES = {m: sorted(set(_imports(m))) for m in MODULES}


def test_every_module_belongs_to_a_layer() -> None:
    for module in MODULES:
        _layer(module)


def test_imports_point_down_the_pipeline() -> None:
    wrong = []
    for module, targets in EDGES.items():
        for target, line in targets:
            if _layer(target) > _layer(module):
                wrong.append(f"{MODULES[module].relative_to(PACKAGE.parent)}:{line}: {module} ({LAYERS[_layer(module)][0]})"
                             f" imports {target} ({LAYERS[_layer(target)][0]})")
    assert not wrong, "\n".join(wrong)


def test_no_import_cycle() -> None:
    graph = {m: {t for t, _ in targets} for m, targets in EDGES.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    assert not cycles, cycles


@pytest.mark.parametrize("module", sorted(MODULES))
def test_long_modules_say_why(module: str) -> None:
    path = MODULES[module]
    text = path.read_text(encoding="utf-8")
    lines = text.count("\n")
    if lines <= LONG:
        return
    doc = ast.get_docstring(ast.parse(text)) or ""
    assert LONG_MARK in doc, f"{path.relative_to(PACKAGE.parent)} has {lines} lines: split it, or say at its top " \
                             f"'{LONG_MARK} ...'"


def test_the_checker_sees_real_edges() -> None:
    """Guard against a checker that passes because it reads nothing."""
    assert any(t == "scalelint.findings" for t, _ in EDGES["scalelint.model"])
    assert any(t.startswith("scalelint.analyze") for t, _ in EDGES["scalelint.check.engine"])
    assert _layer("scalelint.check.engine") > _layer("scalelint.analyze.facts")


def test_every_package_ships_in_the_wheel() -> None:
    """setuptools is given an explicit package list (``rules/`` is mapped into the package): a new
    folder missing from it would work in a checkout and vanish from an installed wheel."""
    import re

    text = (PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8")
    listed = set(re.findall(r'"(scalelint(?:\.[\w.]+)?)"', text.split("packages = [", 1)[1].split("]", 1)[0]))
    packages = {name for name, path in MODULES.items() if path.name == "__init__.py"}
    assert packages - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"
    assert listed - packages == {"scalelint.builtin_rules"}


def test_precommit_hooks_pin_the_lint_extra() -> None:
    """The project's .pre-commit-config.yaml and pyproject's ``lint`` extra name the same ruff and mypy."""
    import re

    import yaml

    root = PACKAGE.parent
    extra = re.search(r"^lint = \[(.*)\]", (root / "pyproject.toml").read_text(encoding="utf-8"), re.MULTILINE)
    assert extra is not None
    pins = dict(re.findall(r'"([a-z]+)==([\d.]+)"', extra.group(1)))
    hooks = {h["id"]: h for repo in yaml.safe_load((root / ".pre-commit-config.yaml").read_text())["repos"]
             for h in repo["hooks"]}
    for tool in ("ruff", "mypy"):
        assert f"{tool}=={pins[tool]}" in hooks[tool]["additional_dependencies"], tool
    assert hooks["scalelint-examples"]["entry"].endswith("--baseline examples/.scalelint-baseline.json examples/")
