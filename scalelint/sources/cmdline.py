"""Split a container's command line into the simple commands it really runs.

Manifests and Dockerfiles wrap the server: ``sh -c "migrate && exec gunicorn ..."``,
``tini --``, ``gosu app``, ``ddtrace-run``, ``python -m``, ``poetry run``. :func:`expand_shell`
drops the wrappers, splits ``-c`` scripts with shell rules and reports, for each command,
where its tokens sit in the argv the caller gave, so a finding can point at the token
in the file. Nothing here raises on odd input.
"""
from __future__ import annotations

import re
import shlex
from collections.abc import Sequence

__all__ = ["SHELLS", "Command", "basename", "expand_shell", "skip_options"]

SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh"})

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
# Placeholders that keep ``$(...)``, ``${...}`` and backquotes whole while shlex splits a
# script: a value like ``${WORKERS:-4}`` or ``$(nproc)`` must come back as one token.
_SENT_OPEN, _SENT_CLOSE = "\ue000", "\ue001"
_SENTINEL = re.compile(f"{_SENT_OPEN}(\\d+){_SENT_CLOSE}")
_OPERATOR_CHARS = frozenset("();<>|&")
_MAX_DEPTH = 4  # sh -c inside sh -c inside ...: deeper than this is not worth reading

Command = tuple[list[str], int, bool]


def basename(token: str) -> str:
    return token.rstrip("/").rsplit("/", 1)[-1]


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


def skip_options(tokens: list[str], i: int, valued: frozenset[str]) -> int:
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
        base = basename(token)
        following = tokens[i + 1] if i + 1 < len(tokens) else ""
        if _ASSIGNMENT.match(token) or token in _RESERVED:
            i += 1
        elif base in _WRAPPERS:
            subcommands, valued = _WRAPPERS[base]
            if subcommands and following not in subcommands:
                break
            i += 1 + bool(subcommands)
            if valued is not None:
                i = skip_options(tokens, i, valued)
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
    if basename(tokens[0]) not in SHELLS:
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
