"""Which compose files run together (SPEC §1, §2): the projects ``docker compose`` would start.

A main file (``compose.yaml``, ``docker-compose.yml``) takes its ``*.override.*`` file, as
``docker compose up`` does. Files that cannot run alone but fill in the main file's services — an
overlay that redefines services without an image, or a layer that only swaps images, commands or
ports (a CI file, a final-image variant, also from a subdirectory) — are merged onto it as with
``-f main -f file``, and say so in a notice. So is a file whose leading comments say how it is
run (``docker compose -f ../../compose.yml -f this.yml``), and a file in a subdirectory whose leading
comments call it an override or overlay of the nearest main file above it that shares a service.
Any other compose file is a project of its own.
"""
from __future__ import annotations

import os
import re

from scalelint.findings import Notice
from scalelint.load.read import leading_comments
from scalelint.load.tree import YMap
from scalelint.model import Group


def compose_projects(files: list[tuple[str, YMap]], compose_files: list[str], env_files: list[str], use_env: bool,
                     notices: list[Notice]) -> list[Group]:
    """One project per main file, merged with its override file and the overlays and layers that fill
    it in; the ``-f`` files (``compose_files``) form one project."""
    from scalelint.model import compose  # only compose runs pay for interpolation and the compose model

    by_path = dict(files)
    groups: list[Group] = []
    explicit = [p for p in compose_files if p in by_path]
    used = set(explicit)
    projects: list[list[str]] = [explicit] if explicit else []
    overrides: dict[tuple[str, str], str] = {}
    for path, _ in files:
        name = os.path.basename(path).lower()
        if path not in used and compose.is_override_name(name):
            family = "docker-compose" if name.startswith("docker-compose") else "compose"
            overrides[(os.path.dirname(path), family)] = path
    mains = {os.path.dirname(p): p for p, _ in sorted(files, reverse=True)
             if _is_main_for_override(os.path.basename(p).lower())}
    for path, root in sorted(files):
        if path in used or path in overrides.values():
            continue
        name = os.path.basename(path).lower()
        project = [path]
        if compose.is_compose_name(name):
            family = "docker-compose" if name.startswith("docker-compose") else "compose"
            override = overrides.get((os.path.dirname(path), family))
            if override and _is_main_for_override(name):
                project.append(override)
                used.add(override)
        header = "\n".join(leading_comments(path))
        why = "its leading comments run it so"
        main = _documented_main(path, header, by_path)
        if main is None:
            why = "it only fills in its services"
            main = mains.get(os.path.dirname(path))
            if main is None or main == path or not _overlay(root, by_path[main], name):
                main, why = _ancestor_main(path, root, mains, by_path, _declared(name, header), why)
        if main is not None and main != path:
            project = [main, path]  # `docker compose -f compose.yml -f compose.deploy.yml`
            layer = os.path.relpath(path, os.path.dirname(main) or ".")
            notices.append(Notice(f"an overlay of {os.path.basename(main)} ({why}): "
                                  f"linted merged onto it, as `docker compose -f {os.path.basename(main)} -f "
                                  f"{layer}`", path))
        used.add(path)
        projects.append(project)
    for path in sorted(set(overrides.values()) - used):
        projects.append([path])  # an override with no main file is linted on its own
    for project in projects:
        directory = os.path.dirname(project[0]) or "."
        env = compose.load_env(directory, env_files, use_env, notices)
        group = compose.build_project([(p, by_path[p]) for p in project], env, notices)
        if len(project) > 1 and project != explicit and not compose.is_override_name(os.path.basename(project[1])):
            group.id = JOIN.join(project)  # an overlay project: name both, as the main file alone is one too
        groups.append(group)
    return groups


_COMPOSE_RUN = re.compile(r"docker[- ]compose\b(?P<args>[^\n`]*)")
_F_FLAG = re.compile(r"(?:^|\s)(?:-f|--file)(?:\s+|=)(\S+)")


