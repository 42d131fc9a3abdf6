"""Reading files of a build context safely: inside the root, bounded, never hanging.

The launch chain reads files named by hostile or broken input (a Dockerfile ``COPY``, a
``-c`` flag, a script's ``source``).  Every read goes through :class:`Root`, which refuses
paths that leave the root (``..``, absolute paths, symlinks pointing out), anything that is
not a regular file (a FIFO would block), files over 2 MB and binary files, and which answers
each question once per run.  ``os.path.realpath`` resolves symlink loops without looping.
"""
from __future__ import annotations

import os
import posixpath
import stat
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .dockerfile import Stage

__all__ = ["MAX_BYTES", "Root", "copied_names", "read_limited"]

MAX_BYTES = 2 * 1024 * 1024


def read_limited(path: str) -> tuple[str | None, str]:
    """The text of the regular file ``path``, or None and why not (size, type, encoding)."""
    try:
        info = os.stat(path)
    except OSError as error:
        return None, f"cannot be read ({error.strerror or error})"
    if stat.S_ISDIR(info.st_mode):
        return None, "a directory"
    if not stat.S_ISREG(info.st_mode):
        return None, "not a regular file"
    if info.st_size > MAX_BYTES:
        return None, f"larger than {MAX_BYTES // (1024 * 1024)} MB"
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as error:
        return None, f"cannot be read ({error.strerror or error})"
    if len(data) > MAX_BYTES:
        return None, f"larger than {MAX_BYTES // (1024 * 1024)} MB"
    if b"\x00" in data:
        return None, "binary file"
    text = data.decode("utf-8", errors="replace")
    return (text.removeprefix("\ufeff")), ""


class Root:
    """A directory whose files may be read, addressed by ``/``-separated relative paths."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.real = os.path.realpath(root)
        self.exists = os.path.isdir(self.real)
        self._kinds: dict[str, str | None] = {}
        self._texts: dict[str, tuple[str | None, str]] = {}

    def display(self, rel: str) -> str:
        """The path as the user would name it: the root as given, joined with ``rel``."""
        return os.path.normpath(os.path.join(self.root, *rel.split("/"))) if rel else os.path.normpath(self.root)

    def _resolve(self, rel: str) -> tuple[str | None, str]:
        if not self.exists:
            return None, f"build context {self.root!r} does not exist"
        normal = posixpath.normpath(rel) if rel else "."
        if normal.startswith(("/", "../")) or normal == "..":
            return None, "leaves the build context"
        full = os.path.realpath(os.path.join(self.real, *normal.split("/")))
        if full != self.real and not full.startswith(self.real.rstrip(os.sep) + os.sep):
            return None, "leads outside the build context (symlink)"
        return full, ""

    def kind(self, rel: str) -> str | None:
        """"file", "dir" or None (missing, outside, a symlink loop, anything else)."""
        if rel in self._kinds:
            return self._kinds[rel]
        full, why = self._resolve(rel)
        result = None
        unresolved = os.path.join(self.real, *posixpath.normpath(rel).split("/")) if rel else self.real
        if full is not None:
            try:
                mode = os.stat(full).st_mode
                result = "file" if stat.S_ISREG(mode) else "dir" if stat.S_ISDIR(mode) else None
            except (OSError, ValueError):
                result = None
        if result is None and (full is not None or "symlink" in why) and os.path.lexists(unresolved):
            result = "file"  # a symlink loop or a link out of the context: reading it says why
        self._kinds[rel] = result
        return result

    def read(self, rel: str) -> tuple[str | None, str]:
        if rel not in self._texts:
            full, why = self._resolve(rel)
            self._texts[rel] = read_limited(full) if full is not None else (None, why)
        return self._texts[rel]

    def listdir(self, rel: str) -> list[str]:
        full, _ = self._resolve(rel)
        if full is None or self.kind(rel) != "dir":
            return []
        try:
            return sorted(os.listdir(full))[:1000]
        except OSError:
            return []


def copied_names(root: Root, stage: Stage, directory: str) -> set[str]:
    """Names of the files a stage copies from the context into the container ``directory``
    (for globs such as supervisord's ``[include] files = /etc/supervisor/conf.d/*.conf``)."""
    names: set[str] = set()
    for copy in stage.all_copies():
        if copy.stage is not None:
            continue
        dest = copy.dest.rstrip("/") or "/"
        inside = directory == dest or directory.startswith(dest.rstrip("/") + "/")
        for src in copy.sources:
            kind = root.kind(src)
            if kind == "dir" and inside:
                inner = posixpath.relpath(directory, dest)
                sub = posixpath.normpath(posixpath.join(src, inner)) if src else inner
                sub = "" if sub == "." else sub
                names.update(n for n in root.listdir(sub) if root.kind(posixpath.join(sub, n) if sub else n) == "file")
            elif kind == "file":
                target = posixpath.join(dest, posixpath.basename(src)) if copy.into_dir else dest
                if posixpath.dirname(target) == directory:
                    names.add(posixpath.basename(target))
    return names
