"""The whole run: discover → load → model → analyze → check, in one direction.

Formatting is the caller's business: :func:`run` returns data only.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from scalelint.analyze.facts import Facts
from scalelint.batch import Batch, FileResult, Progress, classify, no_gc
from scalelint.check.engine import Selection, object_ignores, run_checks, select, suppressed
from scalelint.check.registry import Registry
from scalelint.config import Config, render_timeout
from scalelint.findings import Finding, Loc, Notice, ObjectRef, Related, RunResult, merge_related
from scalelint.load.discover import Discovery, Target, discover, matches
from scalelint.load.read import MAX_FILE_BYTES, LoadedFile, LoadError, Suppressions, decode, load_text
from scalelint.load.tree import YMap
from scalelint.model import Group, kube, kubegraph
from scalelint.model.projects import compose_projects, overlay_main
from scalelint.model.scope import Layout, collision_key

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
    render_timeout: float = field(default_factory=render_timeout)
    #: processes for the per-file work (read, parse, model): 1 in this process, 0 one per core
    jobs: int = 1
    #: called with (files done, files) as files are read; the caller decides whether to draw anything
    progress: Progress | None = None
    #: ``scalelint plan --set``: {workload: {"workers"|"replicas"|"pool": N}}, as if the files said so
    overrides: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass
class Run:
    """What a run produced: the result for formatters, and the model for ``report``."""

    result: RunResult
    groups: list[Group]
    facts: list[Facts]
    selection: Selection


def _results(disc: Discovery, opts: Options, batch: Batch, keep_raw: bool) -> Iterator[FileResult | None]:
    """Every target's result in discovery order: stdin read here, files from the batch."""
    files = iter(batch)
    for target in disc.files:
        if target.path != STDIN:
            yield next(files)
            continue
        data = opts.stdin() if opts.stdin else sys.stdin.buffer.read(MAX_FILE_BYTES + 1)  # not `< /dev/zero` forever
        try:
            if len(data) > MAX_FILE_BYTES:
                raise LoadError(f"standard input is over the {MAX_FILE_BYTES} byte limit: not read")
            lf = load_text(STDIN, decode(data))
        except LoadError as exc:
            lf = LoadedFile(path=STDIN, error=exc)
        yield classify(lf, target.explicit, keep_raw)


def run(opts: Options, config: Config, registry: Registry) -> Run:
    with no_gc():
        return _run(opts, config, registry)


class _Collected:
    """What the files of a run contribute before groups are built."""

    def __init__(self) -> None:
        self.notices: list[Notice] = []
        self.internal: list[Finding] = []
        self.compose_files: list[tuple[str, YMap]] = []
        self.pieces: list[kube.Modeled] = []
        self.loaded: dict[str, Suppressions] = {}
        self.render_sups: dict[str, Suppressions] = {}
        self.files = 0

    def take(self, res: FileResult | None, sl000: Any) -> list[kube.Modeled]:
        """Add one file's result; returns the objects it brought."""
        if res is None:
            return []  # package.json and friends: not ours
        self.files += 1
        self.loaded[res.path] = res.suppressions
        if res.error is not None:
            if sl000:
                self.internal.append(sl000.finding(res.error[0], Loc(res.path, *res.error[1])))
            return []
        if res.helm is not None:
            self.notices.append(Notice(HELM_NOTICE, res.path, *res.helm))
            return []
        if res.extra_suppressions is not None:
            self.render_sups.update(res.extra_suppressions)
        if res.compose_root is not None:
            self.compose_files.append((res.path, res.compose_root))
        self.pieces.extend(res.objects)
        self.notices.extend(res.notices)
        if not res.found and res.explicit:
            what = "not a compose file or Kubernetes manifest" if res.documents else "empty file (no YAML document)"
            self.notices.append(Notice(f"{what}: nothing to check", res.path))
        return list(res.objects)


