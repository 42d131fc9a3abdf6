"""Read a container's command line: which server it runs and how many workers it asks for.

Manifests rarely state a worker count as data: it hides in argv, often inside a ``sh -c``
script and behind wrappers (``tini``, ``ddtrace-run``, ``python -m``).  Every function here
takes the effective argv as the caller built it and reports indexes into that very list, so
a finding can point at the token in the file.  Nothing here raises on odd input: a linter
meets every kind of hand-written script and must keep going.
"""
from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "ArgHit", "empty_worker_flag", "env_references", "expand_shell", "find_workers", "gunicorn_cmd_args_workers",
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


SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh"})

# Program basename -> server family; families, not binaries, are what rules reason about.
_SERVERS = {
    "gunicorn": "gunicorn", "gunicorn3": "gunicorn", "uvicorn": "uvicorn",
    "hypercorn": "hypercorn", "granian": "granian", "uwsgi": "uwsgi", "celery": "celery",
    "fastapi": "fastapi", "postgres": "postgres", "postmaster": "postgres",
    "mysqld": "mysqld", "mariadbd": "mysqld", "mysqld_safe": "mysqld",
    "mariadbd-safe": "mysqld",
}

_RESERVED = frozenset({"if", "then", "else", "elif", "do", "while", "until", "!", "{", "time"})
_NO_VALUES: frozenset[str] = frozenset()
_RUN = (frozenset({"run"}), frozenset({
    "--with", "--with-requirements", "--python", "-p", "--project", "--directory",
    "--env-file", "--extra", "--group", "--only-group", "--package", "--index", "-e", "--env",
}))
# Launchers in front of the real program: basename -> (the subcommand that makes it one,
# if any; its options that take a value, or None when it has no options of its own and
# passes every argument on; "--*": every long option does).  Options end at the first
# operand or at "--".
_WRAPPERS: dict[str, tuple[frozenset[str], frozenset[str] | None]] = {
    **dict.fromkeys(
        ("nohup", "ddtrace-run", "docker-entrypoint.sh", "docker-entrypoint"), (_NO_VALUES, None)
    ),
    "exec": (_NO_VALUES, frozenset({"-a"})),
    "env": (_NO_VALUES, frozenset({"-u", "--unset", "-C", "--chdir"})),
    "setsid": (_NO_VALUES, _NO_VALUES),
    "dumb-init": (_NO_VALUES, frozenset({"-r", "--rewrite"})),
    "tini": (_NO_VALUES, frozenset({"-e", "-p"})),
    "tini-static": (_NO_VALUES, frozenset({"-e", "-p"})),
    **dict.fromkeys(("poetry", "pipenv", "uv", "pdm", "rye", "hatch"), _RUN),
    "newrelic-admin": (frozenset({"run-program", "run-python"}), None),
    "opentelemetry-instrument": (_NO_VALUES, frozenset({"--*"})),
    "watchmedo": (frozenset({"auto-restart"}), frozenset({
        "-d", "--directory", "-p", "--patterns", "--pattern", "-i", "--ignore-patterns",
        "--ignore-pattern", "--signal", "--kill-after", "--interval", "--debounce-interval",
    })),
}
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\+?=")
_PYTHON = re.compile(r"python(\d+(\.\d+)*)?")
# Scanned left to right like Kubernetes does: "$$(" is an escape, "$$" before another "$"
# is one literal dollar, then $(NAME), ${NAME...} / ${#NAME}, $NAME, with or without "$$".
_REFERENCE = re.compile(
    r"\$\$\(|\$\$(?=\$)|\$?\$(?:\(([A-Za-z_]\w*)\)|\{[#!]?([A-Za-z_]\w*)|([A-Za-z_]\w*))",
    re.ASCII,
)

# Placeholders that keep ``$(...)``, ``${...}`` and backquotes whole while shlex splits a
# script: a value like ``${WORKERS:-4}`` or ``$(nproc)`` must come back as one token.
_SENT_OPEN, _SENT_CLOSE = "\ue000", "\ue001"
_SENTINEL = re.compile(f"{_SENT_OPEN}(\\d+){_SENT_CLOSE}")
_OPERATOR_CHARS = frozenset("();<>|&")
_MAX_DEPTH = 4  # sh -c inside sh -c inside ...: deeper than this is not worth reading

