"""Discover: which files to read and which directories need rendering (SPEC §1, §11).

No YAML is parsed here; classification by content happens after loading. Files below a
kustomization are listed too, marked with it: the kustomization owns only the files it
reaches (:mod:`scalelint.render.coverage` decides), the others are plain manifests. A file
named on the command line brings *context*: its compose partner at once, and candidate
manifests of its repository that are read only when a reference needs them
(:mod:`scalelint.load.context`).
"""
from __future__ import annotations

import dataclasses
import fnmatch
import os
import re
from dataclasses import dataclass, field

from scalelint.findings import Notice

YAML_SUFFIXES = (".yaml", ".yml")
_SKIP_DIRS = {"node_modules"}
KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
CHART_NAME = "Chart.yaml"


@dataclass(frozen=True)
class Target:
    path: str
    #: named on the command line (other YAML gets a notice instead of silence)
    explicit: bool
    #: read for a named file's references only: its findings are not reported (SPEC §11)
    context: bool = False
    #: the nearest kustomize directory above the file, which may own it
    kustomize: str | None = None


@dataclass(frozen=True)
class RenderDir:
    path: str
    tool: str  # "kustomize" | "helm"
    explicit: bool
    #: rendered only because a named file lies below it
    context: bool = False


@dataclass
class Discovery:
    files: list[Target] = field(default_factory=list)
    renders: list[RenderDir] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    #: manifests a named file's references may need, read only when they do (in walk order)
    context: list[str] = field(default_factory=list)


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


def matches(path: str, patterns: list[str]) -> bool:
    """Whether ``path`` matches one of the globs (``exclude``, declared ``groups``): a glob with a slash
    matches the path or a directory above it, one without matches any path component."""
    if not patterns:
        return False
    norm = path.replace(os.sep, "/")
    norm = norm.removeprefix("./")
    parts = norm.split("/")
    for pattern in patterns:
        pat = pattern.rstrip("/")
        if fnmatch.fnmatch(norm, pat) or fnmatch.fnmatch(norm, pat + "/*"):
            return True
        if "/" not in pat and any(fnmatch.fnmatch(part, pat) for part in parts):
            return True
    return False


def discover(paths: list[str], exclude: list[str] | None = None, group_context: bool = True) -> Discovery:
    """Expand the command line's paths into targets, in a deterministic order.

    With ``group_context`` a file named on the command line brings its context along (see
    :func:`group_members` and :func:`context_candidates`), so SL003/SL004 see the whole
    deployment when pre-commit passes only the changed files.
    """
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
            home = _render_home(os.path.join(given, "_")) if kind is None else None
            _walk(given, exclude, out, seen, helm=kind == "helm",
                  kustomize=given if kind == "kustomize" else (home.path if home and home.tool == "kustomize"
                                                                else None))
        elif os.path.lexists(given):
            if given not in seen:
                seen.add(given)
                home = _render_home(given) if os.path.isfile(given) else None
                out.files.append(Target(given, True, kustomize=home.path if home and home.tool == "kustomize"
                                        else None))
        else:
            out.notices.append(Notice("no such file or directory", given))
    if group_context:
        _add_group_context(out, exclude, seen)
    return out


def _add_group_context(out: Discovery, exclude: list[str], seen: set[str]) -> None:
    """The context of explicitly named files: compose partners and renders now, candidates for later."""
    known = {os.path.normpath(p) for p in seen}
    renders = {os.path.normpath(r.path) for r in out.renders}
    named = [t for t in out.files if t.explicit and t.path != "-" and os.path.isfile(t.path)]
    candidates: dict[str, None] = {}
    for target in named:
        members, render = group_members(target.path)
        if render is not None:
            if os.path.normpath(render.path) not in renders and not matches(render.path, exclude):
                renders.add(os.path.normpath(render.path))
                out.renders.append(dataclasses.replace(render, context=True))
            if render.tool == "helm":
                continue
        for path in members:
            if os.path.normpath(path) not in known and not matches(path, exclude):
                known.add(os.path.normpath(path))
                seen.add(path)
                out.files.append(Target(path, False, context=True))
        if not members and _sniff_manifest(target.path):
            for path in context_candidates(target.path, exclude):
                candidates.setdefault(path, None)
    out.context = [p for p in candidates if os.path.normpath(p) not in known]


#: a context walk stops after this many candidate files (a monorepo of generated manifests)
MAX_CONTEXT_FILES = 20_000


def context_root(path: str) -> str:
    """Where a named file's context ends: its repository's root (``.git``), else the working directory
    when the file is below it, else the file's own directory."""
    directory = os.path.dirname(os.path.abspath(path))
    probe = directory
    while True:
        if os.path.exists(os.path.join(probe, ".git")):
            return probe
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    cwd = os.getcwd()
    return cwd if directory == cwd or directory.startswith(cwd + os.sep) else directory


