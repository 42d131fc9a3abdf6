"""Which program a command line runs, and which reader answers for it (part of the chain).

:class:`Programs` is the dispatch table of :mod:`scalelint.sources.chain`: a server goes to
its reader, a Python program to the ``manage.py`` rules, a process manager's children back
into the chain.  It also knows the one-off commands (migrations, waits, ``echo``) that a
script may end with without starting a server.
"""
from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol

from scalelint.findings import Loc, Notice
from scalelint.model import Val, unknown

from . import argv as argvmod
from .chain_files import Root
from .located import Word
from .servers import Child, Found, Process, daphne, fastapi, granian, gunicorn, hypercorn, uvicorn
from .servers_config import Ctx, Opened
from .servers_more import celery, devserver, flower, honcho, one_process, rq, supervisord, unit, uwsgi


class _Resolver(Protocol):
    """What the program readers ask of the chain resolver (:class:`scalelint.sources.chain._Resolver`),
    named here so that the resolver's module and this one do not import each other."""

    root: Root | None
    missing: str
    notices: list[Notice]
    steps: list[tuple[str, Loc]]

    def notice(self, message: str, where: Loc | None) -> None: ...

    def open(self, path: str, cwd: str | None) -> Opened: ...

    def glob(self, pattern: str, cwd: str | None) -> list[str]: ...

    def map(self, container: str) -> str | None: ...

    def container_path(self, path: str, cwd: str | None) -> str | None: ...

    def locate(self, text: str, cwd: str | None, env: dict[str, Word]) -> str | None: ...

    def _include(self, path: str, cwd: str | None) -> Word | None: ...

    def follow(self, argv: list[Word], env: dict[str, Word], cwd: str | None, depth: int,
               main: bool) -> list[Process]: ...

    def run_file(self, rel: str | None, words: list[Word], env: dict[str, Word], cwd: str | None, depth: int,
                 main: bool) -> list[Process]: ...

__all__ = ["Programs", "looks_like_script", "scriptish", "shell_script_index", "times"]

_READERS = {"gunicorn": gunicorn, "uvicorn": uvicorn, "hypercorn": hypercorn, "granian": granian,
            "fastapi": fastapi, "uwsgi": uwsgi, "celery": celery}
_LAUNCHERS = frozenset({"supervisord", "daphne", "rq", "rqworker", "honcho", "foreman", "forego", "flower", "unitd"})
_ONE_OFF_PROGRAMS = frozenset({
    "echo", "printf", "true", "false", ":", "chown", "chmod", "chgrp", "mkdir", "cp", "mv", "rm", "ln", "touch", "cat",
    "sed", "awk", "envsubst", "test", "[", "wait-for-it", "wait-for-it.sh", "wait-for", "wait-for.sh", "curl",
    "wget", "pip", "pip3", "apt-get", "apk", "tar", "find", "ls", "id", "whoami", "date", "env", "export", "tee",
    "nc", "pg_isready", "psql", "mysql", "mysqladmin", "alembic", "createdb", "dockerize",
})
_ONE_OFF_MANAGE = frozenset({
    "migrate", "collectstatic", "compilemessages", "makemigrations", "createsuperuser", "check", "loaddata",
    "compress", "wait_for_db", "wait_for_database", "create_roles", "create_admin", "createcachetable", "shell",
    "dbshell", "showmigrations", "sqlmigrate", "update_index", "rebuild_index", "clearsessions", "version",
    "database", "db", "init", "ensure_adminuser", "load_initial_data",
})
_ONE_OFF_SCRIPT = re.compile(r"(ping|wait|check|migrat|init|setup|prestart|pre_start|seed|bootstrap)", re.IGNORECASE)


def _base(text: str) -> str:
    return text.rstrip("/").rsplit("/", 1)[-1]


