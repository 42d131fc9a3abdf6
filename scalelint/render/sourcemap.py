"""Point rendered Kubernetes objects back at the files they were written in.

Rendering (kustomize, helm) produces a stream whose positions mean nothing to a
user. The mappers (:mod:`.kustomap` for kustomize, :mod:`.helmmap` for helm) rewrite
the positions of each rendered tree *in place* so that every
:class:`~scalelint.load.tree.YMap`/:class:`~scalelint.load.tree.YSeq` names a source
file and a line in it, which is all later stages read. This module holds what both
share: the source files they read (:class:`SourceFiles`) and the tree rewriting.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from scalelint.load.parse import LoadError, compose_documents
from scalelint.load.read import LoadedFile, Suppressions, load_path
from scalelint.load.tree import Pos, YMap, YSeq, get_map, to_plain

ORIGIN = "config.kubernetes.io/origin"
TRANSFORMATIONS = "alpha.config.kubernetes.io/transformations"
_BUILD_PREFIXES = ("internal.config.kubernetes.io/", "config.kubernetes.io/", "alpha.config.kubernetes.io/",
                   "kustomize.config.k8s.io/id")


class SourceFiles:
    """Source files read while mapping, each loaded once, under the path a user sees."""

    def __init__(self) -> None:
        self.files: dict[str, LoadedFile] = {}

    def load(self, path: str) -> LoadedFile | None:
        if path not in self.files:
            self.files[path] = load_path(path)
        lf = self.files[path]
        return lf if lf.error is None and lf.skip_reason is None else None

    def text(self, path: str) -> str | None:
        """Raw text (templates are not YAML: they are read but not parsed)."""
        if path not in self.files:
            try:
                from scalelint.load.read import read_text, scan_suppressions

                text = read_text(path)
            except (LoadError, OSError):
                return None
            self.files[path] = LoadedFile(path=path, text=text, suppressions=scan_suppressions(text),
                                          skip_reason="text")
        lf = self.files[path]
        return lf.text if lf.error is None else None

    @property
    def suppressions(self) -> dict[str, Suppressions]:
        return {p: lf.suppressions for p, lf in self.files.items() if lf.error is None}


# --------------------------------------------------------------------------- generic tree helpers


def repoint(node: Any, path: str, fn: Callable[[Pos], Pos], seen: set[int] | None = None) -> None:
    """Set ``path`` on every map/sequence of ``node`` and pass every position through ``fn``."""
    seen = set() if seen is None else seen
    if not isinstance(node, (YMap, YSeq)) or id(node) in seen:
        return
    seen.add(id(node))
    node.path = path
    node.pos = fn(node.pos)
    if isinstance(node, YMap):
        for k in node:
            node.kpos[k] = fn(node.key_pos(k))
            node.vpos[k] = fn(node.value_pos(k))
            repoint(node[k], path, fn, seen)
    else:
        node.ipos = [fn(node.item_pos(i)) for i in range(len(node))]
        for item in node:
            repoint(item, path, fn, seen)


def point_all(node: Any, path: str, pos: Pos) -> None:
    """Every position of ``node`` → one place (a kustomization or chart file, when nothing better is known)."""
    repoint(node, path, lambda _p: pos)


def strip_build_annotations(obj: YMap) -> tuple[str | None, str | None]:
    """Remove what kustomize adds for build metadata; return (origin, transformations) texts."""
    meta = get_map(obj, "metadata")
    notes = get_map(meta, "annotations")
    if meta is None or notes is None:
        return None, None
    origin, trans = notes.get(ORIGIN), notes.get(TRANSFORMATIONS)
    for key in [k for k in notes if isinstance(k, str) and k.startswith(_BUILD_PREFIXES)]:
        del notes[key]
    if not notes:
        del meta["annotations"]
    return (origin if isinstance(origin, str) else None), (trans if isinstance(trans, str) else None)


def plain_yaml(text: str | None) -> Any:
    if not text:
        return None
    try:
        docs = compose_documents(text)
    except LoadError:
        return None
    return to_plain(docs[0].root) if docs else None
