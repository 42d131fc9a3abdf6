"""What is applied together (SPEC §11): references between plain manifests, resolved from the referencing file outward.

Repositories keep alternative sets of manifests — environments (``deploy/dev``, ``deploy/prod``),
providers, all-in-one bundles beside quickstarts, release copies — that are applied *instead of*
each other and redefine the same objects. One global graph would link prod's HPA to dev's
Deployment. So a reference (an HPA's target, a PDB's or Service's selector, a ConfigMap, a
database host) is looked up scope by scope, nearest first, skipping the alternatives of the
referencing file:

1. the same file;
2. the same directory, minus the files that share an object with this one (its alternatives);
3. the ancestor directories, nearest first;
4. every other directory, by tree distance.

The first scope with a match wins; several matches in one scope are all returned (the caller
treats them as alternatives of each other). :class:`Layout` finds the alternatives from the
objects' collision keys and orders the scopes; :mod:`.refs` answers lookups with it.
"""
from __future__ import annotations

import os
from typing import Any

#: kinds that are one object for Kubernetes' purposes when their names collide
WORKLOAD_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController"})
#: a sibling subtree is a parallel layout when at least this share of its relative paths exist in the other
PARALLEL_SHARE = 0.5

Key = tuple[str, str, str]


def collision_key(identity: Key) -> Key | None:
    """(namespace, kind, name) as alternatives collide on it; None for objects every variant re-declares."""
    namespace, kind, name = identity
    if kind == "Namespace":
        return None
    return namespace, "workload" if kind in WORKLOAD_KINDS else kind, name


def _split(directory: str) -> tuple[str, ...]:
    return tuple(p for p in directory.split(os.sep) if p)