class Programs:
    def __init__(self, chain: _Resolver) -> None:
        self.chain = chain

    # --- questions the script walker and the chain ask -----------------------------------------
    def is_server(self, texts: Sequence[str]) -> bool:
        """Whether a command line starts a long-running server (for choosing branches)."""
        texts = [t for t in texts if t]
        if not texts:
            return False
        if argvmod.server_of(texts) is not None:
            return True
        commands = argvmod.expand_shell(texts)
        if not commands:
            return False
        tokens = commands[0][0]
        base = _base(tokens[0])
        if base in _LAUNCHERS or base == "exec":
            return True
        return "runserver" in tokens[1:3] or (base.startswith("python") and "runserver" in tokens)

    def recognized(self, tokens: Sequence[str]) -> bool:
        """A program this module knows how to read (a server, a launcher, Python, a shell, a one-off)."""
        base = _base(tokens[0])
        return (argvmod.server_name(tokens[0]) is not None or base in _LAUNCHERS or base in _ONE_OFF_PROGRAMS
                or base.startswith("python") or base.endswith(".py") or base in argvmod.SHELLS
                or base in ("flask", "django-admin", "rq", "rqworker", "rqscheduler", "unitd", "sleep"))

    def one_off(self, words: list[Word]) -> bool:
        """A command that runs and ends (a migration, a wait, ``echo``): not a server."""
        commands = argvmod.expand_shell([w.text for w in words])
        if not commands:
            return True
        tokens = commands[0][0]
        base = _base(tokens[0])
        if base in _ONE_OFF_PROGRAMS:
            return True
        if base == "sleep":
            return not (len(tokens) > 1 and tokens[1] in ("infinity", "inf"))
        if base == "flask":
            return len(tokens) > 1 and tokens[1] != "run"
        if base.startswith("python") or base.endswith("manage.py") or base == "django-admin":
            rest = tokens[1:] if not base.startswith("python") else [t for t in tokens[1:] if not t.startswith("-")]
            script = rest[0] if rest and base.startswith("python") else tokens[0]
            if script.endswith("manage.py") or base == "django-admin":
                sub_at = 1 if base.startswith("python") or base == "django-admin" else 0
                sub = rest[sub_at] if len(rest) > sub_at else ""
                return sub in _ONE_OFF_MANAGE
            return bool(_ONE_OFF_SCRIPT.search(_base(script)))
        return False

    # --- dispatch ------------------------------------------------------------------------------
    def program(self, words: list[Word], env: dict[str, Word], cwd: str | None, depth: int,
                main: bool) -> list[Process]:
        chain = self.chain
        ctx = Ctx(dict(env), cwd, chain.open, chain.glob, chain.notices, chain.steps)
        text = words[0].text
        base = _base(text)
        server = argvmod.server_name(text)
        texts = [w.text for w in words]
        found: Found | None = None
        if server in _READERS:
            found = _READERS[server](words, ctx)
        elif server is not None:  # a database or another non-Python server
            return [one_process(base, server, words)]
        elif base == "daphne":
            found = daphne(words, ctx)
        elif base in ("rq", "rqworker", "rqscheduler"):
            found = rq(words, ctx, 1 if base == "rq" else 0)
        elif base == "supervisord":
            found = supervisord(words, ctx)
        elif base in ("honcho", "foreman", "forego") and "start" in texts[1:2]:
            found = honcho(words, ctx)
        elif base in ("unitd", "unitd-debug"):
            found = unit(words, ctx, chain.glob("/docker-entrypoint.d/*.json", "/"))
        elif base == "flower":
            return [flower("flower", words)]
        elif base == "flask" and "run" in texts:
            found = devserver("flask", words, texts.index("run"))
        elif base == "django-admin":
            return self.manage(words, 1, None, env, cwd, depth)
        elif base.startswith("python") or base.endswith(".py"):
            return self.python_file(words, 0, None, env, cwd, depth, main)
        elif base in argvmod.SHELLS and len(words) > 1 and not texts[1].startswith("-"):
            container = chain.container_path(texts[1], cwd)
            return chain.run_file(chain.map(container) if container else None, words[1:], env, cwd, depth, main)
        if found is None:
            if looks_like_script(text):  # a launch script scalelint cannot read
                return chain.run_file(None, words, env, cwd, depth, main) if chain.root is not None else [
                    self.unreadable(words, f"launch script {text} is in the image: {chain.missing}")]
            return [self.plain(words)]
        processes = list(found.processes)
        for child in found.children:
            processes.extend(self.follow_child(child, env, depth))
        return processes

    def unreadable(self, words: list[Word], why: str) -> Process:
        where = words[0].loc(0)
        self.chain.notice(why, where)
        return Process(words[0].text, None, unknown(where, why), unknown(where, why), None, False, None,
                       [w.text for w in words])

    def plain(self, words: list[Word]) -> Process:
        """A program scalelint does not know: one process, not a Python server it can read."""
        return one_process(_base(words[0].text), None, words)

    def python_file(self, words: list[Word], start: int, rel: str | None, env: dict[str, Word], cwd: str | None,
                    depth: int, main: bool) -> list[Process]:
        """``python [opts] script.py ...`` or an executable Python file: ``manage.py`` commands are known."""
        i = start
        if _base(words[i].text).startswith("python"):
            i += 1
            while i < len(words) and words[i].text.startswith("-"):
                i += 2 if words[i].text in ("-X", "-W") else 1
        if i >= len(words):
            return [self.plain(words)]
        script = words[i].text
        if script.endswith("manage.py"):
            if rel is None and ("/" in script or cwd is not None):
                rel = self.chain.locate(script if "/" in script else f"./{script}", cwd, env)
            return self.manage(words, i + 1, rel, env, cwd, depth)
        return [one_process(f"python {script}", None, words, words[i].loc(0))]

    def manage(self, words: list[Word], at: int, rel: str | None, env: dict[str, Word], cwd: str | None,
               depth: int) -> list[Process]:
        sub = words[at].text if at < len(words) else ""
        ctx = Ctx(dict(env), cwd, self.chain.open, self.chain.glob, self.chain.notices, self.chain.steps)
        if sub == "runserver":
            return devserver(self._manage_kind(rel), words, at).processes
        if sub == "rqworker":
            return rq(words, ctx, at).processes
        if sub == "rq" and at + 1 < len(words):
            return rq(words, ctx, at + 1).processes
        where = words[at].loc(0) if at < len(words) else words[0].loc(0)
        return [one_process(f"manage.py {sub}".strip(), None, words, where)]

    def _manage_kind(self, rel: str | None) -> str:
        """``manage.py runserver``: Django's, unless the file (or what it imports) is Flask's."""
        root = self.chain.root
        if rel is None or root is None:
            return "django-runserver"
        text = root.read(rel)[0] or ""
        if "django" in text.lower():
            return "django-runserver"
        here = posixpath.dirname(rel)
        for module in re.findall(r"^\s*(?:from|import)\s+([\w.]+)", text, re.MULTILINE)[:10]:
            base = posixpath.join(here, *module.split("."))
            for candidate in (f"{base}.py", f"{base}/__init__.py"):
                if "flask" in (root.read(candidate)[0] or "").lower() if root.kind(candidate) == "file" else False:
                    return "flask"
        return "flask" if "flask" in text.lower() else "django-runserver"

    def follow_child(self, child: Child, env: dict[str, Word], depth: int) -> list[Process]:
        """A command a process manager starts: read like ``sh -c``, multiplied by its count."""
        chain = self.chain
        child_env = {**env, **child.env}
        from .script import run_script  # a shell script's reader: imported when one is met

        result = run_script(child.command, [], child_env, cwd=child.cwd, is_server=self.is_server,
                            include=chain._include)
        chain.notices.extend(result.notices)
        if result.unreadable:
            return [self.unreadable([child.command], f"{child.label}: {result.unreadable}")]
        if result.command is None:
            chain.notice(f"{child.label}: no command to follow", child.command.loc(0))
            return []
        processes = chain.follow(result.command, result.env, result.cwd, depth + 1, False)
        out = []
        for process in processes:
            process = times(child.count, process)
            process.label = child.label if process.server is None else f"{child.label} ({process.label})"
            if process.workers.value is None and child.count is not None and child.count.value is None:
                process.workers = unknown(child.count.loc, child.count.reason)
            out.append(process)
        return out


