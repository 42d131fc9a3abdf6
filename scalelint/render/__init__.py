"""Render Kustomize and Helm directories, and map what they produce back to source files (SPEC §1).

A kustomization is built with ``kustomize build`` (else ``kubectl kustomize``)
through a throw-away wrapper kustomization in a temporary directory that lists
the user's directory as its only resource and asks for
``buildMetadata: [originAnnotations, transformerAnnotations]``: the user's tree
is never written to, nothing is copied, and relative bases resolve exactly as
they do for the user. Plugins, exec functions and the Helm inflator stay off
(the tools' defaults; no flag turns them on). A chart is rendered with
``helm template``. Every run of a tool has a timeout.

Nothing here prints or knows the command line; :mod:`scalelint.pipeline` turns
a :class:`Rendered` into a group, SL000 findings and notices.
"""
from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from scalelint.config import DEFAULT_RENDER_TIMEOUT, RENDER_TIMEOUT_ENV, render_timeout
from scalelint.findings import Finding, Loc, Notice, Related, merge_related
from scalelint.load.discover import CHART_NAME, KUSTOMIZATION_NAMES, RenderDir
from scalelint.load.parse import Document, LoadError, compose_documents
from scalelint.load.read import Suppressions, load_path
from scalelint.load.tree import YMap, YSeq, get_map
from scalelint.model.kube import flatten

#: :data:`scalelint.render.sourcemap.ORIGIN`, without importing the mapping modules: they (and subprocess,
#: tempfile) load only when something is rendered, so a pre-commit run on one file does not pay for them
_ORIGIN = "config.kubernetes.io/origin"

DEFAULT_TIMEOUT = DEFAULT_RENDER_TIMEOUT
TIMEOUT_ENV = RENDER_TIMEOUT_ENV
default_timeout = render_timeout
_BUILD_METADATA = (["originAnnotations", "transformerAnnotations"], ["originAnnotations"])


@dataclass
class Rendered:
    """What one kustomization or chart produced, positioned in its source files."""

    #: the kustomization.yaml / Chart.yaml that stands for the directory
    manifest: str
    objects: list[tuple[YMap, str]] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    #: (message, where) for an SL000 finding
    error: tuple[str, Loc] | None = None
    #: ``# scalelint:`` comments of the source files findings may point into
    suppressions: dict[str, Suppressions] = field(default_factory=dict)
    #: True when objects point at their source files (else at ``manifest``)
    mapped: bool = False


def manifest_path(rd: RenderDir) -> str:
    names = KUSTOMIZATION_NAMES if rd.tool == "kustomize" else (CHART_NAME,)
    for name in names:
        path = os.path.join(rd.path, name)
        if os.path.isfile(path):
            return path
    return os.path.join(rd.path, names[0])


# --------------------------------------------------------------------------- which directories


def _kustomization(rd_path: str) -> YMap | None:
    for name in KUSTOMIZATION_NAMES:
        path = os.path.join(rd_path, name)
        if os.path.isfile(path):
            lf = load_path(path)
            root = lf.documents[0].root if lf.error is None and lf.documents else None
            return root if isinstance(root, YMap) else None
    return None


def _references(directory: str) -> list[str]:
    """Real paths of the kustomize directories a kustomization builds on (resources, bases, components)."""
    root = _kustomization(directory)
    out: list[str] = []
    for key in ("resources", "bases", "components"):
        for entry in (root.get(key) if root is not None else None) or ():
            if isinstance(entry, str) and "://" not in entry and not entry.startswith(("github.com/", "git@")):
                path = os.path.join(directory, entry)
                if os.path.isdir(path):
                    out.append(os.path.realpath(path))
    return out


