"""The Python files of one build context: which exist, what they are called, and their syntax trees.

Reading application source is the slow part of following a launch chain, and hostile trees
are common (vendored virtualenvs, generated 50 MB modules, symlink loops), so this module:

- walks the tree once without following directory symlinks (no loop can hang the walk) and
  leaves out what a serving process never imports (tests, migrations, virtualenvs, hidden
  and ``node_modules`` directories);
- names every file as the module Python would import it as, so ``from app.core import db``
  finds ``app/core/db.py`` whatever directory the context is;
- reads and parses each file at most once per :class:`SourceTree` and only on demand: the
  readers grep the raw bytes for the names they care about before asking for a tree;
- turns every file it cannot use (too large, unreadable, not Python) into a :class:`Notice`
  with a position, never an exception.
"""
from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from scalelint.findings import Loc, Notice

__all__ = ["MAX_SOURCE_BYTES", "SKIP_DIRS", "Source", "SourceTree"]

#: Larger ``.py`` files are generated data, not settings; they are skipped with a notice.
MAX_SOURCE_BYTES = 2_000_000
#: Directory names whose content a serving process does not import.
SKIP_DIRS = frozenset({
    "tests", "test", "testing", "migrations", "alembic", "venv", ".venv", "env", "site-packages",
    "node_modules", "__pycache__", "dist", "build",
})
_IMPORT = re.compile(rb"^[ \t]*(?:from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+(\(?[\w, \t*]+)|import[ \t]+([\w., \t]+))",
                     re.MULTILINE)


def _skipped_file(name: str) -> bool:
    """Test modules by pytest's and unittest's naming conventions."""
    return name.startswith("test_") or name.endswith("_test.py") or name in ("conftest.py", "tests.py")


@dataclass
class Source:
    """One parsed file: its tree, where it lives, and what module it is."""

    rel: str
    path: str  # as reported: os.path.join(root, rel)
    module: str
    tree: ast.Module
    lines: list[bytes] = field(repr=False, default_factory=list)
    #: derived data readers compute once per file (the node walk)
    cache: dict[str, object] = field(repr=False, default_factory=dict)

    @property
    def package(self) -> str:
        """The package relative imports start from (a package's ``__init__`` is its own)."""
        if self.rel.endswith("__init__.py"):
            return self.module
        return self.module.rpartition(".")[0]

    def loc(self, node: ast.AST | None) -> Loc:
        """A 1-based position; columns count characters, not the UTF-8 bytes ``ast`` counts."""
        line = getattr(node, "lineno", 0) or 0
        col = getattr(node, "col_offset", 0) or 0
        if line and 0 < line <= len(self.lines):
            raw = self.lines[line - 1]
            if not raw.isascii():
                col = len(raw[:col].decode("utf-8", "replace"))
        return Loc(self.path, line, col + 1 if line else 0)