def times(count: Val[int] | None, process: Process) -> Process:
    """``count`` copies of a process group (supervisord numprocs, Procfile concurrency)."""
    if count is None:
        return process
    workers = process.workers
    formula = process.cpu_formula
    if count.value is None:
        return replace(process, workers=count, cpu_formula=None)
    if workers.value is None:
        if formula is not None:
            formula = (formula[0] * count.value, formula[1] * count.value)
        return replace(process, cpu_formula=formula)
    if count.value == 1:
        return process
    if workers.value == 1:
        return replace(process, workers=count)
    return replace(process, workers=Val(count.value * workers.value, count.loc, count.state, count.reason))


def scriptish(text: str) -> bool:
    """A token that may name a file of the image (a path, ``x.sh``, ``docker-entrypoint``)."""
    if not text or any(c in text for c in " \t\n;|&$") or text.startswith("-"):
        return False
    return "/" in text or looks_like_script(text)


def looks_like_script(text: str) -> bool:
    base = text.rstrip("/").rsplit("/", 1)[-1]
    return " " not in text and (base.endswith(".sh") or "entrypoint" in base)


def shell_script_index(texts: list[str]) -> int | None:
    """Where the ``-c`` script of a shell is, when argv could not split it (a syntax error)."""
    for i, text in enumerate(texts):
        if text.rsplit("/", 1)[-1] in argvmod.SHELLS:
            for j in range(i + 1, len(texts)):
                if texts[j].startswith("-") and "c" in texts[j][1:] and j + 1 < len(texts):
                    return j + 1
            return None
    return None

