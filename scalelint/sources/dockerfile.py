"""Read a Dockerfile for what the container runs: CMD/ENTRYPOINT, ENV/ARG, WORKDIR, COPY.

The image's command line, its default environment and the place every copied file lands
decide which launch script or config file a container reads, and with which variables.
Only the instructions that matter for that are interpreted; every other known instruction
is accepted and ignored, an unknown one is a notice with its position (never an error:
BuildKit frontends add instructions, and the linter must go on).  Values are
:class:`~scalelint.sources.located.Word` objects, so a token of ``CMD`` or the value of an
``ENV`` points at the character that wrote it.

Stages: ``FROM image AS name``; a ``FROM`` naming an earlier stage inherits that stage's
ENV, WORKDIR, ENTRYPOINT/CMD and files.  ``COPY --from=<stage>`` is followed into that stage
when mapping a path back to the build context; ``--from=<image>`` files are not in the
context and map to nothing.
"""
from __future__ import annotations

import fnmatch
import posixpath
import re
from collections import ChainMap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from scalelint.findings import Loc, Notice

from .cmdline import expand_shell
from .dockerfile_text import escape_char, instructions, json_array, split_words
from .located import FileOrigin, Word, paused_gc

__all__ = ["Command", "Copy", "Dockerfile", "Stage", "parse_dockerfile"]

#: instructions that exist and carry nothing the launch chain needs
#: ``Copy.stage`` of a ``RUN cp`` inside the stage itself
_SELF = "\0self"
_IGNORED = frozenset({
    "LABEL", "EXPOSE", "USER", "VOLUME", "HEALTHCHECK", "ONBUILD", "STOPSIGNAL", "MAINTAINER",
})
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_GLOB = re.compile(r"[*?\[]")
_ARCHIVE = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar.zst")

#: "file" | "dir" | None for a path relative to the build context
Kind = Callable[[str], "str | None"]


@dataclass(frozen=True)
class Command:
    """A CMD or ENTRYPOINT: its argv (shell form already wrapped in the SHELL)."""

    argv: list[Word]
    exec_form: bool
    loc: Loc


@dataclass(frozen=True)
class Copy:
    """One COPY/ADD: context-relative sources (or paths in ``stage``) to an absolute dest."""

    sources: list[str]
    dest: str
    into_dir: bool
    stage: str | None
    loc: Loc


@dataclass
class Stage:
    index: int
    name: str | None
    base: str
    loc: Loc
    parent: Stage | None = None
    env: dict[str, Word] = field(default_factory=dict)
    #: ARG values in scope in this stage (None: declared without any value)
    args: dict[str, Word | None] = field(default_factory=dict)
    workdir: str = "/"
    workdir_loc: Loc | None = None
    entrypoint: Command | None = None
    cmd: Command | None = None
    cmd_set: bool = False
    shell: list[Word] = field(default_factory=lambda: [Word("/bin/sh"), Word("-c")])
    copies: list[Copy] = field(default_factory=list)

    def all_copies(self) -> list[Copy]:
        """Copies of this stage and of the stages it is built FROM, oldest first."""
        chain: list[Stage] = []
        stage: Stage | None = self
        while stage is not None and len(chain) < 64:
            chain.append(stage)
            stage = stage.parent
        return [c for s in reversed(chain) for c in s.copies]


@dataclass
class Dockerfile:
    path: str
    stages: list[Stage] = field(default_factory=list)
    global_args: dict[str, Word | None] = field(default_factory=dict)
    notices: list[Notice] = field(default_factory=list)

    def stage(self, target: str | None) -> Stage | None:
        """The stage that is built: ``target`` by name, else the last one."""
        if target:
            for stage in self.stages:
                if stage.name == target.lower():
                    return stage
            self.notices.append(Notice(f"build target {target!r} is not a stage of this Dockerfile", self.path))
        return self.stages[-1] if self.stages else None

    def _named(self, ref: str) -> Stage | None:
        for stage in self.stages:
            if stage.name == ref.lower() or (ref.isdigit() and stage.index == int(ref)):
                return stage
        return None

    def map_path(self, stage: Stage, path: str, kind: Kind, _depth: int = 0) -> str | None:
        """The build-context path (relative, ``/``-separated) of the file at container ``path``.

        Later copies shadow earlier ones, but only for the files they bring: a later
        ``COPY ./app /app/app`` does not hide ``/app/start.sh`` copied before.
        """
        if _depth > 16:
            return None
        path = posixpath.normpath("/" + path.lstrip("/")) if path.startswith("/") else ""
        if not path:
            return None
        for copy in reversed(stage.all_copies()):
            for src in reversed(copy.sources):
                if copy.stage == _SELF:  # RUN cp: the source is a file of this very image
                    if path == copy.dest or (copy.into_dir and path == posixpath.join(copy.dest,
                                                                                      posixpath.basename(src))):
                        found = self.map_path(stage, src, kind, _depth + 1)
                        if found is not None:
                            return found
                    continue
                if copy.stage is not None:
                    other = self._named(copy.stage)
                    if other is None or other is stage:
                        continue  # an external image: its files are not in the context
                    inner = _inside(copy.dest, path)
                    origins = [posixpath.join(src, inner) if inner else src] if inner is not None else []
                    if path == posixpath.join(copy.dest, posixpath.basename(src)):
                        origins.append(src)  # a file copied into a directory
                    for origin in origins:
                        found = self.map_path(other, origin, kind, _depth + 1)
                        if found is not None:
                            return found
                    continue
                candidate = _candidate(copy, src, path, kind)
                if candidate is not None and kind(candidate) == "file":
                    return candidate
        return None


