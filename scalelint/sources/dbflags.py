"""Database server connection limits, read from argv and from server config files.

A connection-budget rule needs the number of connections a database accepts.  Compose
files and manifests set it on the server's command line (``postgres -c max_connections=N``,
``mysqld --max-connections=N``) or in a mounted ``postgresql.conf`` / ``my.cnf``.  Values
come back as written, with their position, so the caller can resolve variables and point
at the token or line; nothing here raises on malformed input.
"""
from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from scalelint.sources.argv import ArgHit, expand_shell, server_name

__all__ = [
    "MYSQL_KEYS", "POSTGRES_KEYS", "mysql_settings", "parse_my_cnf", "parse_postgresql_conf",
    "postgres_settings",
]

POSTGRES_KEYS = frozenset({
    "max_connections", "superuser_reserved_connections", "reserved_connections",
})
MYSQL_KEYS = frozenset({"max_connections"})

_PG_LINE = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_.$]*)\s*(?:=\s*|\s+(?=\S))(.*)")
_PG_INCLUDES = frozenset({"include", "include_if_exists", "include_dir"})
_PG_UNQUOTED = re.compile(r"[^\s#]+")
# Option groups the MySQL / MariaDB server reads; "-8.0" style suffixes are version-gated.
_SERVER_GROUP = re.compile(
    r"(?:mysqld|mariadb|mariadbd)(?:-\d+(?:\.\d+)*)?|server|client-server", re.IGNORECASE
)
_CNF_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _argv_commands(argv: Sequence[str], family: str) -> Iterator[tuple[list[str], int, int, bool]]:
    """Yield ``(tokens, first option position, origin, nested)`` for each server command.

    Official images' entrypoints prepend the server when the first argument is an option,
    so a command that starts with ``-`` is taken as the server's arguments.
    """
    for tokens, origin, nested in expand_shell(argv):
        if server_name(tokens[0]) == family:
            yield tokens, 1, origin, nested
        elif tokens[0].startswith("-"):
            yield tokens, 0, origin, nested


def _guc_name(name: str) -> str:
    """Postgres folds case and reads ``-`` as ``_`` in command-line setting names."""
    return name.strip().lower().replace("-", "_")


def _postgres_flags(tokens: list[str], start: int) -> Iterator[tuple[str, str, int, str]]:
    """Yield ``(setting, value, position, flag)`` for every setting on the command line."""
    j = start
    while j < len(tokens):
        token = tokens[j]
        if token in ("-c", "-N") and j + 1 < len(tokens):
            flag, argument, position = token, tokens[j + 1], j + 1
            j += 2
        elif token.startswith(("-c", "-N")) and not token.startswith("--"):
            flag, argument, position = token[:2], token[2:], j  # getopt: -cname=v, -N50
            j += 1
        elif token.startswith("--") and "=" in token:
            flag, argument, position = token.split("=", 1)[0], token[2:], j
            j += 1
        else:
            j += 1
            continue
        if flag == "-N":
            name, value = "max_connections", argument
        elif "=" in argument:
            name, value = argument.split("=", 1)
        else:
            continue  # postgres refuses "-c name" without a value
        if value.strip():
            yield _guc_name(name), value.strip(), position, flag


def postgres_settings(argv: Sequence[str]) -> dict[str, ArgHit]:
    """Connection settings a postgres container's argv sets, the last one winning.

    Keys are from ``POSTGRES_KEYS``.  ``index`` is the token holding the number (the
    ``name=value`` token for ``-c``), or the ``sh -c`` script token when nested.
    """
    settings: dict[str, ArgHit] = {}
    for tokens, start, origin, nested in _argv_commands(argv, "postgres"):
        for name, value, position, flag in _postgres_flags(tokens, start):
            if name in POSTGRES_KEYS:
                index = origin if nested else origin + position
                settings[name] = ArgHit(value, index, "postgres", flag, nested)
    return settings


def postgres_config_file(argv: Sequence[str]) -> str | None:
    """The ``config_file`` a postgres command line names (``-c config_file=/etc/postgresql/postgresql.conf``),
    the last one winning; None when it names none."""
    found = None
    for tokens, start, _origin, _nested in _argv_commands(argv, "postgres"):
        for name, value, _position, _flag in _postgres_flags(tokens, start):
            if name == "config_file":
                found = value.strip("'\"")
    return found


