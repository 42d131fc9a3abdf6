"""Discover: which files to read and which directories need rendering (SPEC §1).

No YAML is parsed here; classification by content happens after loading.
"""
from __future__ import annotations

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

    With ``group_context`` a file named on the command line brings the rest of
    its group along (see :func:`group_members`), so SL003/SL004 see the whole
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
            _walk(given, exclude, out, seen, inside_render=kind is not None)
        elif os.path.lexists(given):
            if given not in seen:
                seen.add(given)
                out.files.append(Target(given, True))
        else:
            out.notices.append(Notice("no such file or directory", given))
    if group_context:
        _add_group_context(out, exclude, seen)
    return out


def _add_group_context(out: Discovery, exclude: list[str], seen: set[str]) -> None:
    """Append the groups of explicitly named files as silent context, each file once."""
    known = {os.path.normpath(p) for p in seen}
    renders = {os.path.normpath(r.path) for r in out.renders}
    for target in [t for t in out.files if t.explicit and t.path != "-" and os.path.isfile(t.path)]:
        members, render = group_members(target.path)
        if render is not None:
            if os.path.normpath(render.path) not in renders and not _excluded(render.path, exclude):
                renders.add(os.path.normpath(render.path))
                out.renders.append(render)
            continue
        for path in members:
            if os.path.normpath(path) not in known and not _excluded(path, exclude):
                known.add(os.path.normpath(path))
                seen.add(path)
                out.files.append(Target(path, False))


#: a cheap look at a file's head: does it hold a Kubernetes object (YAML or JSON)?
_APIVERSION = re.compile(rb"""(?:^|[\s{,'"])apiVersion['"]?\s*:""", re.MULTILINE)
_SNIFF_BYTES = 64 * 1024


def group_members(path: str) -> tuple[list[str], RenderDir | None]:
    """The other files of ``path``'s group (SPEC §1 Grouping), by name only.

    - a compose file: its project partner in the same directory (main file ↔
      ``compose.override.y*ml``); ``.env`` is read by the model anyway;
    - a Kubernetes manifest (a head that mentions ``apiVersion:``) inside a
      kustomize/helm directory: that directory's render;
    - any other Kubernetes manifest: the sibling ``*.yaml``/``*.yml``/``*.json`` files of its directory, not
      recursive, without hidden, kustomization and compose files.
    Anything else (CI workflows, random config) brings no context along.
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
    render = _render_home(path)
    if render is not None:
        return [], render
    return [os.path.join(directory, e) for e in _file_names(directory)
            if e != name and not e.startswith(".") and e.lower().endswith(YAML_SUFFIXES + (".json",))
            and e not in KUSTOMIZATION_NAMES and not _is_compose_name(e.lower())], None


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