def _inside(dest: str, path: str) -> str | None:
    """``path`` relative to directory ``dest`` ('' for dest itself), None when outside."""
    if path == dest:
        return ""
    prefix = dest if dest.endswith("/") else dest + "/"
    return path[len(prefix):] if path.startswith(prefix) else None


def _candidate(copy: Copy, src: str, path: str, kind: Kind) -> str | None:
    if _GLOB.search(posixpath.basename(src)):
        inner = _inside(copy.dest, path)
        if not inner:
            return None
        if fnmatch.fnmatchcase(inner.split("/")[0], posixpath.basename(src)):
            return posixpath.join(posixpath.dirname(src), inner)
        return None
    what = kind(src)
    if what == "dir":
        inner = _inside(copy.dest, path)
        if inner is None:
            return None
        return posixpath.join(src, inner) if src else inner
    if what == "file":
        base = posixpath.basename(src)
        if path == posixpath.join(copy.dest, base) or (not copy.into_dir and path == copy.dest):
            return src
    return None


# --- reading -------------------------------------------------------------------------------------

def parse_dockerfile(text: str, path: str) -> Dockerfile:
    """Parse ``text`` (the Dockerfile at ``path``, as locations should name it)."""
    text = text.removeprefix("\ufeff")
    origin = FileOrigin(path, text)
    result = Dockerfile(path)
    reader = _Reader(result, origin)
    with paused_gc():
        for keyword, args, loc in instructions(text, origin, result.notices):
            reader.dispatch(keyword, args, loc)
    if not result.stages:
        result.notices.append(Notice("no FROM instruction: not a Dockerfile", path, 1, 1))
    return result