Command = tuple[list[str], int, bool]


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


def _basename(token: str) -> str:
    return token.rstrip("/").rsplit("/", 1)[-1]


def server_name(program: str) -> str | None:
    """Map a program token (``/usr/local/bin/gunicorn``) to its server family, or None."""
    return _SERVERS.get(_basename(program))


def expand_shell(argv: Sequence[str]) -> list[Command]:
    """Split argv into the simple commands a container really runs.

    Each item is ``(tokens, origin, nested)``.  For a top-level command ``tokens[i]`` is
    ``argv[origin + i]`` (wrappers are already dropped); for a command read out of a
    ``sh -c`` script ``origin`` is the index of the script token, since positions inside
    the string cannot be mapped back to the file token by token.  A script's ``"$@"``
    (``sh -c 'migrate && exec "$@"' -- gunicorn ...``) stands for the arguments after
    ``$0``, which are read as a top-level command again.
    """
    key = tuple(argv)
    commands = _EXPANDED.get(key)
    if commands is None:
        if len(_EXPANDED) >= _EXPANDED_MAX:
            _EXPANDED.clear()
        commands = _EXPANDED[key] = _expand(list(argv), 0, False, 0, None)
    return commands


#: one container's argv is read by several questions in a row (server, workers, empty flag, database
#: flags): expand it once. Callers only read the result.
_EXPANDED: dict[tuple[str, ...], list[Command]] = {}
_EXPANDED_MAX = 512


def _expand(
    tokens: list[str], origin: int, nested: bool, depth: int, positional: Command | None
) -> list[Command]:
    skipped, tokens = _strip_wrappers(tokens)
    if not nested:
        origin += skipped
    if positional is not None and tokens in (["$@"], ["${@}"]):
        return _expand(*positional, depth + 1, None)
    if not tokens:
        return []
    script_pos = _shell_script_position(tokens)
    if script_pos is None:
        return [(tokens, origin, nested)]
    if script_pos < 0 or depth >= _MAX_DEPTH:
        return []
    script_origin = origin if nested else origin + script_pos
    after = script_pos + 2  # the token after the script is $0
    arguments = (tokens[after:], origin if nested else origin + after, nested)
    commands: list[Command] = []
    for command in _split_script(tokens[script_pos]):
        commands.extend(_expand(command, script_origin, True, depth + 1, arguments))
    return commands


def _skip_options(tokens: list[str], i: int, valued: frozenset[str]) -> int:
    """Skip a wrapper's own options; ``--`` ends them, as getopt does."""
    while i < len(tokens):
        token = tokens[i]
        if token == "--":
            return i + 1
        if token in valued or ("--*" in valued and token.startswith("--") and "=" not in token):
            i += 2
        elif token.startswith("-") and len(token) > 1:
            i += 1
        else:
            break
    return i


def _python_module(tokens: list[str], i: int) -> int | None:
    """Index of the module that ``python [opts] -m MOD`` runs, or None for a script."""
    j = i + 1
    while j < len(tokens) and tokens[j].startswith("-") and tokens[j] != "-":
        token = tokens[j]
        if token.startswith(("-X", "-W", "--")) or "m" not in token:
            j += 2 if token in ("-X", "-W") else 1
        elif rest := token[token.index("m") + 1:]:  # "-mgunicorn": put the module first
            tokens[j] = rest
            return j
        else:
            return j + 1 if j + 1 < len(tokens) else None
    return None


def _strip_wrappers(tokens: list[str]) -> tuple[int, list[str]]:
    """Drop launchers and assignments in front of the real program.

    Returns how many leading tokens were dropped and the remaining tokens (a copy, whose
    first token may be rewritten for ``python -mMOD``; positions stay aligned).
    """
    tokens = list(tokens)
    i = 0
    while i < len(tokens):
        token = tokens[i]
        base = _basename(token)
        following = tokens[i + 1] if i + 1 < len(tokens) else ""
        if _ASSIGNMENT.match(token) or token in _RESERVED:
            i += 1
        elif base in _WRAPPERS:
            subcommands, valued = _WRAPPERS[base]
            if subcommands and following not in subcommands:
                break
            i += 1 + bool(subcommands)
            if valued is not None:
                i = _skip_options(tokens, i, valued)
        elif base in ("gosu", "su-exec"):  # they take the user to run as
            i += 2
        elif base in ("wait-for-it", "wait-for-it.sh"):  # runs only what follows "--"
            i = tokens.index("--", i) + 1 if "--" in tokens[i:] else len(tokens)
        elif _PYTHON.fullmatch(base):
            module = _python_module(tokens, i)
            if module is None:
                break
            i = module
        else:
            break
    i = min(i, len(tokens))
    return i, tokens[i:]


