"""Answers to references between objects (SPEC §11): by name, by label selector, by namespace.

:class:`ScopedReferences` looks scope by scope as :class:`~scalelint.model.scope.Layout` orders
them, from the referencing file outward; :class:`FlatReferences` answers from one graph where
everything sees everything (rendered kustomizations and charts, declared units, ``group-by: all``).
:func:`referenced_names` says which names a set of objects may be referred to by, so that a
named file's context is read only where it mentions one.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from scalelint.load.tree import get_seq, get_str
from scalelint.model import References, Workload
from scalelint.model.scope import Layout


def selects(selector: dict[str, str] | None, expressions: list[Any], labels: dict[str, str]) -> bool:
    """Label-selector semantics (matchLabels and matchExpressions); an empty selector selects nothing here."""
    if not selector and not expressions:
        return False
    for k, v in (selector or {}).items():
        if labels.get(k) != v:
            return False
    for expr in expressions:
        key, op = get_str(expr, "key"), get_str(expr, "operator")
        values = [str(v) for v in get_seq(expr, "values") or ()]
        if key is None or op is None:
            return False
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True



# --------------------------------------------------------------------------------- what to read

_HOST_IN_URL = re.compile(r"(?://|@)([A-Za-z0-9][A-Za-z0-9.-]*)")
_BARE_HOST = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]*(?::\d+)?$")


def referenced_names(parts: Iterable[Any]) -> set[str]:
    """Names by which other files may refer to these objects, or these objects to others: object names,
    pod labels, selectors, HPA targets, ConfigMap references, hosts in env values (SPEC §11: context
    files are read only when they mention one)."""
    out: set[str] = {"LimitRange"}
    for part in parts:
        name = getattr(part, "name", None)
        if isinstance(name, str):
            out.add(name)
        if isinstance(part, Workload):
            out.update(part.pod_labels.values())
            out.update(part.configmap_volumes.values())
            for c in part.containers:
                out.update(ref.name for ref, _ in c.env_from if ref.source != "env_file")
                for var in c.env:
                    if var.ref is not None:
                        if var.ref.source in ("configmap", "secret"):  # not a field path (metadata.name)
                            out.add(var.ref.name)
                    elif var.value:
                        out.update(_hosts(var.name, var.value))
        else:
            for attr in ("selector", "target_name"):
                value = getattr(part, attr, None)
                if isinstance(value, dict):
                    out.update(str(v) for v in value.values())
                elif isinstance(value, str):
                    out.add(value)
    return out


#: a variable whose plain value (``db``, ``db:5432``) names a host: DB_HOST, POSTGRES_SERVER, REDIS_ADDR,
#: PGPOOL_BACKEND_NODES... Other plain values (LOG_LEVEL=info, WORKER_CLASS=sync) are not names of objects,
#: and a word that common would make every large sibling file context.
_HOST_VAR = re.compile(r"HOST|SERVER|ADDR|ENDPOINT|NODES|BACKEND|SERVICE", re.IGNORECASE)


def _hosts(var: str, value: str) -> set[str]:
    hosts = set(_HOST_IN_URL.findall(value))
    if _HOST_VAR.search(var) and _BARE_HOST.match(value.strip()):
        hosts.add(value.strip().split(":", 1)[0])
    return hosts | {h.split(".", 1)[0] for h in hosts}


# --------------------------------------------------------------------------------- references


class _Index:
    """Parts of a set of files, by what references ask: name, labels, namespace."""

    __slots__ = ("by_label", "by_name", "by_namespace")

    def __init__(self) -> None:
        self.by_name: dict[tuple[str, str, str], list[tuple[str, Any]]] = {}
        self.by_label: dict[tuple[str, str, str], list[tuple[str, Workload]]] = {}
        self.by_namespace: dict[tuple[str, str], list[tuple[str, Any]]] = {}

    def add(self, path: str, kind: str, namespace: str, name: str, part: Any) -> None:
        self.by_name.setdefault((kind, namespace, name), []).append((path, part))
        self.by_namespace.setdefault((kind, namespace), []).append((path, part))
        if isinstance(part, Workload):
            for k, v in part.pod_labels.items():
                self.by_label.setdefault((namespace, k, v), []).append((path, part))

    def named(self, kind: str, namespace: str, name: str) -> list[tuple[str, Any]]:
        return self.by_name.get((kind, namespace, name), [])

    def selected(self, namespace: str, selector: dict[str, str] | None,
                 expressions: list[Any]) -> list[tuple[str, Workload]]:
        if selector:
            pools = [self.by_label.get((namespace, k, v), []) for k, v in selector.items()]
            candidates = min(pools, key=len)
        elif expressions:
            candidates = [(p, w) for p, w in self.by_namespace.get(("workload", namespace), [])]
        else:
            return []
        return [(p, w) for p, w in candidates if selects(selector, expressions, w.pod_labels)]

    def in_namespace(self, kind: str, namespace: str) -> list[tuple[str, Any]]:
        return self.by_namespace.get((kind, namespace), [])


Entry = tuple[str, str, str, str, Any]  # (path, kind, namespace, name, part)


def _fill(index: _Index, entries: Iterable[Entry]) -> None:
    for path, kind, namespace, name, part in entries:
        index.add(path, kind, namespace, name, part)
        if isinstance(part, Workload):
            index.by_namespace.setdefault(("workload", namespace), []).append((path, part))


class FlatReferences(References):
    """One graph: every reference sees every object (rendered groups, declared units, ``group-by: all``)."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self._index = _Index()
        _fill(self._index, entries)

    def named(self, origin: str, kind: str, namespace: str, name: str) -> list[Any]:
        return [part for _, part in self._index.named(kind, namespace, name)]

    def selected(self, origin: str, namespace: str, selector: dict[str, str] | None,
                 expressions: list[Any]) -> list[Workload]:
        return [w for _, w in self._index.selected(namespace, selector, expressions)]

    def in_namespace(self, origin: str, kind: str, namespace: str) -> list[Any]:
        return [part for _, part in self._index.in_namespace(kind, namespace)]