def _run(opts: Options, config: Config, registry: Registry) -> Run:
    selection = select(registry, config)
    disc = discover(opts.paths, config.exclude, group_context=opts.group_context)
    listed = {t.path for t in disc.files}
    disc.files.extend(Target(cf, True) for cf in opts.compose_files if cf not in listed)
    _apply_kustomize_coverage(disc)
    context = {os.path.normpath(t.path) for t in disc.files if t.context}
    # trees are dropped after modelling unless a check reads them (custom JSON Schema checks, plugins)
    keep_raw = any(getattr(registry.template(b.rule.template), "reads_trees", True) for b in selection.rules)
    batch = Batch([(t.path, t.explicit) for t in disc.files if t.path != STDIN], keep_raw, opts.jobs, opts.progress)
    got = _Collected()
    got.notices.extend(disc.notices)
    sl000 = selection.active.get("SL000")
    try:
        rendered, render_sups, rendered_by = _render_all(disc, opts, config, got.notices, got.internal, sl000)
        got.render_sups.update(render_sups)
        for res in _results(disc, opts, batch, keep_raw):
            got.take(res, sl000)
    finally:
        batch.close()
    if disc.context:
        context |= _read_context(disc.context, got, keep_raw, sl000)
    scoped = bool(context)

    def reportable(path: str) -> bool:
        return not scoped or os.path.normpath(path) not in context

    notices = got.notices
    groups = compose_projects(got.compose_files, opts.compose_files, config.env_files, config.use_env,
                              notices) if got.compose_files else []
    kube_groups, duplicates = _kube_groups(got.pieces, config, notices, reportable)
    groups += kube_groups + rendered
    sl090 = selection.active.get("SL090")
    if sl090:
        for obj_loc, first_loc, ref in duplicates:
            got.internal.append(sl090.finding(
                f"{ref} is defined twice in this file (first at line {first_loc.line}): only the last copy "
                "is applied; this copy is linted alone", obj_loc, ref,
                related=[Related(first_loc.path, first_loc.line, first_loc.column, "first definition")]))
    objects = sum(len(g.objects) if g.kind == "kubernetes" else len(g.workloads) for g in groups)

    if opts.overrides:
        from scalelint.analyze.planning import WhatIf

        facts: list[Facts] = [WhatIf(g, config, opts.overrides) for g in groups]
    else:
        facts = [Facts(g, config) for g in groups]
    findings = list(got.internal)
    layered: list[tuple[str, list[Finding]]] = []
    for g, f in zip(groups, facts):
        checked: Iterable[Finding] = run_checks(registry, selection, g, f, config)
        manifest = rendered_by.get(g.id)
        if manifest is not None:
            from scalelint.render import attribute

            checked = attribute(checked, manifest)
        main_file = overlay_main(g)
        if main_file is not None:
            layered.append((main_file, list(checked)))
        else:
            findings.extend(checked)
        notices.extend(f.notices)
    findings += _layered(findings, layered)

    sups = {**got.render_sups, **got.loaded}
    ignores = object_ignores(groups)
    source_files = len(set(got.render_sups) - set(got.loaded))
    kept = [f for f in merge_related(findings) if not suppressed(f, sups, ignores)]
    if scoped:  # named files: what is located in them, or names them as a related location (SPEC §11)
        kept = [f for f in kept if reportable(f.path) or any(reportable(r.path) for r in f.related)]
        notices = [n for n in notices if not n.path or reportable(n.path)]
    if kept:  # only the findings reported: a generated file's header is read for nothing else
        from scalelint.output.generated import point_at_sources

        kept = point_at_sources(kept)
    result = RunResult(findings=kept, notices=notices, rules=selection.infos,
                       files=got.files + source_files, objects=objects)
    result.sort()
    return Run(result, groups, facts, selection)


#: how many times newly read context can lead to more context (a chain HPA → Deployment → database → clients)
CONTEXT_ROUNDS = 4


def _read_context(candidates: list[str], got: _Collected, keep_raw: bool, sl000: Any) -> set[str]:
    """Read the candidates that mention a name the objects read so far use (SPEC §11), in rounds:
    what a round reads may name more. Returns the paths read, normalised."""
    from scalelint.batch import work_file
    from scalelint.load.context import mentions, useful
    from scalelint.model.refs import referenced_names

    read: set[str] = set()
    searched: set[str] = set()
    todo = list(candidates)
    names = useful(referenced_names(m.part or m.obj for m in got.pieces))
    for _ in range(CONTEXT_ROUNDS):
        names -= searched
        if not names or not todo:
            break
        searched |= names
        hits = [p for p in todo if mentions(p, names)]
        taken = set(hits)
        todo = [p for p in todo if p not in taken]
        brought: list[kube.Modeled] = []
        for path in hits:
            read.add(os.path.normpath(path))
            brought += got.take(work_file(path, False, keep_raw), sl000)
        names = useful(referenced_names(m.part or m.obj for m in brought))
    return read


def _apply_kustomize_coverage(disc: Discovery) -> None:
    """Files a kustomization reaches belong to its render; the other files below it are plain manifests
    (SPEC §11). A render added only as a named file's context is dropped when it does not own the file."""
    if not any(t.kustomize for t in disc.files):
        disc.renders = [r for r in disc.renders if not r.context]
        return
    from scalelint.render.coverage import owned_files

    owned: set[str] = set()
    for rd in disc.renders:
        if rd.tool == "kustomize":
            owned |= owned_files(rd.path)
    needed: set[str] = set()
    kept = []
    for t in disc.files:
        if t.kustomize and os.path.realpath(t.path) in owned:
            if t.explicit:
                needed.add(os.path.normpath(t.kustomize))
            continue
        kept.append(t)
    disc.files = kept
    disc.renders = [r for r in disc.renders if not r.context or os.path.normpath(r.path) in needed]


