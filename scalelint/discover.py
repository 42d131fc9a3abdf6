"""Discover: which files to read and which directories need rendering (SPEC §1).

No YAML is parsed here; classification by content happens after loading.
"""
from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field

from .findings import Notice

YAML_SUFFIXES = (".yaml", ".yml")
_SKIP_DIRS = {"node_modules"}
KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
CHART_NAME = "Chart.yaml"


@dataclass(frozen=True)
class Target:
    path: str
    #: named on the command line (other YAML gets a notice instead of silence)
    explicit: bool


@dataclass(frozen=True)
class RenderDir:
    path: str
    tool: str  # "kustomize" | "helm"
    explicit: bool


@dataclass
class Discovery:
    files: list[Target] = field(default_factory=list)
    renders: list[RenderDir] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)


def render_kind(directory: str, names: set[str] | None = None) -> str | None:
    if names is None:
        try:
            names = set(os.listdir(directory))
        except OSError:
            return None
    if any(n in names for n in KUSTOMIZATION_NAMES):
        return "kustomize"
    if CHART_NAME in names:
        return "helm"
    return None


def _excluded(path: str, patterns: list[str]) -> bool:
    if not patterns:
        return False
    norm = path.replace(os.sep, "/")
    if norm.startswith("./"):
        norm = norm[2:]
    parts = norm.split("/")
    for pattern in patterns:
        pat = pattern.rstrip("/")
        if fnmatch.fnmatch(norm, pat) or fnmatch.fnmatch(norm, pat + "/*"):
            return True
        if "/" not in pat and any(fnmatch.fnmatch(part, pat) for part in parts):
            return True
    return False


def discover(paths: list[str], exclude: list[str] | None = None) -> Discovery:
    """Expand the command line's paths into targets, in a deterministic order."""
    out = Discovery()
    exclude = exclude or []
    seen: set[str] = set()
    for given in paths:
        if given == "-":
            out.files.append(Target("-", True))
            continue
        if os.path.isdir(given):
            kind = render_kind(given)
            if kind:
                out.renders.append(RenderDir(given, kind, True))
            _walk(given, exclude, out, seen, inside_render=kind is not None)
        elif os.path.lexists(given):
            if given not in seen:
                seen.add(given)
                out.files.append(Target(given, True))
        else:
            out.notices.append(Notice("no such file or directory", given))
    return out


def _walk(top: str, exclude: list[str], out: Discovery, seen: set[str], inside_render: bool) -> None:
    """Iterative walk that never follows directory symlinks (no loops) and sorts entries."""
    stack: list[tuple[str, bool]] = [(top, inside_render)]
    while stack:
        directory, covered = stack.pop()
        try:
            with os.scandir(directory) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            out.notices.append(Notice(f"cannot read directory: {exc.strerror or exc}", directory))
            continue
        subdirs = []
        for entry in entries:
            path = os.path.join(directory, entry.name) if directory != "." else entry.name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if is_dir:
                if entry.name.startswith(".") or entry.name in _SKIP_DIRS or _excluded(path, exclude):
                    continue
                subdirs.append(path)
            elif not covered and entry.name.lower().endswith(YAML_SUFFIXES + (".json",)):
                if entry.name.startswith(".") or _excluded(path, exclude) or path in seen:
                    continue
                seen.add(path)
                out.files.append(Target(path, False))
        for sub in reversed(subdirs):
            kind = render_kind(sub)
            if kind:
                out.renders.append(RenderDir(sub, kind, False))
            # files under a kustomization or chart belong to its render, not to us
            stack.append((sub, covered or kind is not None))