class SourceTree:
    """The Python files of one root, indexed by module name, parsed lazily and once."""

    def __init__(self, root: str, module_files: Mapping[str, str] | None = None,
                 index: Iterable[bytes] = ()) -> None:
        """``index``: the needles readers will grep for; one pass over the files finds them all and
        keeps the bytes of the files that hold one (the others are never needed again)."""
        self.root = root
        self.abs_root = os.path.abspath(root)
        self.notices: list[Notice] = []
        self.files: list[str] = []  # relative paths, sorted, skip rules applied
        self._by_module: dict[str, str] = {}
        self._module_of: dict[str, str] = {}
        self._raw: dict[str, bytes | None] = {}
        self._index_needles = frozenset(index)
        self._matches: dict[str, frozenset[bytes]] | None = None
        self._noticed: set[str] = set()
        self._parsed: dict[str, Source | None] = {}
        self._walk()
        # Explicit mappings win: an image that copies docker/config.py to settings/config.py.
        for module, rel in (module_files or {}).items():
            rel = os.path.normpath(rel)
            self._by_module[module] = rel
            self._module_of[rel] = module

    # -- discovery -------------------------------------------------------------------------
    def _walk(self) -> None:
        """List ``.py`` files once, pruning skipped directories; directory symlinks are not followed."""
        found: list[str] = []
        packages: set[str] = set()
        for dirpath, dirnames, filenames in os.walk(self.abs_root, onerror=self._walk_error):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in SKIP_DIRS
                                 and not d.endswith(".egg-info"))
            rel_dir = os.path.relpath(dirpath, self.abs_root)
            rel_dir = "" if rel_dir == "." else rel_dir
            if "__init__.py" in filenames:
                packages.add(rel_dir)
            for name in sorted(filenames):
                if name.endswith(".py") and not _skipped_file(name):
                    found.append(os.path.join(rel_dir, name) if rel_dir else name)
        self.files = sorted(found)
        for rel in self.files:
            for module in self._names(rel, packages):
                self._by_module.setdefault(module, rel)
            self._module_of[rel] = next(iter(self._names(rel, packages)))

    def _walk_error(self, error: OSError) -> None:
        self.notices.append(Notice(f"cannot read directory: {error.strerror or error}", str(error.filename or "")))

    @staticmethod
    def _names(rel: str, packages: set[str]) -> list[str]:
        """Module names ``rel`` may be imported as: from its top package's parent, then from the root."""
        parts = rel[:-3].split(os.sep)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        directory = os.path.dirname(rel)
        start = len(directory.split(os.sep)) if directory else 0
        # climb while the directory is a package: its parent is what sys.path holds
        while start > 0 and os.sep.join(rel.split(os.sep)[:start]) in packages:
            start -= 1
        names = [".".join(parts[start:])] if parts[start:] else []
        full = ".".join(parts)
        if full and full not in names:
            names.append(full)
        return names or [full]

    # -- access ----------------------------------------------------------------------------
    def module_file(self, module: str) -> str | None:
        return self._by_module.get(module)

    def module_name(self, rel: str) -> str:
        return self._module_of.get(rel, rel[:-3].replace(os.sep, "."))

    def is_package(self, module: str) -> bool:
        rel = self._by_module.get(module)
        return bool(rel and rel.endswith("__init__.py"))

    def has_module_prefix(self, module: str) -> bool:
        """True when some indexed module lives under ``module`` (a namespace package)."""
        prefix = module + "."
        return any(name.startswith(prefix) for name in self._by_module)

    def display(self, rel: str) -> str:
        """The path as messages show it: ``hc/settings.py``, not ``./hc/settings.py``."""
        return os.path.normpath(os.path.join(self.root, rel))

    def _read(self, rel: str) -> bytes | None:
        """The file's bytes from disk; None (with one notice per file) when too large or unreadable."""
        data: bytes | None = None
        full = os.path.join(self.abs_root, rel)
        problem = ""
        try:
            size = os.stat(full).st_size
            if size > MAX_SOURCE_BYTES:
                problem = (f"skipped: {size // 1_000_000} MB is above the {MAX_SOURCE_BYTES // 1_000_000} MB "
                           "limit for a Python source")
            else:
                with open(full, "rb") as handle:
                    data = handle.read(MAX_SOURCE_BYTES + 1)
        except OSError as error:
            problem = f"cannot read: {error.strerror or error}"
        if problem and rel not in self._noticed:
            self._noticed.add(rel)
            self.notices.append(Notice(problem, self.display(rel)))
        return data

    def raw(self, rel: str) -> bytes | None:
        """The file's bytes, read once and kept."""
        if rel not in self._raw:
            self._raw[rel] = self._read(rel)
        return self._raw[rel]

    def _index(self) -> dict[str, frozenset[bytes]]:
        """One pass over every file for all readers' needles; bytes kept only for files that hold one."""
        if self._matches is None:
            self._matches = {}
            for rel in self.files:
                data = self._raw[rel] if rel in self._raw else self._read(rel)
                found = frozenset(n for n in self._index_needles if data is not None and n in data)
                if found:
                    self._matches[rel] = found
                    self._raw[rel] = data
        return self._matches

    def contains(self, rel: str, needles: Iterable[bytes]) -> bool:
        wanted = tuple(needles)
        if wanted and self._index_needles.issuperset(wanted):
            return bool(self._index().get(rel, frozenset()).intersection(wanted))
        data = self._raw[rel] if rel in self._raw else self._read(rel)
        return data is not None and any(n in data for n in wanted)

    def grep(self, needles: Iterable[bytes]) -> Iterator[str]:
        """Files whose raw text holds any of ``needles``: the only ones worth parsing."""
        wanted = tuple(needles)
        for rel in self.files:
            if self.contains(rel, wanted):
                yield rel

    def parse(self, rel: str) -> Source | None:
        """The file's syntax tree, parsed once; None (with a notice) when it is not valid Python."""
        if rel in self._parsed:
            return self._parsed[rel]
        self._parsed[rel] = None  # a re-entrant request during parsing sees "unavailable"
        data = self.raw(rel)
        if data is None:
            return None
        try:
            tree = ast.parse(data, filename=rel)
        except SyntaxError as error:
            self.notices.append(Notice(f"not read: {error.msg}", self.display(rel), error.lineno or 0,
                                       error.offset or 0))
            return None
        except (RecursionError, MemoryError):
            self.notices.append(Notice("not read: the file is nested too deeply to parse", self.display(rel)))
            return None
        except ValueError as error:  # null bytes (Python < 3.11.4), undecodable source
            self.notices.append(Notice(f"not read: not Python source ({error})", self.display(rel)))
            return None
        lines = data.splitlines()
        if lines and lines[0].startswith(b"\xef\xbb\xbf"):
            lines[0] = lines[0][3:]  # ast columns start after a byte-order mark
        source = Source(rel, self.display(rel), self.module_name(rel), tree, lines)
        self._parsed[rel] = source
        return source

    def parse_module(self, module: str) -> Source | None:
        rel = self.module_file(module)
        return self.parse(rel) if rel else None

    def rel_of_abs(self, path: str) -> str | None:
        """The relative path of an absolute path inside the root (``__file__`` arithmetic)."""
        path = os.path.normpath(path)
        if path == self.abs_root or not path.startswith(self.abs_root + os.sep):
            return None
        return os.path.relpath(path, self.abs_root)

    def read_text(self, rel: str) -> str | None:
        """A non-Python file of the tree (an ini file a settings module reads), size-limited."""
        full = os.path.join(self.abs_root, rel)
        try:
            if os.stat(full).st_size > MAX_SOURCE_BYTES:
                return None
            with open(full, "rb") as handle:
                return handle.read().decode("utf-8", "replace")
        except OSError:
            return None

    # -- import graph ----------------------------------------------------------------------
    def imports_of(self, rel: str) -> set[str]:
        """In-tree modules ``rel`` imports anywhere (also inside functions), read from raw text.

        A regex over the bytes is enough to bound which modules a serving process can reach
        and avoids parsing every file of a large tree."""
        data = self.raw(rel)
        if not data:
            return set()
        module = self.module_name(rel)
        package = module if rel.endswith("__init__.py") else module.rpartition(".")[0]
        found: set[str] = set()
        for match in _IMPORT.finditer(data):
            if match.group(3):
                for part in match.group(3).decode("ascii", "ignore").split(","):
                    name = part.strip().split(" ")[0]
                    found.update(self._known_prefixes(name))
                continue
            base = match.group(1).decode("ascii", "ignore")
            dots = len(base) - len(base.lstrip("."))
            target = base.lstrip(".")
            if dots:
                anchor = package.split(".") if package else []
                anchor = anchor[: len(anchor) - (dots - 1)] if dots > 1 else anchor
                target = ".".join([*anchor, target] if target else anchor)
            found.update(self._known_prefixes(target))
            for name in match.group(2).decode("ascii", "ignore").strip("( \t").split(","):
                name = name.strip().split(" ")[0]
                if name and name != "*" and f"{target}.{name}" in self._by_module:
                    found.add(f"{target}.{name}")
        return found

    def _known_prefixes(self, dotted: str) -> list[str]:
        parts = dotted.split(".")
        return [m for m in (".".join(parts[:i]) for i in range(1, len(parts) + 1)) if m in self._by_module]

    def closure(self, modules: Iterable[str]) -> set[str]:
        """Every in-tree module reachable by imports from ``modules`` (relative paths)."""
        todo = [rel for m in modules if (rel := self.module_file(m))]
        seen: set[str] = set()
        while todo:
            rel = todo.pop()
            if rel in seen:
                continue
            seen.add(rel)
            todo.extend(r for m in self.imports_of(rel) if (r := self.module_file(m)) and r not in seen)
        return seen