def plan(renders: list[RenderDir]) -> tuple[list[RenderDir], list[Notice]]:
    """The directories to render: a base that another kustomization of the run builds on, a chart
    inside another chart (a subchart) and a kustomize Component are rendered only when named."""
    unique: dict[str, RenderDir] = {}
    for rd in renders:  # a directory reached twice (named, and inside a named one) is rendered once
        key = os.path.realpath(rd.path)
        if key not in unique or (rd.explicit and not unique[key].explicit):
            unique[key] = rd
    renders = list(unique.values())
    reach: dict[str, set[str]] = {}
    for rd in renders:
        if rd.tool != "kustomize":
            continue
        seen: set[str] = set()
        stack = _references(rd.path)
        while stack:
            d = stack.pop()
            if d not in seen:
                seen.add(d)
                stack.extend(_references(d))
        reach[os.path.realpath(rd.path)] = seen
    charts = [os.path.realpath(rd.path) for rd in renders if rd.tool == "helm"]
    out, notices = [], []
    for rd in renders:
        real = os.path.realpath(rd.path)
        covered = any(real in seen and real not in reach.get(real, set()) for other, seen in reach.items()
                      if other != real)
        covered |= any(real.startswith(c + os.sep) for c in charts)
        if rd.tool == "kustomize" and not covered:
            root = _kustomization(rd.path)
            if root is not None and root.get("kind") == "Component":
                if rd.explicit:
                    notices.append(Notice("kustomize Component: it is built only as part of a kustomization "
                                          "that lists it under `components:`; not rendered alone", rd.path))
                continue
        if rd.explicit or not covered:
            out.append(rd)
    return out, notices


# --------------------------------------------------------------------------- running tools


def _run(argv: list[str], timeout: float) -> tuple[int | None, str, str]:
    """(exit status, stdout, stderr); status None on timeout. The tool runs in its own process
    group so that a timeout also ends whatever it started (git, a plugin shell)."""
    import signal
    import subprocess

    env = dict(os.environ, GIT_TERMINAL_PROMPT="0")
    posix = os.name == "posix"
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env, start_new_session=posix)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            if posix:
                os.killpg(proc.pid, signal.SIGKILL)
            else:  # pragma: no cover - Windows
                proc.kill()
        except OSError:
            pass
        proc.communicate()
        return None, "", ""
    return proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


_KLOG_ERR = re.compile(r'err="((?:[^"\\]|\\.)*)"')


def first_error_line(stderr: str, status: int | None = None) -> str:
    """The first line of a tool's stderr that is not a warning, without klog or ``Error:`` decoration."""
    for raw in stderr.splitlines():
        line = raw.strip()
        if not line or line.startswith("# Warning") or line.lower().startswith("warning"):
            continue
        m = _KLOG_ERR.search(line)
        if m:
            line = re.sub(r"\\(.)", lambda e: {"n": " ", "t": " "}.get(e.group(1), e.group(1)), m.group(1))
        line = re.sub(r"^(?:Error|error|ERROR):\s*", "", line)
        cwd = os.path.realpath(os.getcwd()) + os.sep
        line = " ".join(line.replace(cwd, "").replace("\\n", " ").split())
        return line if len(line) <= 500 else line[:499] + "…"
    return f"exit status {status}" if status is not None else "no error message"


def _kustomize_argv(target: str) -> tuple[list[str], str] | None:
    import shutil

    kustomize = shutil.which("kustomize")
    if kustomize:
        return [kustomize, "build", "--load-restrictor", "LoadRestrictionsRootOnly", target], "kustomize build"
    kubectl = shutil.which("kubectl")
    if kubectl:
        return [kubectl, "kustomize", "--load-restrictor", "LoadRestrictionsRootOnly", target], "kubectl kustomize"
    return None


# --------------------------------------------------------------------------- rendering


def render(rd: RenderDir, *, timeout: float | None = None, helm_values: Iterable[str] = ()) -> Rendered:
    """Render one directory. Never raises for a broken input: that is ``Rendered.error``."""
    timeout = timeout if timeout and timeout > 0 else default_timeout()
    if rd.tool == "helm":
        out = _render_helm(rd, timeout, list(helm_values))
    else:
        out = _render_kustomize(rd, timeout)
    if out.manifest not in out.suppressions:  # `# scalelint: disable=SL000` on a kustomization works too
        lf = load_path(out.manifest)
        if lf.error is None:
            out.suppressions[out.manifest] = lf.suppressions
    return out


def _display(rd_path: str) -> tuple[str, Callable[[str], str]]:
    """(real path of the directory, absolute path → path as the user would write it)."""
    real = os.path.realpath(rd_path)

    def display(abs_path: str) -> str:
        try:
            rel = os.path.relpath(abs_path, real)
        except ValueError:  # pragma: no cover - another drive on Windows
            return abs_path
        return os.path.normpath(os.path.join(rd_path, rel))

    return real, display