class _Reader:
    """Applies instructions in order; holds the stage being built."""

    def __init__(self, result: Dockerfile, origin: FileOrigin) -> None:
        self.result = result
        self.origin = origin
        self.escape = escape_char(origin.text)
        self.stage: Stage | None = None

    def notice(self, message: str, loc: Loc) -> None:
        self.result.notices.append(Notice(message, loc.path, loc.line, loc.column))

    def scope(self) -> Mapping[str, Word | None]:
        """Variables visible to substitution: ARGs in scope, ENV over them (a live view, not a copy)."""
        if self.stage is None:
            return self.result.global_args
        return ChainMap(self.stage.env, self.stage.args)  # type: ignore[arg-type]

    def dispatch(self, keyword: str, args: Word, loc: Loc) -> None:
        handler = getattr(self, f"_do_{keyword.lower()}", None) if keyword.isalpha() else None
        if handler is not None:
            if self.stage is None and keyword not in ("FROM", "ARG"):
                self.notice(f"{keyword} before the first FROM", loc)
                return
            handler(args, loc)
        elif keyword not in _IGNORED:
            self.notice(f"unknown Dockerfile instruction {keyword[:40]!r}", loc)

    def _do_from(self, args: Word, loc: Loc) -> None:
        words = split_words(args, self.escape, self.result.global_args)
        flags = [w for w in words if w.text.startswith("--")]
        rest = words[len(flags):]
        if not rest:
            self.notice("FROM without an image", loc)
            return
        base = rest[0].text
        name = rest[2].text.lower() if len(rest) >= 3 and rest[1].text.lower() == "as" else None
        parent = next((s for s in self.result.stages if s.name == base.lower()), None)
        stage = Stage(len(self.result.stages), name, base, loc, parent)
        if parent is not None:
            stage.env = dict(parent.env)
            stage.workdir, stage.workdir_loc = parent.workdir, parent.workdir_loc
            stage.entrypoint, stage.cmd, stage.shell = parent.entrypoint, parent.cmd, list(parent.shell)
        self.result.stages.append(stage)
        self.stage = stage

    def _do_arg(self, args: Word, loc: Loc) -> None:
        for word in split_words(args, self.escape, self.scope()):
            name, eq, _ = word.text.partition("=")
            if not _NAME.fullmatch(name):
                self.notice(f"ARG {word.text[:40]!r} is not NAME or NAME=value", word.loc(0) or loc)
                continue
            value: Word | None = word[len(name) + 1:] if eq else None
            if self.stage is None:
                self.result.global_args[name] = value
            else:
                if value is None:
                    value = self.result.global_args.get(name)
                self.stage.args[name] = value

    def _do_env(self, args: Word, loc: Loc) -> None:
        assert self.stage is not None
        words = split_words(args, self.escape, self.scope())
        if words and "=" not in words[0].text:  # legacy ENV NAME value...
            name = words[0].text
            rest = args[len(args.text) - len(args.text[len(name):].lstrip()):]
            values = split_words(rest, self.escape, self.scope())
            self.stage.env[name] = Word.join(values, " ") if values else Word("")
            return
        for word in words:
            name, eq, _ = word.text.partition("=")
            if not eq or not _NAME.fullmatch(name):
                self.notice(f"ENV {word.text[:40]!r} is not NAME=value", word.loc(0) or loc)
                continue
            self.stage.env[name] = word[len(name) + 1:]

    def _do_workdir(self, args: Word, loc: Loc) -> None:
        assert self.stage is not None
        words = split_words(args, self.escape, self.scope())
        if not words:
            return
        self.stage.workdir = posixpath.normpath(posixpath.join(self.stage.workdir, words[0].text))
        self.stage.workdir_loc = words[0].loc(0) or loc

    def _do_copy(self, args: Word, loc: Loc) -> None:
        assert self.stage is not None
        words = json_array(args) or split_words(args, self.escape, self.scope())
        stage_ref = None
        while words and words[0].text.startswith("--"):
            flag, _, value = words.pop(0).text.partition("=")
            if flag == "--from":
                stage_ref = value
        if len(words) < 2 or any(w.text.startswith("<<") for w in words):
            return  # heredoc or malformed: nothing from the context
        dest = posixpath.join(self.stage.workdir, words[-1].text)
        into_dir = words[-1].text.endswith("/") or len(words) > 2
        sources = []
        for word in words[:-1]:
            src = word.text if stage_ref is not None else _context_path(word.text)
            if src is not None and "://" not in src and not src.endswith(_ARCHIVE):
                sources.append(src)
        if sources:
            normal = posixpath.normpath(dest)
            self.stage.copies.append(Copy(sources, normal, into_dir, stage_ref, loc))

    _do_add = _do_copy

    def _do_run(self, args: Word, loc: Loc) -> None:
        """``RUN cp A B`` / ``mv A B`` between files of the image: B is a copy of A (taiga copies its
        ``docker/config.py`` over ``settings/config.py``). Anything else a RUN does is not followed."""
        assert self.stage is not None
        words = json_array(args)
        script = " ".join(w.text for w in words) if words else args.text
        if "cp " not in script and "mv " not in script:
            return
        for tokens, _, _ in expand_shell(["sh", "-c", script]):
            if posixpath.basename(tokens[0]) not in ("cp", "mv") or len(tokens) < 3:
                continue
            operands = [t for t in tokens[1:] if not t.startswith("-")]
            if len(operands) != 2 or any(c in t for t in operands for c in "$*?[`"):
                continue
            src, dst = (posixpath.normpath(posixpath.join(self.stage.workdir, t)) for t in operands)
            self.stage.copies.append(Copy([src], dst, operands[1].endswith("/"), _SELF, loc))

    def _command(self, args: Word, loc: Loc) -> Command:
        assert self.stage is not None
        parsed = json_array(args)
        if parsed is not None:
            return Command(parsed, True, loc)
        return Command([*self.stage.shell, args], False, loc)

    def _do_cmd(self, args: Word, loc: Loc) -> None:
        assert self.stage is not None
        self.stage.cmd = self._command(args, loc)
        self.stage.cmd_set = True

    def _do_entrypoint(self, args: Word, loc: Loc) -> None:
        assert self.stage is not None
        self.stage.entrypoint = self._command(args, loc)
        if not self.stage.cmd_set:
            self.stage.cmd = None  # an inherited CMD is reset by a new ENTRYPOINT, as Docker does

    def _do_shell(self, args: Word, loc: Loc) -> None:
        assert self.stage is not None
        parsed = json_array(args)
        if not parsed:
            self.notice("SHELL must be a JSON array", loc)
            return
        self.stage.shell = parsed


def _context_path(text: str) -> str | None:
    """A COPY source as a path relative to the context; None when it leaves the context."""
    normal = posixpath.normpath("/" + text.lstrip("/"))
    return normal.lstrip("/")