def _documented_main(path: str, header: str, by_path: dict[str, YMap]) -> str | None:
    """The main file of ``docker compose -f MAIN -f THIS`` written in the header, when it is linted too
    (its path taken from this file's directory, as the comment is usually written, else as given)."""
    me = os.path.basename(path)
    for run in _COMPOSE_RUN.finditer(header):
        files = [f.strip("'\"") for f in _F_FLAG.findall(run.group("args"))]
        names = [os.path.basename(f) for f in files]
        if me not in names[1:]:
            continue
        first = files[0]
        for candidate in (os.path.join(os.path.dirname(path), first), first):
            candidate = os.path.normpath(candidate)
            if candidate != os.path.normpath(path) and candidate in by_path:
                return candidate
    return None


_OVERRIDE_WORD = re.compile(r"\b(?:override|overlay)\b", re.IGNORECASE)


def _declared(name: str, header: str) -> bool:
    """The file calls itself an override or overlay, in its name or its leading comments."""
    return "override" in name or bool(_OVERRIDE_WORD.search(header))


def _ancestor_main(path: str, root: YMap, mains: dict[str, str], by_path: dict[str, YMap],
                   declared: bool, why: str) -> tuple[str | None, str]:
    """The nearest main file in an ancestor directory that ``path`` is a layer of, and why; a file that
    declares itself an override (``declared``) is merged onto it when they share a service."""
    directory = os.path.dirname(path)
    while directory:
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
        main = mains.get(directory)
        if main is not None:
            if _layer(root, by_path[main]):
                return main, why
            if declared and _shares(root, by_path[main]):
                return main, "it calls itself an override and shares its services"
            return None, why
    return None, why


def _shares(root: YMap, main: YMap) -> bool:
    services, base = root.get("services"), main.get("services")
    return isinstance(services, dict) and isinstance(base, dict) and any(s in base for s in services)


def _overlay(root: YMap, main: YMap, name: str) -> bool:
    """A file that cannot run alone but fills in the main file's services (SPEC §1: projects merge with
    ``-f``): it redefines some of them without an image or build, or its name says it overrides."""
    services, base = root.get("services"), main.get("services")
    if not isinstance(services, dict) or not isinstance(base, dict):
        return False
    shared = [s for s in services if s in base]
    if not shared:
        return False
    partial = any(not (isinstance(services[s], dict) and ("image" in services[s] or "build" in services[s]))
                  for s in shared)
    return partial or ".override." in name or _layer(root, main, new_services=True)


#: what a file layered with ``-f`` typically swaps in a service that the main file defines in full
_LAYER_KEYS = frozenset({"image", "build", "entrypoint", "command", "depends_on", "profiles", "restart", "platform",
                         "pull_policy", "container_name", "labels", "ports", "volumes"})


def _layer(root: YMap, main: YMap, new_services: bool = False) -> bool:
    """The services the file shares with the main file only swap what a CI or release layer swaps (the
    image, the command, ports): no environment or limits of their own, so they do not run without the
    main file's. ``new_services``: the file may also add services of its own (a layer beside its main
    file); a file in a subdirectory must only layer the main file's services."""
    services, base = root.get("services"), main.get("services")
    if not isinstance(services, dict) or not isinstance(base, dict) or not services:
        return False
    shared = [s for s in services if s in base]
    if not shared or (not new_services and len(shared) < len(services)):
        return False
    return all(isinstance(services[s], dict) and set(services[s]) <= _LAYER_KEYS for s in shared)


def _is_main_for_override(name: str) -> bool:
    """``compose.yaml`` takes ``compose.override.yaml``; ``compose.prod.yaml`` does not."""
    stem = name.rsplit(".", 1)[0]
    return stem in ("compose", "docker-compose")


#: how an overlay project's id joins its files (``compose.yaml + compose.prod.yaml``)
JOIN = " + "


def overlay_main(group: Group) -> str | None:
    """The main file of an overlay or layer project, None for any other group."""
    if group.kind != "compose" or JOIN not in group.id:
        return None
    return group.id.split(JOIN, 1)[0]