def _render_kustomize(rd: RenderDir, timeout: float) -> Rendered:
    import tempfile

    from scalelint.render.sourcemap import KustomizeMapper, SourceFiles

    kfile = manifest_path(rd)
    out = Rendered(manifest=kfile)
    probe = _kustomize_argv(rd.path)
    if probe is None:
        out.notices.append(Notice("kustomize directory not rendered: neither `kustomize` nor `kubectl` is on "
                                  "PATH; its files are not linted one by one (patches are not whole objects)",
                                  rd.path))
        return out
    tool = probe[1]
    real, display = _display(rd.path)
    stdout = None
    base = real
    with tempfile.TemporaryDirectory(prefix="scalelint-kustomize-") as tmp:
        tmp_real = os.path.realpath(tmp)
        try:
            rel = os.path.relpath(real, tmp_real)
        except ValueError:  # pragma: no cover - another drive on Windows
            rel = None
        attempts: list[list[str] | None] = [list(m) for m in _BUILD_METADATA] if rel else []
        attempts.append(None)  # last: the user's kustomization as it is
        status: int | None = 0
        err = ""
        for meta in attempts:
            if meta is not None:
                with open(os.path.join(tmp_real, "kustomization.yaml"), "w", encoding="utf-8") as fh:
                    fh.write(f"resources:\n- {_quote(rel or '')}\nbuildMetadata: [{', '.join(meta)}]\n")
                argv = _kustomize_argv(tmp_real)
            else:
                argv = _kustomize_argv(rd.path)
            assert argv is not None
            status, stdout, err = _run(argv[0], timeout)
            if status is None:
                out.error = (f"{tool} timed out after {timeout:g} s", Loc(kfile, 1, 1))
                return out
            if status == 0:
                base = tmp_real if meta is not None else real
                break
            stdout = None
    if stdout is None:
        message = first_error_line(err, status)
        out.error = (f"{tool} failed: {message}", _error_loc(kfile, err))
        return out
    docs = _parse(stdout, kfile, tool, out)
    files = SourceFiles()
    mapper = KustomizeMapper(base=base, display=display, files=files, fallback=kfile)
    mapped = 0
    for doc in docs:
        for obj in flatten(doc.root):
            mapped += mapper.map(obj)
            out.objects.append((obj, obj.path))
    out.mapped = bool(mapped)
    if docs and not mapped:
        out.notices.append(Notice(f"{tool} gave no origin annotations: findings point at the kustomization",
                                  kfile))
    out.suppressions = files.suppressions
    return out


def _error_loc(kfile: str, stderr: str) -> Loc:
    """The kustomization entry (a resource, patch or generator file) the error names first, else line 1."""
    lf = load_path(kfile)
    root = lf.documents[0].root if lf.error is None and lf.documents else None
    kdir = os.path.realpath(os.path.dirname(kfile) or ".")
    text = stderr.replace('\\"', '"')
    best: tuple[int, Loc] | None = None
    stack: list = [root] if isinstance(root, (YMap, YSeq)) else []
    while stack:
        node = stack.pop()
        items = node.items() if isinstance(node, YMap) else enumerate(node)
        for key, value in items:
            if isinstance(value, (YMap, YSeq)):
                stack.append(value)
                continue
            if not isinstance(value, str) or len(value) < 2 or "\n" in value:
                continue
            for needle in (f"'{value}'", f"[{value}", f" {value}]", os.path.normpath(os.path.join(kdir, value))):
                at = text.find(needle)
                if at >= 0 and (best is None or at < best[0]):
                    line, col = node.value_pos(key) if isinstance(node, YMap) else node.item_pos(key)
                    best = (at, Loc(kfile, line, col))
    return best[1] if best else Loc(kfile, 1, 1)


def _quote(path: str) -> str:
    return '"' + path.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _parse(stdout: str, manifest: str, tool: str, out: Rendered) -> list[Document]:
    try:
        return compose_documents(stdout, manifest)
    except LoadError as exc:
        out.error = (f"{tool} output could not be read: {exc.message}", Loc(manifest, 1, 1))
        return []