def context_candidates(path: str, exclude: list[str]) -> list[str]:
    """Manifests that a named file's references may reach (SPEC §11): every plain YAML/JSON file of
    its repository, siblings first, then the rest in walk order, written as paths relative to where
    the named file's path is relative to. Nothing is read here."""
    root = context_root(path)
    directory = os.path.dirname(path)
    absolute_dir = os.path.dirname(os.path.abspath(path))

    def shown(abs_path: str) -> str:
        rel = os.path.relpath(abs_path, absolute_dir)
        return os.path.normpath(os.path.join(directory, rel)) if not os.path.isabs(path) else abs_path

    found = Discovery()
    _walk(root, exclude, found, set(), helm=False, kustomize=None, limit=MAX_CONTEXT_FILES)
    me = os.path.abspath(path)
    siblings: list[str] = []
    others: list[str] = []
    for t in found.files:
        name = os.path.basename(t.path)
        if os.path.abspath(t.path) == me or _is_compose_name(name.lower()) or t.kustomize is not None:
            continue
        (siblings if os.path.dirname(os.path.abspath(t.path)) == absolute_dir else others).append(shown(
            os.path.abspath(t.path)))
    return siblings + others


#: a cheap look at a file's head: does it hold a Kubernetes object (YAML or JSON)?
_APIVERSION = re.compile(rb"""(?:^|[\s{,'"])apiVersion['"]?\s*:""", re.MULTILINE)
_SNIFF_BYTES = 64 * 1024


def group_members(path: str) -> tuple[list[str], RenderDir | None]:
    """The other files of ``path``'s group (SPEC §1 Grouping), by name only.

    - a compose file: its project partner in the same directory (main file ↔
      ``compose.override.y*ml``); ``.env`` is read by the model anyway;
    - a Kubernetes manifest (a head that mentions ``apiVersion:``) inside a
      kustomize/helm directory: that directory's render.
    A plain manifest's other files are candidates read only when needed (:func:`context_candidates`);
    anything else (CI workflows, random config) brings no context along.
    """
    directory, name = os.path.split(path)
    lower = name.lower()
    if _is_compose_name(lower):
        family = "docker-compose" if lower.startswith("docker-compose") else "compose"
        partner = {family: f"{family}.override", f"{family}.override": family}.get(lower.rsplit(".", 1)[0])
        if partner is None:
            return [], None  # compose.prod.yaml and friends merge only through -f
        names = (partner + ".yaml", partner + ".yml")
        return [os.path.join(directory, e) for e in _file_names(directory) if e.lower() in names], None
    if not _sniff_manifest(path):
        return [], None
    return [], _render_home(path)


def _file_names(directory: str) -> list[str]:
    """Sorted names of the regular files (or links to them) in ``directory``."""
    names = []
    try:
        with os.scandir(directory or ".") as it:
            for entry in it:
                try:
                    if entry.is_file():
                        names.append(entry.name)
                except OSError:
                    continue
    except OSError:
        return []
    return sorted(names)


def _is_compose_name(lower: str) -> bool:
    # the same test as compose.is_compose_name; kept here so discover imports no model code
    return lower.endswith(YAML_SUFFIXES) and lower.startswith(("compose", "docker-compose"))


def _sniff_manifest(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(_SNIFF_BYTES)
    except OSError:
        return False
    return _APIVERSION.search(head) is not None


def _render_home(path: str) -> RenderDir | None:
    """The nearest enclosing kustomize/helm directory of a file, if any."""
    directory = os.path.dirname(os.path.normpath(path))
    while True:
        kind = render_kind(directory or ".")
        if kind:
            return RenderDir(directory or ".", kind, False)
        parent = os.path.dirname(directory)
        if not directory or parent == directory or os.path.basename(directory) == "..":
            return None
        directory = parent


def _walk(top: str, exclude: list[str], out: Discovery, seen: set[str], helm: bool, kustomize: str | None,
          limit: int | None = None) -> None:
    """Iterative walk that never follows directory symlinks (no loops) and sorts entries.

    Below a chart nothing is listed (templates are the chart's). Below a kustomization files
    are listed with it (``Target.kustomize``): the kustomization decides which it owns.
    """
    stack: list[tuple[str, bool, str | None]] = [(top, helm, kustomize)]
    while stack:
        directory, in_chart, kdir = stack.pop()
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
                if entry.name.startswith(".") or entry.name in _SKIP_DIRS or matches(path, exclude):
                    continue
                subdirs.append(path)
            elif not in_chart and entry.name.lower().endswith(YAML_SUFFIXES + (".json",)):
                if (entry.name.startswith(".") or entry.name in KUSTOMIZATION_NAMES or matches(path, exclude)
                        or path in seen):
                    continue
                seen.add(path)
                out.files.append(Target(path, False, kustomize=kdir))
                if limit is not None and len(out.files) >= limit:
                    return
        for sub in reversed(subdirs):
            kind = render_kind(sub)
            if kind:
                out.renders.append(RenderDir(sub, kind, False))
            stack.append((sub, in_chart or kind == "helm", sub if kind == "kustomize" else kdir))
