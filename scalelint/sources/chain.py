"""Resolve a container's launch chain: from manifest and Dockerfile to its server processes.

SPEC §8.  ``resolve(source, entrypoint, command, env, kubernetes=...)`` answers "which
long-running process groups does this container run, with how many workers and threads,
and where is each number written":

* ``source`` (:class:`Source`): the build context on disk and its Dockerfile (``None`` =
  a plain directory from a config ``sources:`` mapping), and the build ``target``.
* ``entrypoint`` / ``command``: the manifest's tokens as :class:`Arg` (compose
  ``entrypoint``/``command``, Kubernetes ``command``/``args``), ``None`` when not written.
  As in Docker and Kubernetes, an ``entrypoint`` replaces the image ENTRYPOINT **and
  clears the image CMD**; a ``command`` replaces CMD only.  The argv is ENTRYPOINT + CMD.
* ``env``: the manifest's env (already interpolated); it overrides the Dockerfile ``ENV``,
  which overrides ``ARG`` defaults.  With ``kubernetes=True``, ``$(VAR)`` in the manifest's
  tokens is expanded from that env, as the kubelet does.

Then the chain is followed: wrappers (``tini``, ``gosu``, ``exec``, ``python -m``...) are
skipped by :func:`scalelint.sources.argv.expand_shell`; ``sh -c`` strings and script
files that the Dockerfile's ``COPY`` maps back into the context are walked by
:mod:`scalelint.sources.script`; servers are read by :mod:`scalelint.sources.servers`
and :mod:`scalelint.sources.servers_more` (config files included); process managers'
children (uWSGI daemons, supervisord programs, Procfile lines) are followed in turn.
The result is a :class:`Launch`.  Nothing raises: what cannot be read becomes an unknown
value whose reason names the missing piece, plus a notice with a position.

Why this module is long: the resolver is one state machine (manifest → image → script →
server → children) whose steps share the visited set, the env and the notices; its readers
already live in their own modules.
"""
from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from scalelint.findings import Loc, Notice
from scalelint.model import Val, unknown

from . import argv as argvmod
from .chain_files import Root, copied_names, read_limited
from .chain_programs import Programs, looks_like_script, scriptish, shell_script_index
from .located import ArgOrigin, FileOrigin, Span, Word, WordBuilder
from .servers import Process
from .servers_config import Opened

if TYPE_CHECKING:
    # read only when a build context or a shell script is met: not every run pays for their import
    from .dockerfile import Dockerfile, Stage
    from .script import ScriptResult

__all__ = ["Arg", "Launch", "Process", "Source", "resolve"]

_SENTINEL = "\ue010"
_DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_MAX_HOPS = 64
_MAX_DEPTH = 12


@dataclass(frozen=True)
class Arg:
    """One manifest-written token and where it is; ``find(needles)`` locates the last of
    ``needles`` inside it (see :meth:`scalelint.model.Spot.find`)."""

    text: str
    loc: Loc
    find: Callable[[list[str]], Loc] | None = None


@dataclass(frozen=True)
class Source:
    """Where the image's files are: the build context, its Dockerfile, the build target."""

    root: str
    dockerfile: str | None
    target: str | None = None


@dataclass
class Launch:
    """The long-running process groups of a container and how they were found."""

    processes: list[Process] = field(default_factory=list)
    #: effective env: Dockerfile ARG/ENV below the manifest's, the main script's exports on top
    env: dict[str, Val[str]] = field(default_factory=dict)
    #: the chain followed, for messages: ("CMD", backend/Dockerfile:65:1), ...
    steps: list[tuple[str, Loc]] = field(default_factory=list)
    workdir: str | None = None
    notices: list[Notice] = field(default_factory=list)
    #: a container path → the build context's file it is a copy of (None: not copied, or no context)
    map_path: Callable[[str], str | None] | None = None


def resolve(
    source: Source | None, entrypoint: list[Arg] | None, command: list[Arg] | None,
    env: Mapping[str, Val[str]], *, kubernetes: bool,
) -> Launch:
    """Follow the launch chain of one container (see the module docstring)."""
    return _Resolver(source, env, kubernetes).run(entrypoint, command)


def _arg_word(arg: Arg) -> Word:
    if not arg.text:
        return Word("")
    return Word(arg.text, (Span(0, len(arg.text), ArgOrigin(arg.text, arg.loc, arg.find), 0),))