def _chart_name(chart_file: str) -> str:
    lf = load_path(chart_file)
    root = lf.documents[0].root if lf.error is None and lf.documents else None
    name = root.get("name") if isinstance(root, dict) else None
    return str(name) if name else os.path.basename(os.path.dirname(chart_file)) or chart_file


def _render_helm(rd: RenderDir, timeout: float, values: list[str]) -> Rendered:
    import shutil

    from scalelint.render.helmmap import map_helm_documents
    from scalelint.render.sourcemap import SourceFiles

    chart = manifest_path(rd)
    out = Rendered(manifest=chart)
    helm = shutil.which("helm")
    if helm is None:
        out.notices.append(Notice(f"Helm chart {_chart_name(chart)!r} not rendered: `helm` is not on PATH; its "
                                  "templates are not linted one by one", rd.path))
        return out
    argv = [helm, "template", rd.path, "--skip-tests"]
    for v in values:
        argv += ["--values", v]
    status, stdout, err = _run(argv, timeout)
    if status is None:
        out.error = (f"helm template timed out after {timeout:g} s", Loc(chart, 1, 1))
        return out
    if status != 0:
        out.error = (f"helm template failed: {first_error_line(err, status)}", Loc(chart, 1, 1))
        return out
    docs = _parse(stdout, chart, "helm template", out)
    files = SourceFiles()

    def resolve(source: str) -> str | None:
        parts = source.replace("\\", "/").split("/", 1)
        path = os.path.normpath(os.path.join(rd.path, parts[1])) if len(parts) == 2 else None
        return path if path and os.path.isfile(path) else None

    map_helm_documents(stdout, docs, resolve, files, (chart, (1, 1)))
    for doc in docs:
        for obj in flatten(doc.root):
            out.objects.append((obj, obj.path))
    out.mapped = any(path != chart for _, path in out.objects)
    out.suppressions = files.suppressions
    return out


# --------------------------------------------------------------------------- stdin


@dataclass
class Mapped:
    objects: list[tuple[YMap, str]]
    suppressions: dict[str, Suppressions]


def map_stdin(text: str, documents: list[Document]) -> Mapped | None:
    """Objects of a rendered stream on stdin, pointed at the files its ``# Source:`` comments (helm)
    or origin annotations (kustomize with ``buildMetadata``) name; None when the stream names none."""
    if "# Source:" not in text and _ORIGIN not in text:
        return None
    from scalelint.render.helmmap import map_helm_documents, source_comments
    from scalelint.render.sourcemap import KustomizeMapper, SourceFiles

    has_source = bool(source_comments(text))
    files = SourceFiles()
    cwd = os.getcwd()

    def resolve(source: str) -> str | None:
        written = os.path.normpath(source)
        if os.path.isfile(written):
            return written
        parts = source.replace("\\", "/").split("/", 1)  # `helm template .`: chart name, then the path
        if len(parts) == 2 and os.path.isfile(parts[1]):
            return os.path.normpath(parts[1])
        return None

    if has_source:
        map_helm_documents(text, documents, resolve, files, None)
    mapper = KustomizeMapper(base=cwd, display=lambda p: os.path.relpath(p, cwd), files=files, fallback="")
    objects = []
    for doc in documents:
        for obj in flatten(doc.root):
            if obj.path == "-" and _ORIGIN in (get_map(get_map(obj, "metadata"), "annotations") or {}):
                # kustomize output with buildMetadata: paths are relative to where it ran (assumed: here)
                mapper.map(obj)
            objects.append((obj, obj.path))
    return Mapped(objects, files.suppressions)


# --------------------------------------------------------------------------- findings


def attribute(findings: Iterable[Finding], manifest: str | None) -> list[Finding]:
    """Name the kustomization/chart a finding was rendered by (a related location), so that a
    base line reached through two overlays says which overlays."""
    if manifest is None:
        return list(findings)
    note = Related(manifest, 1, 1, f"rendered by {manifest}")
    return [f if f.path == manifest else dataclasses.replace(f, related=tuple(sorted({*f.related, note})))
            for f in findings]


__all__ = ["Mapped", "Rendered", "attribute", "default_timeout", "first_error_line", "map_stdin",
           "merge_related", "plan", "render"]
