"""Which files a kustomization owns (SPEC §11): the ones its fields reach, not its whole subtree.

A directory with ``kustomization.yaml`` is rendered as one group, and the files it renders
from (resources, patches, generator inputs, components, and what the kustomizations it builds
on reach in turn) are not linted one by one: a patch is not a whole object. Every other
manifest below it is a plain manifest like any other (rook's ``deploy/examples`` lists three
files beside a hundred more). Remote resources (URLs, ``git@``) own nothing here.
"""
from __future__ import annotations

import os
from typing import Any

from scalelint.load.discover import KUSTOMIZATION_NAMES
from scalelint.load.read import load_path

#: fields whose items are paths (or ``{path: ...}`` mappings) relative to the kustomization
_PATH_LISTS = ("resources", "bases", "components", "patchesStrategicMerge", "crds", "transformers",
               "generators", "validators", "configurations")
_PATH_OBJECT_LISTS = ("patches", "patchesJson6902", "replacements")
_GENERATORS = ("configMapGenerator", "secretGenerator")
#: a kustomization chain deeper than this is not followed (kustomize itself would loop forever)
MAX_DEPTH = 64


def _kustomization_file(directory: str) -> str | None:
    for name in KUSTOMIZATION_NAMES:
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            return path
    return None


def _remote(entry: str) -> bool:
    return "://" in entry or entry.startswith(("git@", "github.com/", "gitlab.com/", "bitbucket.org/"))


def _paths(root: dict[str, Any]) -> list[str]:
    """Every local path a kustomization names, in the order written."""
    out: list[str] = []
    for key in _PATH_LISTS:
        for item in root.get(key) or ():
            if isinstance(item, str):
                out.append(item)
            elif isinstance(item, dict) and isinstance(item.get("path"), str):
                out.append(item["path"])
    for key in _PATH_OBJECT_LISTS:
        for item in root.get(key) or ():
            if isinstance(item, dict) and isinstance(item.get("path"), str):
                out.append(item["path"])
            elif isinstance(item, str) and "\n" not in item:
                out.append(item)
    for key in _GENERATORS:
        for gen in root.get(key) or ():
            if not isinstance(gen, dict):
                continue
            for entry in [*(gen.get("files") or ()), *(gen.get("envs") or ()), gen.get("env")]:
                if isinstance(entry, str):
                    out.append(entry.split("=", 1)[1] if "=" in entry else entry)
    openapi = root.get("openapi")
    if isinstance(openapi, dict) and isinstance(openapi.get("path"), str):
        out.append(openapi["path"])
    return [p for p in out if p and not _remote(p)]


def owned_files(directory: str) -> set[str]:
    """Real paths of every file the kustomization in ``directory`` reaches, its own file included."""
    owned: set[str] = set()
    visited: set[str] = set()
    todo = [(os.path.realpath(directory), 0)]
    while todo:
        current, depth = todo.pop()
        if current in visited or depth > MAX_DEPTH:
            continue
        visited.add(current)
        kfile = _kustomization_file(current)
        if kfile is None:
            continue
        owned.add(os.path.realpath(kfile))
        lf = load_path(kfile)
        root = lf.documents[0].root if lf.error is None and lf.documents else None
        if not isinstance(root, dict):
            continue
        for rel in _paths(root):
            target = os.path.realpath(os.path.join(current, rel))
            if os.path.isdir(target):
                todo.append((target, depth + 1))
            elif os.path.isfile(target):
                owned.add(target)
    return owned


__all__ = ["owned_files"]
