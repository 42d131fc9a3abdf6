"""The whole run: discover → load → model → analyze → check, in one direction.

Formatting is the caller's business: :func:`run` returns data only.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import compose, kube, render
from .analyze.facts import Facts
from .config import Config
from .discover import Discovery, Target, discover
from .engine import Selection, object_ignores, run_checks, select, suppressed
from .findings import Finding, Loc, Notice, ObjectRef, Related, RunResult
from .loader import LoadedFile, LoadError, Suppressions, decode, load_path, load_text
from .model import Group
from .registry import Registry
from .yamltree import YMap

HELM_NOTICE = "looks like a Helm template: render it first, e.g. `helm template . | scalelint check -`"
STDIN = "-"


@dataclass
class Options:
    paths: list[str] = field(default_factory=lambda: ["."])
    #: ``-f`` files: one explicit compose project, merged in order
    compose_files: list[str] = field(default_factory=list)
    stdin: Callable[[], bytes] | None = None
    #: a named file brings its group along (compose project, sibling manifests); ``--only-given`` turns it off
    group_context: bool = True
    #: ``--helm-values`` files, after the config's ``helm.values`` (later wins, as in helm)
    helm_values: list[str] = field(default_factory=list)
    #: seconds one kustomize/helm render may take
    render_timeout: float = field(default_factory=render.default_timeout)


@dataclass
class Run:
    """What a run produced: the result for formatters, and the model for ``report``."""

    result: RunResult
    groups: list[Group]
    facts: list[Facts]
    selection: Selection


@dataclass
class _Loaded:
    files: list[LoadedFile] = field(default_factory=list)
    explicit: set[str] = field(default_factory=set)


def _read_all(disc: Discovery, opts: Options) -> _Loaded:
    out = _Loaded()
    for target in disc.files:
        if target.path == STDIN:
            data = opts.stdin() if opts.stdin else sys.stdin.buffer.read()
            try:
                lf = load_text(STDIN, decode(data))
            except LoadError as exc:
                lf = LoadedFile(path=STDIN, error=exc)
        else:
            if not target.explicit and target.path.lower().endswith(".json"):
                lf = load_path(target.path)
                if lf.error is None and "apiVersion" not in lf.text:
                    continue  # package.json and friends: not ours
            else:
                lf = load_path(target.path)
        out.files.append(lf)
        if target.explicit:
            out.explicit.add(target.path)
    return out


def _helm_pos(text: str) -> tuple[int, int]:
    for lineno, line in enumerate(text.splitlines(), 1):
        col = line.find("{{")
        if col != -1:
            return lineno, col + 1
    return 1, 1


def run(opts: Options, config: Config, registry: Registry) -> Run:
    selection = select(registry, config)
    disc = discover(opts.paths, config.exclude, group_context=opts.group_context)
    listed = {t.path for t in disc.files}
    disc.files.extend(Target(cf, True) for cf in opts.compose_files if cf not in listed)
    loaded = _read_all(disc, opts)
    notices = list(disc.notices)
    internal: list[Finding] = []
    sl000 = selection.active.get("SL000")
    rendered, render_sups, rendered_by = _render_all(disc, opts, config, notices, internal, sl000)
    compose_files: list[tuple[str, YMap]] = []
    kube_objects: list[tuple[YMap, str]] = []
    objects = 0
    for lf in loaded.files:
        if lf.error is not None:
            if sl000:
                line, col = lf.error.pos
                internal.append(sl000.finding(lf.error.message, Loc(lf.path, line, col)))
            continue
        if lf.skip_reason == "helm":
            notices.append(Notice(HELM_NOTICE, lf.path, *_helm_pos(lf.text)))
            continue
        found = False
        first = lf.documents[0].root if lf.documents else None
        name = os.path.basename(lf.path)
        if compose.is_compose_name(name) or compose.looks_like_compose(first):
            if isinstance(first, dict) and (compose.looks_like_compose(first) or not kube.is_object(first)):
                compose_files.append((lf.path, first))  # type: ignore[arg-type]
                found = True
        mapped = render.map_stdin(lf.text, lf.documents) if not found and lf.path == STDIN else None
        if mapped is not None:  # a rendered stream: objects point at its `# Source:` / origin files
            kube_objects.extend(mapped.objects)
            render_sups.update(mapped.suppressions)
            found = bool(mapped.objects)
        if not found:
            for doc in lf.documents:
                for obj in kube.flatten(doc.root):
                    kube_objects.append((obj, lf.path))
                    found = True
        if not found and lf.path in loaded.explicit:
            what = ("not a compose file or Kubernetes manifest" if lf.documents
                    else "empty file (no YAML document)")
            notices.append(Notice(f"{what}: nothing to check", lf.path))

    groups = _compose_groups(compose_files, opts, config, notices)
    kube_groups, duplicates = _kube_groups(kube_objects)
    groups += kube_groups + rendered
    sl090 = selection.active.get("SL090")
    if sl090:
        for obj_loc, first_loc, ref in duplicates:
            internal.append(sl090.finding(
                f"{ref} is defined twice (first at {first_loc}): only one copy is applied; "
                "this copy is linted alone", obj_loc, ref,
                related=[Related(first_loc.path, first_loc.line, first_loc.column, "first definition")]))
    for g in groups:
        objects += len(g.objects) if g.kind == "kubernetes" else len(g.workloads)

    facts = [Facts(g, config) for g in groups]
    findings = list(internal)
    for g, f in zip(groups, facts):
        findings.extend(render.attribute(run_checks(registry, selection, g, f, config), rendered_by.get(g.id)))
        notices.extend(f.notices)

    sups = {**render_sups, **{lf.path: lf.suppressions for lf in loaded.files}}
    ignores = object_ignores(groups)
    source_files = len(set(render_sups) - {lf.path for lf in loaded.files})
    result = RunResult(
        findings=[f for f in render.merge_related(findings) if not suppressed(f, sups, ignores)],
        notices=notices, rules=selection.infos, files=len(loaded.files) + source_files, objects=objects,
    )
    result.sort()
    return Run(result, groups, facts, selection)


def _compose_groups(files: list[tuple[str, YMap]], opts: Options, config: Config,
                    notices: list[Notice]) -> list[Group]:
    """One project per main file, merged with its override file; ``-f`` files form one project."""
    by_path = dict(files)
    groups: list[Group] = []
    explicit = [p for p in opts.compose_files if p in by_path]
    used = set(explicit)
    projects: list[list[str]] = [explicit] if explicit else []
    overrides: dict[tuple[str, str], str] = {}
    for path, _ in files:
        name = os.path.basename(path).lower()
        if path not in used and compose.is_override_name(name):
            family = "docker-compose" if name.startswith("docker-compose") else "compose"
            overrides[(os.path.dirname(path), family)] = path
    for path, _ in sorted(files):
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
        used.add(path)
        projects.append(project)
    for path in sorted(set(overrides.values()) - used):
        projects.append([path])  # an override with no main file is linted on its own
    for project in projects:
        directory = os.path.dirname(project[0]) or "."
        env = compose.load_env(directory, config.env_files, config.use_env, notices)
        groups.append(compose.build_project([(p, by_path[p]) for p in project], env, notices))
    return groups


def _is_main_for_override(name: str) -> bool:
    """``compose.yaml`` takes ``compose.override.yaml``; ``compose.prod.yaml`` does not."""
    stem = name.rsplit(".", 1)[0]
    return stem in ("compose", "docker-compose")


def _kube_groups(objects: list[tuple[YMap, str]]) -> tuple[list[Group], list[tuple[Loc, Loc, ObjectRef]]]:
    """All plain objects form one graph; a repeated (namespace, kind, name) goes to a graph of its own."""
    seen: dict[tuple[str, str, str], Loc] = {}
    main: list[tuple[YMap, str]] = []
    extra: list[Group] = []
    duplicates = []
    for obj, path in objects:
        key = kube.identity(obj)
        loc = kube.name_loc(obj)
        if key in seen:
            duplicates.append((loc, seen[key], ObjectRef(key[1], key[2], key[0])))
            extra.append(kube.build_graph(f"{path}#duplicate-{len(extra) + 1}", [(obj, path)]))
            continue
        seen[key] = loc
        main.append((obj, path))
    groups = [kube.build_graph("kubernetes", main)] if main else []
    return groups + extra, duplicates


def _render_all(disc: Discovery, opts: Options, config: Config, notices: list[Notice], internal: list[Finding],
                sl000: Any) -> tuple[list[Group], dict[str, Suppressions], dict[str, str]]:
    """Each kustomization/chart → its own graph (SPEC §1); a failed render → SL000 on its manifest."""
    todo, plan_notices = render.plan(disc.renders)
    notices.extend(plan_notices)
    groups: list[Group] = []
    sups: dict[str, Suppressions] = {}
    rendered_by: dict[str, str] = {}
    for rd in todo:
        out = render.render(rd, timeout=opts.render_timeout, helm_values=[*config.helm_values, *opts.helm_values])
        notices.extend(out.notices)
        sups.update(out.suppressions)
        if out.error is not None and sl000:
            internal.append(sl000.finding(out.error[0], out.error[1]))
        if out.objects:
            groups.append(kube.build_graph(rd.path, out.objects))
            rendered_by[rd.path] = out.manifest
    return groups, sups, rendered_by