class ScopedReferences(References):
    """References resolved from the referencing file outward, skipping its alternatives (module docstring)."""

    def __init__(self, layout: Layout, entries: Iterable[Entry]) -> None:
        self.layout = layout
        self._by_dir: dict[tuple[str, ...], _Index] = {}
        for entry in entries:
            index = self._by_dir.get(layout.dir_of(entry[0]))
            if index is None:
                index = self._by_dir[layout.dir_of(entry[0])] = _Index()
            _fill(index, [entry])

    def _search(self, origin: str, ask: Any) -> list[Any]:
        """The parts ``ask(index)`` finds in the first scope that has any, as seen from ``origin``."""
        layout = self.layout
        home = layout.dir_of(origin)
        index = self._by_dir.get(home)
        if index is not None:
            found = ask(index)
            if found:
                same_file = [part for path, part in found if path == origin]
                if same_file:
                    return same_file
                rivals = layout.file_alt.get(origin, set())
                nearby = [part for path, part in found if path not in rivals]
                if nearby:
                    return nearby
        for scope in layout.scopes(home):
            hits = []
            for d in scope:
                index = self._by_dir.get(d)
                if index is not None:
                    hits += [part for _, part in ask(index)]
            if hits:
                return hits
        return []

    def named(self, origin: str, kind: str, namespace: str, name: str) -> list[Any]:
        return self._search(origin, lambda index: index.named(kind, namespace, name))

    def selected(self, origin: str, namespace: str, selector: dict[str, str] | None,
                 expressions: list[Any]) -> list[Workload]:
        return self._search(origin, lambda index: index.selected(namespace, selector, expressions))

    def in_namespace(self, origin: str, kind: str, namespace: str) -> list[Any]:
        return self._search(origin, lambda index: index.in_namespace(kind, namespace))


__all__ = ["FlatReferences", "ScopedReferences", "referenced_names", "selects"]