def _mysql_name(name: str) -> str:
    """MySQL reads ``-`` and ``_`` alike and lets a ``loose-`` prefix soften unknown options."""
    name = name.strip().lower().replace("-", "_")
    return name.removeprefix("loose_")


def mysql_settings(argv: Sequence[str]) -> dict[str, ArgHit]:
    """Connection settings a mysqld / mariadbd container's argv sets, the last one winning.

    Accepts ``--max-connections=N``, ``--max_connections=N`` and ``--max-connections N``
    (also with ``--loose-``); keys are from ``MYSQL_KEYS``.
    """
    settings: dict[str, ArgHit] = {}
    for tokens, start, origin, nested in _argv_commands(argv, "mysqld"):
        j = start
        while j < len(tokens):
            token = tokens[j]
            flag, equals, value = token.partition("=")
            position = j
            j += 1
            if not token.startswith("--") or _mysql_name(flag[2:]) not in MYSQL_KEYS:
                continue
            if not equals:
                if j >= len(tokens) or tokens[j].startswith("-"):
                    continue
                value, position = tokens[j], j
                j += 1
            if value.strip():
                index = origin if nested else origin + position
                hit = ArgHit(value.strip(), index, "mysqld", flag, nested)
                settings[_mysql_name(flag[2:])] = hit
    return settings


def _quoted(text: str, quote: str) -> str | None:
    """The content of a quoted value starting at ``text[0]``; None when never closed.

    Backslash escapes the next character; a doubled quote (postgres style) is one quote.
    """
    out: list[str] = []
    i = 1
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
        elif char == quote and text.startswith(quote, i + 1):
            out.append(quote)
            i += 2
        elif char == quote:
            return "".join(out)
        else:
            out.append(char)
            i += 1
    return None


def _lines(text: str) -> Iterator[tuple[int, str]]:
    """Numbered lines split on newlines only: splitlines() also breaks at form feeds."""
    for number, line in enumerate(text.split("\n"), start=1):
        yield number, line.rstrip("\r")


def parse_postgresql_conf(text: str) -> dict[str, tuple[str, int]]:
    """Every setting in a ``postgresql.conf``: name -> (value, 1-based line); later wins.

    Accepts ``name = value``, ``name=value`` and ``name value``, single-quoted values and
    trailing comments.  Names are lower-cased (postgres ignores their case); include
    directives and unreadable lines are skipped, since the file behind them is unknown.
    """
    settings: dict[str, tuple[str, int]] = {}
    for number, line in _lines(text):
        match = _PG_LINE.match(line)
        if match is None or match.group(1).lower() in _PG_INCLUDES:
            continue
        rest = match.group(2)
        if rest.startswith("'"):
            value = _quoted(rest, "'")
        else:
            unquoted = _PG_UNQUOTED.match(rest)
            value = unquoted.group() if unquoted else None
        if value is not None:
            settings[match.group(1).lower()] = (value, number)
    return settings


def parse_my_cnf(text: str) -> dict[str, tuple[str, int]]:
    """Server options in a ``my.cnf``: normalised name -> (value, 1-based line); later wins.

    Only groups the server reads count ([mysqld], [mysqld-8.0], [mariadb], [mariadbd],
    [server], [client-server]).  Names fold ``-`` to ``_`` and drop ``loose-``, so
    ``max-connections`` is ``max_connections``; a bare boolean option has the value "".
    ``!include`` directives are skipped, since the file behind them is unknown.
    """
    settings: dict[str, tuple[str, int]] = {}
    in_server_group = False
    for number, raw in _lines(text):
        line = raw.strip()
        if line.startswith("["):
            group = line[1:].split("]", 1)[0].strip()
            in_server_group = "]" in line and _SERVER_GROUP.fullmatch(group) is not None
            continue
        if not in_server_group or not line or line[0] in "#;!":
            continue
        key, equals, rest = line.partition("=")
        if not equals:
            key, rest = key.split("#", 1)[0], ""
        key = key.strip()
        rest = rest.strip()
        if _CNF_KEY.fullmatch(key) is None:
            continue
        if rest[:1] in ("'", '"'):
            value = _quoted(rest, rest[0])
            if value is None:
                continue
        else:
            value = rest.split("#", 1)[0].strip()
        settings[_mysql_name(key)] = (value, number)
    return settings
