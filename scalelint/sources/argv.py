"""Read a container's command line: which server it runs and how many workers it asks for.

Manifests rarely state a worker count as data: it hides in argv, often inside a ``sh -c``
script and behind wrappers (``tini``, ``ddtrace-run``, ``python -m``), which
:mod:`.cmdline` takes apart.  Every function here takes the effective argv as the caller
built it and reports indexes into that very list, so a finding can point at the token in
the file.  Nothing here raises on odd input: a linter meets every kind of hand-written
script and must keep going.
"""
from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from scalelint.sources.cmdline import SHELLS, Command, basename, expand_shell, skip_options

__all__ = [
    "SHELLS", "ArgHit", "Command", "empty_worker_flag", "env_references", "expand_shell", "find_workers", "gunicorn_cmd_args_workers",
    "server_name", "server_of",
]


@dataclass(frozen=True)
class ArgHit:
    """One flag value found in argv, with what a finding needs to quote and locate it."""

    value: str
    index: int
    server: str
    flag: str
    nested: bool


# Program basename -> server family; families, not binaries, are what rules reason about.
_SERVERS = {
    "gunicorn": "gunicorn", "gunicorn3": "gunicorn", "uvicorn": "uvicorn",
    "hypercorn": "hypercorn", "granian": "granian", "uwsgi": "uwsgi", "celery": "celery",
    "fastapi": "fastapi", "postgres": "postgres", "postmaster": "postgres",
    "mysqld": "mysqld", "mariadbd": "mysqld", "mysqld_safe": "mysqld",
    "mariadbd-safe": "mysqld",
}

# Scanned left to right like Kubernetes does: "$$(" is an escape, "$$" before another "$"
# is one literal dollar, then $(NAME), ${NAME...} / ${#NAME}, $NAME, with or without "$$".
_REFERENCE = re.compile(
    r"\$\$\(|\$\$(?=\$)|\$?\$(?:\(([A-Za-z_]\w*)\)|\{[#!]?([A-Za-z_]\w*)|([A-Za-z_]\w*))",
    re.ASCII,
)


@dataclass(frozen=True)
class _Flags:
    """How one server spells its worker count; ``subcommand`` gates CLIs like celery's."""

    long: tuple[str, ...]
    short: tuple[str, ...] = ()
    subcommand: str | None = None


_WORKER_FLAGS = {
    "gunicorn": _Flags(("--workers",), ("-w",)),
    "uvicorn": _Flags(("--workers",)),
    "hypercorn": _Flags(("--workers",), ("-w",)),
    "granian": _Flags(("--workers",)),
    "uwsgi": _Flags(("--processes", "--workers"), ("-p",)),
    "celery": _Flags(("--concurrency",), ("-c",), "worker"),
    "fastapi": _Flags(("--workers",), (), "run"),
}
# Global options that take a value before the subcommand (so the value is not mistaken
# for the subcommand itself).
_SUBCOMMAND_VALUED = frozenset({
    "-A", "--app", "-b", "--broker", "--result-backend", "--loader", "--config", "--workdir",
})


def server_name(program: str) -> str | None:
    """Map a program token (``/usr/local/bin/gunicorn``) to its server family, or None."""
    return _SERVERS.get(basename(program))


def _is_value(text: str) -> bool:
    """A flag's argument: present, and not the next option."""
    return bool(text) and not (text.startswith("-") and not text[1:].isdigit())


def _last_flag(tokens: Sequence[str], start: int, flags: _Flags) -> tuple[str, int, str] | None:
    """The last ``(value, position, flag)`` setting one of ``flags``: the CLIs let it win."""
    found: tuple[str, int, str] | None = None
    j = start
    while j < len(tokens):
        token = tokens[j]
        if token == "--":
            break
        following = tokens[j + 1] if j + 1 < len(tokens) else ""
        step = 1
        for name in (*flags.long, *flags.short):
            if token == name:
                if _is_value(following):
                    found, step = (following, j + 1, name), 2
                break
            if token.startswith(name + "="):
                value = token[len(name) + 1:]
                if _is_value(value):
                    found = (value, j, name)
                break
            if name in flags.short and token.startswith(name) and not token.startswith("--"):
                value = token[len(name):]  # -w4 / -c$N; other letters are other options
                if value[:1].isdigit() or value.startswith("$"):
                    found = (value, j, name)
                    break
        j += step
    return found


def find_workers(argv: Sequence[str]) -> ArgHit | None:
    """The first server invocation in argv that sets a worker count, as written.

    Variable references are returned verbatim: resolving them is the caller's business,
    which knows the container's environment.
    """
    for tokens, origin, nested in expand_shell(argv):
        server = server_name(tokens[0])
        if server is None or server not in _WORKER_FLAGS:
            continue
        flags = _WORKER_FLAGS[server]
        start = 1
        if flags.subcommand is not None:
            position = skip_options(tokens, 1, _SUBCOMMAND_VALUED)
            if position >= len(tokens) or tokens[position] != flags.subcommand:
                continue
            start = position + 1
        found = _last_flag(tokens, start, flags)
        if found is not None:
            value, position, flag = found
            index = origin if nested else origin + position
            return ArgHit(value, index, server, flag, nested)
    return None


def server_of(argv: Sequence[str]) -> str | None:
    """The family of the first known server argv runs (``gunicorn``, ``postgres``...)."""
    for tokens, _origin, _nested in expand_shell(argv):
        server = server_name(tokens[0])
        if server is not None:
            return server
    return None


def env_references(argv: Sequence[str]) -> set[str]:
    """Every variable name argv refers to, whoever expands it: compose, Kubernetes, a shell.

    ``$VAR``, ``${VAR}``, ``${VAR<op>...}`` (also nested in the default), ``${#VAR}`` and
    Kubernetes ``$(VAR)`` count.  ``$$(VAR)`` is an escape (it reaches the container as a
    command substitution) and does not; ``$$VAR`` reaches a shell as ``$VAR`` and does.
    """
    return {
        next(filter(None, match.groups()))
        for token in argv
        for match in _REFERENCE.finditer(token)
        if any(match.groups())
    }


def gunicorn_cmd_args_workers(value: str) -> str | None:
    """The worker count inside a ``GUNICORN_CMD_ARGS`` string, which gunicorn parses too."""
    try:
        tokens = shlex.split(value)
    except ValueError:
        return None
    found = _last_flag(tokens, 0, _WORKER_FLAGS["gunicorn"])
    return None if found is None else found[0]


def empty_worker_flag(argv: Sequence[str]) -> ArgHit | None:
    """A worker flag written without its value (``--workers`` last or before another option,
    ``--workers=``): what a compose ``${WORKERS}`` leaves behind when the variable is unset.
    The server refuses to start, so the count is unknown rather than the server's default."""
    for tokens, origin, nested in expand_shell(argv):
        server = server_name(tokens[0])
        if server is None or server not in _WORKER_FLAGS:
            continue
        flags = _WORKER_FLAGS[server]
        for j in range(1, len(tokens)):
            token = tokens[j]
            if token == "--":
                break
            following = tokens[j + 1] if j + 1 < len(tokens) else ""
            for name in (*flags.long, *flags.short):
                if (token == name and not _is_value(following)) or token == name + "=":
                    return ArgHit("", origin if nested else origin + j, server, name, nested)
    return None