def _layered(findings: list[Finding], layered: list[tuple[str, list[Finding]]]) -> list[Finding]:
    """Findings of overlay projects, without those the main file alone already reports at the same
    place and the overlay has no part in: one service's missing limits are one finding, not one per
    file that layers it; a budget an overlay's replicas break is kept (the overlay is in its related)."""
    taken = {(f.code, f.path, f.line, f.column) for f in findings}
    out = []
    for main, checked in layered:
        main = os.path.normpath(main)
        for f in checked:
            key = (f.code, f.path, f.line, f.column)
            # at the same place as the main file's own finding, with nothing from the overlay in it
            if os.path.normpath(f.path) == main and key in taken and all(
                    os.path.normpath(r.path) == main for r in f.related):
                continue
            taken.add(key)
            out.append(f)
    return out


def _kube_groups(pieces: list[kube.Modeled], config: Config, notices: list[Notice],
                 reportable: Callable[[str], bool]) -> tuple[list[Group], list[tuple[Loc, Loc, ObjectRef]]]:
    """Plain objects → graphs (SPEC §11): declared ``groups`` first, then ``group-by``.

    The same (namespace, kind, name) twice in one file is SL090, and the later copy is linted in
    a graph of its own. Copies in different files are alternative manifest sets, not mistakes: with
    ``group-by: auto`` they stay in one graph whose references resolve from each file outward.
    Objects are taken in directory-walk order of their files, not in command-line order: which copy
    is "the first" must not depend on the order the paths were given (SPEC §6).
    """
    pieces = sorted(pieces, key=lambda m: _walk_order(m.obj.path))  # stable: file order kept within a file
    seen: dict[tuple[str, tuple[str, str, str]], Loc] = {}
    main: list[kube.Modeled] = []
    extra: list[Group] = []
    duplicates = []
    for m in pieces:
        key, loc = (m.obj.path, m.key), m.obj.loc
        if key in seen:
            duplicates.append((loc, seen[key], ObjectRef(m.key[1], m.key[2], m.key[0])))
            extra.append(kubegraph.assemble(f"{m.obj.path}#duplicate-{len(extra) + 1}", [m]))
            continue
        seen[key] = loc
        main.append(m)
    groups: list[Group] = []
    for i, unit in enumerate(config.groups):
        mine = [m for m in main if matches(m.obj.path, unit)]
        if mine:
            groups.append(kubegraph.assemble(f"unit {i + 1}: {', '.join(unit)}", mine))
            taken = {id(m) for m in mine}
            main = [m for m in main if id(m) not in taken]
    if not main:
        return groups + extra, duplicates
    if config.group_by == "all":
        groups.append(kubegraph.assemble("kubernetes", main))
    elif config.group_by == "directory":
        by_dir: dict[str, list[kube.Modeled]] = {}
        for m in main:
            by_dir.setdefault(os.path.dirname(m.obj.path) or ".", []).append(m)
        groups += [kubegraph.assemble(directory, ms) for directory, ms in by_dir.items()]
    else:
        files: dict[str, set[tuple[str, str, str]]] = {}
        for m in main:
            ckey = collision_key(m.key)
            files.setdefault(m.obj.path, set()).update([ckey] if ckey else [])
        layout = Layout(files)
        for text, count, members, common in layout.alternative_sets():
            if any(reportable(p) for p in members):
                notices.append(Notice(f"{count} alternative manifest sets ({common} common object"
                                      f"{'s' if common != 1 else ''}): checked separately", text))
        groups.append(kubegraph.assemble("kubernetes", main, layout))
    return groups + extra, duplicates


def _walk_order(path: str) -> tuple[tuple[int, str], ...]:
    """Sort key of a file in the order a directory walk meets it: a directory's files by name,
    then its subdirectories by name; the same file spelt differently sorts the same."""
    if path == STDIN:
        return ()
    parts = os.path.abspath(path).split(os.sep)
    return tuple((1, part) for part in parts[:-1]) + ((0, parts[-1]),)


def _render_all(disc: Discovery, opts: Options, config: Config, notices: list[Notice], internal: list[Finding],
                sl000: Any) -> tuple[list[Group], dict[str, Suppressions], dict[str, str]]:
    """Each kustomization/chart → its own graph (SPEC §1); a failed render → SL000 on its manifest."""
    if not disc.renders:
        return [], {}, {}
    from scalelint import render  # kustomize, helm and the source maps: only for runs that render

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
            groups.append(kubegraph.build_graph(rd.path, out.objects))
            rendered_by[rd.path] = out.manifest
    return groups, sups, rendered_by