def _shell_script_position(tokens: list[str]) -> int | None:
    """Where the ``-c`` script sits in a shell invocation.

    None when this is not ``SHELL ... -c``; -1 when it is but the script is missing.
    The script is the first operand after the options, so ``-ec``, ``-lc`` and
    ``-euo pipefail -c`` all work like ``-c``.
    """
    if _basename(tokens[0]) not in SHELLS:
        return None
    saw_c = False
    j = 1
    while j < len(tokens):
        token = tokens[j]
        if token == "--":
            j += 1
            break
        if token.startswith("--"):
            j += 2 if token in ("--rcfile", "--init-file") else 1
        elif len(token) > 1 and token[0] in "-+":
            saw_c = saw_c or (token[0] == "-" and "c" in token)
            j += 2 if "o" in token[1:] else 1
        else:
            break
    if not saw_c:
        return None
    return j if j < len(tokens) else -1


def _substitution_end(text: str, start: int) -> int | None:
    """End (exclusive) of the ``$(``, ``${`` or backquote span at ``start``; None if open."""
    opening = text[start] if text[start] == "`" else text[start + 1]
    closing = {"`": "`", "(": ")", "{": "}"}[opening]
    depth, quote, j = 0, "", start + (opening != "`")
    while j < len(text):
        char = text[j]
        if char == "\\" and quote != "'":
            j += 2
            continue
        if quote and opening != "`":
            quote = "" if char == quote else quote
        elif char == closing and (depth == 1 or opening == "`") and j > start:
            return j + 1
        elif char in "'\"" and opening != "`":
            quote = char
        elif char == opening:
            depth += 1
        elif char == closing:
            depth -= 1
        j += 1
    return None


def _prepare_script(script: str) -> tuple[str, list[str]]:
    """Make a script digestible for shlex, the way the shell itself would read it.

    Drops comments and line continuations, turns unquoted newlines into ``;`` (they end
    a command), and swaps expansions for placeholders so spaces inside them do not split.
    """
    protect = _SENT_OPEN not in script and _SENT_CLOSE not in script
    out: list[str] = []
    saved: list[str] = []
    quote = ""
    i = 0
    while i < len(script):
        char = script[i]
        if quote == "'":
            quote = "" if char == "'" else quote
        elif char == "\\":  # keep escapes for shlex, drop line continuations
            if not script.startswith("\n", i + 1):
                out.append(script[i:i + 2])
            i += 2
            continue
        elif protect and (char == "`" or script.startswith(("$(", "${"), i)) and (
            end := _substitution_end(script, i)
        ):
            out.append(f"{_SENT_OPEN}{len(saved)}{_SENT_CLOSE}")
            saved.append(script[i:end])
            i = end
            continue
        elif quote == '"':
            quote = "" if char == '"' else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or script[i - 1] in " \t\r\n;&|()"):
            newline = script.find("\n", i)
            i = len(script) if newline < 0 else newline
            continue
        elif char == "\n":
            char = ";"
        out.append(char)
        i += 1
    return "".join(out), saved


def _split_script(script: str) -> list[list[str]]:
    """Split a ``sh -c`` script into simple commands; an unreadable script yields none."""
    text, saved = _prepare_script(script)
    lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        raw = list(lexer)
    except ValueError:  # unbalanced quote or trailing backslash
        return []
    commands: list[list[str]] = []
    current: list[str] = []
    skip_target = False
    for token in raw:
        if skip_target:
            skip_target = False
        elif token and all(char in _OPERATOR_CHARS for char in token):
            if "<" in token or ">" in token:
                skip_target = True  # a redirection: its target is no argument
            elif current:
                commands.append(current)
                current = []
        else:
            if saved:
                token = _SENTINEL.sub(lambda m: saved[int(m.group(1))], token)
            current.append(token)
    if current:
        commands.append(current)
    return commands


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
            position = _skip_options(tokens, 1, _SUBCOMMAND_VALUED)
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
