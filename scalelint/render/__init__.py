"""Render Kustomize and Helm directories, and map what they produce back to source files (SPEC §1).

A kustomization is built with ``kustomize build`` (else ``kubectl kustomize``)
through a throw-away wrapper kustomization in a temporary directory that lists
the user's directory as its only resource and asks for
``buildMetadata: [originAnnotations, transformerAnnotations]``: the user's tree
is never written to, nothing is copied, and relative bases resolve exactly as
they do for the user. Plugins, exec functions and the Helm inflator stay off
(the tools' defaults; no flag turns them on). A chart is rendered with
``helm template``. Every run of a tool has a timeout.

Here: which directories to render (:func:`plan`), one render (:func:`render`), rendered
streams on stdin (:func:`map_stdin`) and findings on files no finding may point into
(:func:`attribute`). :mod:`.run` runs the tools; :mod:`.kustomap` and :mod:`.helmmap` map
rendered nodes back to their source lines, with :mod:`.sourcemap`'s shared helpers.

Nothing here prints or knows the command line; :mod:`scalelint.pipeline` turns
a :class:`Rendered` into a group, SL000 findings and notices.
"""
from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable
from dataclasses import dataclass

from scalelint.config import DEFAULT_RENDER_TIMEOUT, RENDER_TIMEOUT_ENV, render_timeout
from scalelint.findings import Finding, Notice, Related, merge_related
from scalelint.load.discover import KUSTOMIZATION_NAMES, RenderDir
from scalelint.load.parse import Document
from scalelint.load.read import Suppressions, load_path
from scalelint.load.tree import YMap, get_map
from scalelint.model.kube import flatten
from scalelint.render.run import _ORIGIN, Rendered, _render_helm, _render_kustomize, first_error_line, manifest_path

__all__ = ["Mapped", "Rendered", "attribute", "first_error_line", "manifest_path", "map_stdin", "plan", "render"]

DEFAULT_TIMEOUT = DEFAULT_RENDER_TIMEOUT
TIMEOUT_ENV = RENDER_TIMEOUT_ENV
default_timeout = render_timeout


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
    from scalelint.render.kustomap import KustomizeMapper
    from scalelint.render.sourcemap import SourceFiles

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
