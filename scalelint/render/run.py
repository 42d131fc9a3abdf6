"""Run kustomize and helm with a timeout, and turn their output into positioned objects.

A kustomization is built through a throw-away wrapper kustomization in a temporary
directory (the user's tree is never written) that asks for origin and transformer
annotations; a chart with ``helm template``. A failed or timed-out run is a
:class:`Rendered` with an ``error``: the tool's first error line and where to report it.
"""
from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from scalelint.findings import Loc, Notice
from scalelint.load.discover import CHART_NAME, KUSTOMIZATION_NAMES, RenderDir
from scalelint.load.parse import Document, LoadError, compose_documents
from scalelint.load.read import Suppressions, load_path
from scalelint.load.tree import YMap, YSeq
from scalelint.model.kube import flatten

#: :data:`scalelint.render.sourcemap.ORIGIN`, without importing the mapping modules first
_ORIGIN = "config.kubernetes.io/origin"
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


def first_error_line(stderr: str, status: int | None = None, limit: int | None = 500) -> str:
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
        return line if limit is None or len(line) <= limit else line[:limit - 1] + "…"
    return f"exit status {status}" if status is not None else "no error message"


_MISSING = re.compile(r"lstat (\S+?): no such file or directory")
_NO_KUSTOMIZATION = re.compile(r"unable to find one of 'kustomization\.yaml', 'kustomization\.yml' or "
                               r"'Kustomization' in directory '([^']+)'")
#: an entry of a kustomization on the way to the cause (not "recursed accumulation of path '...'", which
#: repeats the entry as a path from the working directory)
_HOP = re.compile(r"accumulating (?:resources|components) from '([^']+)'|get the patch file from path\(([^)]+)\)")


def kustomize_cause(message: str) -> str:
    """kustomize's error, innermost cause first: ``accumulating resources: accumulation err='accumulating
    resources from '../../base': ... lstat base/config.yaml: no such file or directory ...`` (300 characters
    of nesting) becomes ``base/config.yaml: no such file or directory (reached through ../../base)``.
    A message without a cause it knows is returned as it is."""
    missing = _MISSING.search(message)
    bare = _NO_KUSTOMIZATION.search(message)
    if missing:
        cause = f"{missing.group(1)}: no such file or directory"
    elif bare:
        cause = f"no kustomization.yaml, kustomization.yml or Kustomization in {bare.group(1)}"
    else:
        return message
    hops: list[str] = []
    for m in _HOP.finditer(message):
        hop = m.group(1) or m.group(2)
        if not hops or hops[-1] != hop:
            hops.append(hop)
    if missing and hops and os.path.normpath(missing.group(1)).endswith(os.sep + os.path.normpath(hops[-1])):
        hops.pop()  # the missing file itself: its full path was just said
    return cause + (f" (reached through {' → '.join(hops)})" if hops else "")


def _kustomize_argv(target: str) -> tuple[list[str], str] | None:
    import shutil

    kustomize = shutil.which("kustomize")
    if kustomize:
        return [kustomize, "build", "--load-restrictor", "LoadRestrictionsRootOnly", target], "kustomize build"
    kubectl = shutil.which("kubectl")
    if kubectl:
        return [kubectl, "kustomize", "--load-restrictor", "LoadRestrictionsRootOnly", target], "kubectl kustomize"
    return None


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

    from scalelint.render.kustomap import KustomizeMapper
    from scalelint.render.sourcemap import SourceFiles

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
        message = kustomize_cause(first_error_line(err, status, limit=None))
        if len(message) > 500:
            message = message[:499] + "…"
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
