"""The launch chain of a container (SPEC §8): where its image's files are, and what it runs.

The source of an image is, first match wins: compose ``build:`` (context and Dockerfile);
the workload's annotation ``scalelint.io/source`` (compose ``x-scalelint: {source:}``), a
directory relative to the manifest's own directory or else to the working directory; the
config's ``sources`` (a glob on the image name). With a source, :mod:`scalelint.sources.chain`
reads the Dockerfile, the scripts and the server configs; without one it still reads what
the manifest's own command says, and the image's command is unknown.
"""
from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass

from scalelint.config import Config
from scalelint.findings import Loc, Notice
from scalelint.model import Container, Val, Workload
from scalelint.sources.chain import Arg, Launch, Source, resolve

SOURCE_ANNOTATION = "scalelint.io/source"


@dataclass(frozen=True)
class Found:
    """A container's source and how it was found (for messages: ``build: . (compose.yml:74:7)``)."""

    source: Source
    how: str
    loc: Loc | None = None


def find_source(wl: Workload, c: Container, config: Config, notices: list[Notice]) -> Found | None:
    build = c.build
    if build is not None:
        if build.problem:
            notices.append(Notice(f"{wl.ref}: {build.problem}: its launch chain is not followed", build.loc.path,
                                  build.loc.line, build.loc.column))
            return None
        return Found(Source(build.context, build.dockerfile or _dockerfile(build.context), build.target),
                     f"build: {build.context}", build.loc)
    written = wl.settings.get("source") if wl.kind == "service" else wl.annotations.get(SOURCE_ANNOTATION)
    if isinstance(written, str) and written.strip():
        found = _directory(written.strip(), wl.path)
        where = f"x-scalelint source {written}" if wl.kind == "service" else f"annotation {SOURCE_ANNOTATION}"
        if found is None:
            notices.append(Notice(f"{wl.ref}: {where}: {written} is not a directory: its launch chain is not followed",
                                  wl.loc.path, wl.loc.line, wl.loc.column))
            return None
        return Found(Source(found, _dockerfile(found)), f"{where} ({found})", wl.loc)
    image = c.image or ""
    for mapping in config.sources:
        if image and _image_matches(image, mapping.image):
            if not os.path.isdir(mapping.path):
                notices.append(Notice(f"sources: {mapping.path} (for image {mapping.image}) is not a directory",
                                      mapping.origin))
                continue
            dockerfile = (os.path.normpath(os.path.join(mapping.path, mapping.dockerfile)) if mapping.dockerfile
                          else _dockerfile(mapping.path))
            return Found(Source(mapping.path, dockerfile, mapping.target),
                         f"sources: {mapping.image} → {mapping.path}", None)
    return None


def _dockerfile(context: str) -> str | None:
    path = os.path.join(context, "Dockerfile")
    return path if os.path.isfile(path) else None


def _directory(written: str, manifest: str) -> str | None:
    for base in (os.path.dirname(manifest), ""):
        path = os.path.normpath(os.path.join(base, written))
        if os.path.isdir(path):
            return path
    return None


def _image_matches(image: str, pattern: str) -> bool:
    """A glob on the image as written, or on its name without registry and tag."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    bare = name[: len(name) - len(last) + last.index(":")] if ":" in last else name
    return any(fnmatch.fnmatchcase(candidate, pattern) for candidate in (image, bare, bare.split("/", 1)[-1]))


def manifest_args(c: Container) -> tuple[list[Arg] | None, list[Arg] | None]:
    """The container's entrypoint and command as the chain takes them, each token able to point inside itself."""

    def arg(i: int) -> Arg:
        loc = c.argv_locs[i] if i < len(c.argv_locs) else c.loc

        def find(needles: list[str]) -> Loc:
            return c.token_loc(i, needles)

        return Arg(c.argv[i], loc, find)

    n = c.entrypoint_count
    entry = [arg(i) for i in range(n)] if c.entrypoint_set else None
    command = [arg(i) for i in range(n, len(c.argv))] if c.command_set else None
    return entry, command


def launch(wl: Workload, c: Container, env: dict[str, Val[str]], found: Found | None, kubernetes: bool) -> Launch:
    entry, command = manifest_args(c)
    return resolve(found.source if found else None, entry, command, env, kubernetes=kubernetes)


__all__ = ["SOURCE_ANNOTATION", "Found", "find_source", "launch", "manifest_args"]