def _kube_expand(word: Word, env: dict[str, Word]) -> Word:
    """``$(VAR)`` from the container's own env, ``$$`` as ``$``; others stay as written."""
    if "$" not in word.text:
        return word
    builder = WordBuilder()
    at = 0
    for match in re.finditer(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)", word.text):
        builder.add(word[at:match.start()])
        name = match.group(1)
        if name is None:
            builder.add(word[match.start():match.start() + 1])
        elif name in env:
            builder.add(env[name])
        else:
            builder.add(word[match.start():match.end()])
        at = match.end()
    builder.add(word[at:])
    return builder.build()


class _Resolver:
    def __init__(self, source: Source | None, env: Mapping[str, Val[str]], kubernetes: bool) -> None:
        self.source = source
        self.root = Root(source.root) if source is not None else None
        self.kubernetes = kubernetes
        self.manifest_env = {name: Word.of_val(val, name) for name, val in env.items()}
        self.notices: list[Notice] = []
        self.steps: list[tuple[str, Loc]] = []
        self.dockerfile: Dockerfile | None = None
        self.stage: Stage | None = None
        self.missing = ""
        self.workdir: str | None = None
        self.env_out: dict[str, Word] | None = None
        self.hops = 0
        #: the image's ENTRYPOINT is not known and the manifest does not replace it
        self.head_unknown = False
        self.active: set[tuple[str, tuple[str, ...]]] = set()
        self.origins: dict[str, FileOrigin] = {}
        self.programs = Programs(self)

    def notice(self, message: str, where: Loc | None) -> None:
        if where is None:
            self.notices.append(Notice(message))
        else:
            self.notices.append(Notice(message, where.path, where.line, where.column))

    # --- the image -----------------------------------------------------------------------------
    def run(self, entrypoint: list[Arg] | None, command: list[Arg] | None) -> Launch:
        self._load_image()
        env = self._image_env()
        env.update(self.manifest_env)
        argv = self._argv(entrypoint, command)
        processes: list[Process] = []
        if argv is None:
            why = self.missing or "the image's command is not in the deploy files"
            processes.append(Process("image command", None, unknown(None, why), unknown(None, why), None, False,
                                     None, []))
        elif not argv:
            self.notice("the container has no command (no ENTRYPOINT, CMD or manifest command)", None)
        else:
            cwd = self.workdir if self.workdir is not None else ("/" if self.root is not None else None)
            processes = self.follow(argv, env, cwd, 0, True)
        final = self.env_out if self.env_out is not None else env
        return Launch(processes, {name: word.value() for name, word in final.items()}, self.steps, self.workdir,
                      self.notices, self.map if self.root is not None else None)

    def _load_image(self) -> None:
        source = self.source
        if source is None or self.root is None:
            self.missing = "no build context or sources mapping: the image's command is not in the deploy files"
            return
        if not self.root.exists:
            self.missing = f"build context {source.root!r} not found"
            self.notice(self.missing, None)
            return
        if source.dockerfile is None:
            return
        text, why = read_limited(source.dockerfile)
        path = posixpath.normpath(source.dockerfile.replace("\\", "/"))
        if text is None:
            self.missing = f"Dockerfile {path} {why}"
            self.notice(self.missing, Loc(path))
            return
        from .dockerfile import parse_dockerfile

        self.dockerfile = parse_dockerfile(text, path)
        self.stage = self.dockerfile.stage(source.target)  # may add a notice: an unknown target
        self.notices.extend(self.dockerfile.notices)
        if self.stage is None:
            self.missing = f"Dockerfile {path} has no stage"
            return
        self.workdir = self.stage.workdir

    def _image_env(self) -> dict[str, Word]:
        if self.stage is None:
            return {}
        env = {name: word for name, word in self.stage.args.items() if word is not None}
        env.update(self.stage.env)
        return env

    def _argv(self, entrypoint: list[Arg] | None, command: list[Arg] | None) -> list[Word] | None:
        def words(args: list[Arg]) -> list[Word]:
            out = [_arg_word(a) for a in args]
            return [_kube_expand(w, self.manifest_env) for w in out] if self.kubernetes else out

        stage = self.stage
        known_image = stage is not None
        self.head_unknown = entrypoint is None and not known_image
        if entrypoint is not None:
            self._step("command" if self.kubernetes else "entrypoint", entrypoint)
            tail = words(command) if command is not None else []
            if command is not None:
                self._step("args" if self.kubernetes else "command", command)
            return words(entrypoint) + tail
        head: list[Word] = []
        if stage is not None and stage.entrypoint is not None:
            head = list(stage.entrypoint.argv)
            self.steps.append(("ENTRYPOINT", stage.entrypoint.loc))
        if command is not None:
            self._step("args" if self.kubernetes else "command", command)
            if not known_image:
                self.steps.append(("image ENTRYPOINT unknown: the command is read alone", command[0].loc
                                   if command else Loc("")))
            return head + words(command)
        if not known_image:
            return None
        if stage is not None and stage.cmd is not None:
            self.steps.append(("CMD", stage.cmd.loc))
            return head + list(stage.cmd.argv)
        return head

    def _step(self, name: str, args: list[Arg]) -> None:
        if args:
            self.steps.append((name, args[0].loc))

    # --- files ---------------------------------------------------------------------------------
    def map(self, container: str) -> str | None:
        """The context path of the file at the absolute container path ``container``."""
        if self.root is None or not self.root.exists:
            return None
        if self.dockerfile is not None and self.stage is not None:
            return self.dockerfile.map_path(self.stage, container, self.root.kind)
        if self.source is not None and self.source.dockerfile is not None:
            return None
        parts = [p for p in container.split("/") if p]
        for i in range(len(parts)):  # a plain directory: the longest suffix that exists in it
            rel = "/".join(parts[i:])
            if self.root.kind(rel) == "file":
                return rel
        return None

    def container_path(self, path: str, cwd: str | None) -> str | None:
        if path.startswith("/"):
            return posixpath.normpath(path)
        return posixpath.normpath(posixpath.join(cwd, path)) if cwd is not None else None

    def why_unmapped(self, container: str) -> str:
        if self.root is None or not self.root.exists or self.missing:
            return self.missing or "no build context"
        if self.dockerfile is not None:
            return f"{container} is not copied from the build context by {self.dockerfile.path}"
        return f"{container} is not in {self.root.root}"

    def open(self, path: str, cwd: str | None) -> Opened:
        container = self.container_path(path, cwd)
        if container is None:
            return Opened(None, path, "the working directory is not known")
        if self.root is None:
            return Opened(None, container, self.missing or "no build context")
        rel = self.map(container)
        if rel is None:
            return Opened(None, container, self.why_unmapped(container))
        return self.open_rel(rel, container)

    def open_rel(self, rel: str, container: str) -> Opened:
        assert self.root is not None
        if rel not in self.origins:
            text, why = self.root.read(rel)
            if text is None:
                return Opened(None, container, f"{self.root.display(rel)} {why}")
            self.origins[rel] = FileOrigin(self.root.display(rel), text)
        return Opened(self.origins[rel], container)

    def locate(self, text: str, cwd: str | None, env: dict[str, Word]) -> str | None:
        """The context path of a program named ``text`` (a path, or a name looked up in PATH)."""
        if "/" in text:
            container = self.container_path(text, cwd)
            return self.map(container) if container is not None else None
        path = env["PATH"].text if "PATH" in env and env["PATH"].unknown_span() is None else _DEFAULT_PATH
        for directory in path.split(":")[:32]:
            if directory.startswith("/"):
                found = self.map(posixpath.join(directory, text))
                if found is not None:
                    return found
        return None

    def glob(self, pattern: str, cwd: str | None) -> list[str]:
        """Container paths matching ``pattern`` among the files the image copies from the context."""
        container = self.container_path(pattern, cwd)
        if container is None or self.root is None or self.stage is None:
            return []
        directory, name = posixpath.split(container)
        names = copied_names(self.root, self.stage, directory)
        return sorted(posixpath.join(directory, n) for n in names if fnmatch.fnmatchcase(n, name))

    # --- following -----------------------------------------------------------------------------
    def follow(self, argv: list[Word], env: dict[str, Word], cwd: str | None, depth: int, main: bool) -> list[Process]:
        """The processes an argv starts, wrappers and scripts followed."""
        self.hops += 1
        if self.hops > _MAX_HOPS or depth > _MAX_DEPTH:
            self.notice("launch chain too long or circular: not followed further", argv[0].loc(0) if argv else None)
            return []
        while argv and not argv[0].text:
            argv = argv[1:]
        if not argv:
            return []
        texts = [w.text for w in argv]
        scripts: dict[int, str | None] = {}
        protected = list(texts)
        for i, text in enumerate(texts):
            if not scriptish(text):
                continue
            rel = self.locate(text, cwd, env)
            if rel is not None or (self.source is not None and looks_like_script(text)):
                scripts[i] = rel
                protected[i] = f"{_SENTINEL}{i}"
        commands = argvmod.expand_shell(protected)
        nested = next((origin for _t, origin, is_nested in commands if is_nested), None)
        if nested is None and not commands:
            nested = shell_script_index(texts)
        if nested is not None:
            name = argv[nested + 1] if nested + 1 < len(argv) else None
            from .script import run_script

            result = run_script(argv[nested], argv[nested + 2:], env, name=name, cwd=cwd,
                                is_server=self.programs.is_server, include=self._include)
            return self.after_script(result, argv[nested].loc(0), depth, main)
        if not commands:
            self.notice("the command line starts no program", argv[0].loc(0))
            return []
        tokens, origin, _ = commands[0]
        words = list(argv[origin:origin + len(tokens)])
        if tokens[0] != protected[origin]:
            words[0] = Word.plain(tokens[0], words[0].loc(0))
        if origin in scripts:
            return self.run_file(scripts[origin], words, env, cwd, depth, main)
        if depth == 0 and self.head_unknown and not self.programs.recognized(tokens):
            why = (f"{tokens[0]!r} may be an argument of the image's ENTRYPOINT, which is not known "
                   f"({self.missing or 'no Dockerfile'})")
            return [self.programs.unreadable(words, why)]
        return self.programs.program(words, env, cwd, depth, main)

    def _include(self, path: str, cwd: str | None) -> Word | None:
        opened = self.open(path, cwd)
        return opened.origin.word() if opened.origin is not None else None

    def run_file(self, rel: str | None, words: list[Word], env: dict[str, Word], cwd: str | None, depth: int,
                 main: bool) -> list[Process]:
        """A program that is a file of the context: a shell script is walked, Python is read as such."""
        where = words[0].loc(0)
        container = self.container_path(words[0].text, cwd) or words[0].text
        opened = self.open_rel(rel, container) if rel is not None else Opened(None, container,
                                                                                 self.why_unmapped(container))
        if opened.origin is None:
            why = f"launch script {words[0].text} not read: {opened.reason}"
            self.notice(why, where)
            return [Process(words[0].text, None, unknown(where, why), unknown(where, why), None, False, None,
                            [w.text for w in words])]
        text = opened.origin.text
        shebang = text.split("\n", 1)[0] if text.startswith("#!") else ""
        if "python" in shebang or words[0].text.endswith(".py"):
            return self.programs.python_file(words, 0, rel, env, cwd, depth, main)
        if shebang and not re.search(r"\b(ba|da|a|z|k)?sh\b", shebang):
            return [self.programs.plain(words)]
        key = (rel or "", tuple(w.text for w in words[1:]))
        if key in self.active:
            self.notice(f"{words[0].text} runs itself: not followed again", where)
            return []
        self.steps.append((f"script {opened.origin.path}", Loc(opened.origin.path, 1, 1)))
        self.active.add(key)
        try:
            from .script import run_script

            result = run_script(opened.origin.word(), words[1:], env, name=words[0], cwd=cwd,
                                is_server=self.programs.is_server, include=self._include)
            return self.after_script(result, Loc(opened.origin.path, 1, 1), depth, main)
        finally:
            self.active.discard(key)

    def after_script(self, result: ScriptResult, where: Loc | None, depth: int, main: bool) -> list[Process]:
        """The processes a walked script leaves running: its exec'd or last command, and ``&`` servers."""
        self.notices.extend(result.notices)
        self.steps.extend(result.steps)
        if result.unreadable:
            return [Process("launch script", None, unknown(where, result.unreadable), unknown(where, result.unreadable),
                            None, False, None, [])]
        processes: list[Process] = []
        for started in result.background:
            if self.programs.is_server([w.text for w in started]):
                processes.extend(self.follow(started, result.env, result.cwd, depth + 1, False))
        command = result.command
        if command is None:
            if result.exited is not None:
                self.notice("the script exits here before starting a server", result.exited)
            elif not processes:
                self.notice("the script starts no long-running command", where)
            return processes
        if not result.exec and self.programs.one_off(command):
            if not processes:
                text = " ".join(w.text for w in command)[:80]
                at = result.exited or result.where
                self.notice(f"the script ends with the one-off command {text!r}: no server is started", at)
            return processes
        if result.where is not None:
            self.steps.append(("exec" if result.exec else "runs", result.where))
        if main:
            self.env_out = result.env
        processes.extend(self.follow(command, result.env, result.cwd, depth + 1, main))
        return processes