def _distance(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    common = 0
    for x, y in zip(a, b):
        if x != y:
            break
        common += 1
    return len(a) + len(b) - 2 * common


class Layout:
    """Which files and directories of a run are alternatives of each other.

    - two files of one directory that share a collision key;
    - two directories whose own files share one, neither key set containing the other (a
      directory whose keys are a subset of another's is a copy or component, not a rival),
      and every directory chained to them by such overlaps;
    - two sibling subtrees with a parallel layout (at least half of the relative paths of the
      smaller one also in the other) that share a collision key.
    """

    def __init__(self, file_keys: dict[str, set[Key]]) -> None:
        self.file_keys = file_keys
        self._dir: dict[str, tuple[str, ...]] = {}
        self.files_in: dict[tuple[str, ...], list[str]] = {}
        for path in sorted(file_keys):
            self.files_in.setdefault(self.dir_of(path), []).append(path)
        self.file_alt: dict[str, set[str]] = {}
        self._file_sets = self._same_directory()
        self.dir_keys = {d: set().union(*(file_keys[f] for f in files)) for d, files in self.files_in.items()}
        self._dir_sets = self._directories()
        self._parallel_sets = self._parallel()
        #: directory → the directories (and subtrees) that are its alternatives
        self.dir_alt: dict[tuple[str, ...], set[tuple[str, ...]]] = {}
        for sets in (self._dir_sets, self._parallel_sets):
            for members in sets:
                for d in members:
                    self.dir_alt.setdefault(d, set()).update(m for m in members if m != d)
        self._scopes: dict[tuple[str, ...], list[list[tuple[str, ...]]]] = {}

    def dir_of(self, path: str) -> tuple[str, ...]:
        d = self._dir.get(path)
        if d is None:
            d = self._dir[path] = _split(os.path.dirname(os.path.abspath(path)))
        return d

    # ----------------------------------------------------------------------------- alternatives

    def _same_directory(self) -> list[list[str]]:
        sets = []
        for files in self.files_in.values():
            if len(files) < 2:
                continue
            owners: dict[Key, list[str]] = {}
            for f in files:
                for key in self.file_keys[f]:
                    owners.setdefault(key, []).append(f)
            for group in owners.values():
                if len(group) > 1:
                    for f in group:
                        self.file_alt.setdefault(f, set()).update(g for g in group if g != f)
            sets += _components({f: self.file_alt.get(f, set()) for f in files})
        return sets

    def _directories(self) -> list[list[tuple[str, ...]]]:
        owners: dict[Key, list[tuple[str, ...]]] = {}
        for d, keys in self.dir_keys.items():
            for key in keys:
                owners.setdefault(key, []).append(d)
        edges: dict[tuple[str, ...], set[tuple[str, ...]]] = {}
        seen: set[tuple[tuple[str, ...], tuple[str, ...]]] = set()
        for dirs in owners.values():
            for i, a in enumerate(dirs):
                for b in dirs[i + 1:]:
                    if (a, b) in seen:
                        continue
                    seen.add((a, b))
                    ka, kb = self.dir_keys[a], self.dir_keys[b]
                    if ka <= kb or kb <= ka:
                        continue  # a copy or a component of the other, not a rival
                    edges.setdefault(a, set()).add(b)
                    edges.setdefault(b, set()).add(a)
        return _components(edges)

    def _parallel(self) -> list[list[tuple[str, ...]]]:
        """Sibling subtrees laid out alike that redefine the same objects (``envs/dev`` and ``envs/prod``)."""
        below: dict[tuple[str, ...], dict[tuple[str, ...], list[str]]] = {}
        for d, files in self.files_in.items():
            for depth in range(len(d)):
                parent, child = d[:depth], d[: depth + 1]
                rel = d[depth + 1:]
                entry = below.setdefault(parent, {}).setdefault(child, [])
                entry.extend("/".join((*rel, os.path.basename(f))) for f in files)
        edges: dict[tuple[str, ...], set[tuple[str, ...]]] = {}
        for children in below.values():
            names = sorted(children)
            if len(names) < 2:
                continue
            layouts = {c: set(children[c]) for c in names}
            keys: dict[tuple[str, ...], set[Key]] = {}
            for a_i, a in enumerate(names):
                for b in names[a_i + 1:]:
                    ra, rb = layouts[a], layouts[b]
                    if len(ra & rb) < PARALLEL_SHARE * min(len(ra), len(rb)):
                        continue
                    if a not in keys:
                        keys[a] = self._subtree_keys(a)
                    if b not in keys:
                        keys[b] = self._subtree_keys(b)
                    if keys[a] & keys[b]:
                        edges.setdefault(a, set()).add(b)
                        edges.setdefault(b, set()).add(a)
        return _components(edges)

    def _subtree_keys(self, top: tuple[str, ...]) -> set[Key]:
        out: set[Key] = set()
        for d, keys in self.dir_keys.items():
            if d[: len(top)] == top:
                out |= keys
        return out

    # ----------------------------------------------------------------------------- lookup order

    def scopes(self, directory: tuple[str, ...]) -> list[list[tuple[str, ...]]]:
        """Directories to look in after the referencing file's own directory: its ancestors one
        by one, nearest first, then the others grouped by tree distance; alternatives left out."""
        cached = self._scopes.get(directory)
        if cached is not None:
            return cached
        chain = [directory[:i] for i in range(len(directory), -1, -1)]
        rivals = set().union(*(self.dir_alt.get(d, set()) for d in chain))

        def excluded(d: tuple[str, ...]) -> bool:
            return any(d[:i] in rivals for i in range(len(d), -1, -1)) if rivals else False

        ancestors = set(chain[1:])
        out: list[list[tuple[str, ...]]] = [[a] for a in chain[1:] if a in self.files_in and not excluded(a)]
        by_distance: dict[int, list[tuple[str, ...]]] = {}
        for d in self.files_in:
            if d == directory or d in ancestors or excluded(d):
                continue
            by_distance.setdefault(_distance(directory, d), []).append(d)
        out += [sorted(by_distance[k]) for k in sorted(by_distance)]
        self._scopes[directory] = out
        return out

    # ----------------------------------------------------------------------------- what to tell

    def alternative_sets(self) -> list[tuple[str, int, list[str], int]]:
        """(how the set is written, how many sets, the files in them, common objects) for every connected
        set of alternatives."""
        out = []
        for members in self._file_sets:
            keys = [self.file_keys[f] for f in members]
            out.append((_braces([os.path.normpath(f) for f in members]), len(members), members, _common(keys)))
        for dirs, subtree in [*((d, False) for d in self._dir_sets), *((d, True) for d in self._parallel_sets)]:
            paths = [os.path.relpath(os.sep + os.sep.join(d)) for d in dirs]
            keys = [self._subtree_keys(d) if subtree else self.dir_keys[d] for d in dirs]
            files = [f for d, fs in self.files_in.items() for f in fs
                     if any(d[: len(top)] == top if subtree else d == top for top in dirs)]
            out.append((_braces(paths), len(dirs), sorted(files), _common(keys)))
        return sorted(out)


def _components(edges: dict[Any, set[Any]]) -> list[list[Any]]:
    """Connected components of size two or more, each sorted, in a stable order."""
    seen: set[Any] = set()
    out = []
    for start in sorted(edges):
        if start in seen or not edges[start]:
            continue
        component, todo = [], [start]
        seen.add(start)
        while todo:
            node = todo.pop()
            component.append(node)
            for nxt in edges.get(node, ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        if len(component) > 1:
            out.append(sorted(component))
    return out


def _common(key_sets: list[set[Key]]) -> int:
    counts: dict[Key, int] = {}
    for keys in key_sets:
        for key in keys:
            counts[key] = counts.get(key, 0) + 1
    return sum(1 for n in counts.values() if n > 1)


def _braces(paths: list[str]) -> str:
    """``deploy/{dev,prod}`` for paths that share a parent, else ``{a,b}``."""
    parents = {os.path.dirname(p) for p in paths}
    if len(parents) == 1:
        parent = parents.pop()
        names = ",".join(os.path.basename(p) for p in paths)
        return f"{parent}/{{{names}}}" if parent else f"{{{names}}}"
    return "{" + ",".join(paths) + "}"


__all__ = ["WORKLOAD_KINDS", "Layout", "collision_key"]
