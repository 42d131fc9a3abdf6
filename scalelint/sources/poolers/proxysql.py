"""ProxySQL (MySQL) pool limits from its ``proxysql.cnf``.

The file is libconfig syntax (https://hyperrealm.github.io/libconfig/libconfig_manual.html#Configuration-Files):
``name = value;`` or ``name: value``, groups ``{ ... }``, lists ``( ... )``, arrays ``[ ... ]``,
strings in double quotes, ``#``, ``//`` and ``/* */`` comments, ``@include "file"``.  ProxySQL
reads it at first start (or with ``--initial``) into its admin database; a container without
a persistent ``/var/lib/proxysql`` starts fresh each time, so the file is what runs.

What matters for connection budgets (https://proxysql.com/documentation/main-runtime/#mysql_servers,
https://proxysql.com/documentation/global-variables/mysql-variables/):

- ``mysql_servers``: each entry (``address`` or ``hostname``, ``port`` default 3306,
  ``hostgroup``) opens at most ``max_connections`` (default 1000) backend connections;
- ``mysql_variables.max_connections``: client connections ProxySQL accepts (default 2048);
- ``mysql_variables.interfaces``: where clients connect (default ``0.0.0.0:6033``).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scalelint.findings import Loc
from scalelint.model import Val, default, known, unknown

from .model import Backend, MountedConfig, PoolerSettings, Problem, notice, to_int

__all__ = ["parse_libconfig", "read_proxysql"]

_MAX_DEPTH = 64
_TOKEN = re.compile(r"""
    (?P<space>[ \t\r\n\f]+) | (?P<comment>\#[^\n]*|//[^\n]*|/\*.*?\*/) | (?P<include>@include)
  | (?P<string>"(?:[^"\\]|\\.)*") | (?P<number>[+-]?(?:0[xX][0-9a-fA-F]+L{0,2}|\d+\.\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?
                                                  |\d+[eE][+-]?\d+|\d+L{0,2}))
  | (?P<name>[A-Za-z*][-A-Za-z0-9_*]*) | (?P<punct>[=:;,{}()\[\]])
""", re.VERBOSE | re.DOTALL)


@dataclass
class Node:
    """A libconfig value and where it is written: a scalar, ``dict`` (group) or ``list``."""

    value: Any
    loc: Loc


class _Parser:
    def __init__(self, text: str, path: str, line_offset: int, column_offset: int) -> None:
        self.tokens: list[tuple[str, str, Loc]] = []
        self.problems: list[Problem] = []
        self.includes: list[tuple[str, Loc]] = []
        line, start, p = 1, 0, 0
        while p < len(text):
            match = _TOKEN.match(text, p)
            loc = Loc(path, line + line_offset, p - start + 1 + column_offset)
            if match is None:
                self.problems.append((f"proxysql.cnf: unexpected {text[p]!r}; ProxySQL cannot parse the file", loc))
                break
            kind = match.lastgroup or ""
            if kind not in ("space", "comment"):
                self.tokens.append((kind, match.group(), loc))
            chunk = match.group()
            if "\n" in chunk:
                line += chunk.count("\n")
                start = match.start() + chunk.rfind("\n") + 1
            p = match.end()
        self.i = 0

    def peek(self) -> tuple[str, str, Loc] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def fail(self, what: str, loc: Loc | None) -> None:
        self.problems.append((f"proxysql.cnf: {what}; ProxySQL cannot parse the file", loc))
        self.i = len(self.tokens)

    def settings(self, closing: str | None, depth: int) -> dict[str, Node]:
        group: dict[str, Node] = {}
        while (token := self.peek()) is not None and token[1] != closing:
            kind, text, loc = token
            self.i += 1
            if kind == "include" and (target := self.peek()) is not None and target[0] == "string":
                self.includes.append((target[1][1:-1], loc))
                self.i += 1
                continue
            if kind != "name":
                self.fail(f"expected a setting name, found {text!r}", loc)
                break
            sep = self.peek()
            if sep is None or sep[1] not in "=:":
                self.fail(f"{text} is not followed by '=' or ':'", loc)
                break
            self.i += 1
            value = self.value(depth)
            if value is None:
                break
            group[text] = value
            if (end := self.peek()) is not None and end[1] in ";,":
                self.i += 1
        return group

    def value(self, depth: int) -> Node | None:
        token = self.peek()
        if token is None:
            self.fail("a value is missing at the end", None)
            return None
        kind, text, loc = token
        if depth > _MAX_DEPTH:
            self.fail("nested too deep", loc)
            return None
        self.i += 1
        if text == "{":
            group = self.settings("}", depth + 1)
            return self._close("}", Node(group, loc))
        if text in "([":
            closing = ")" if text == "(" else "]"
            items: list[Node] = []
            while (nxt := self.peek()) is not None and nxt[1] != closing:
                item = self.value(depth + 1)
                if item is None:
                    return None
                items.append(item)
                if (comma := self.peek()) is not None and comma[1] == ",":
                    self.i += 1
            return self._close(closing, Node(items, loc))
        if kind == "string":
            parts = [text]
            while (nxt := self.peek()) is not None and nxt[0] == "string":  # adjacent strings concatenate
                parts.append(nxt[1])
                self.i += 1
            return Node("".join(re.sub(r"\\(.)", r"\1", p[1:-1]) for p in parts), loc)
        if kind == "number":
            number = text.rstrip("L")
            return Node(int(number, 16) if number.lower().startswith(("0x", "+0x", "-0x")) else
                        float(number) if re.search(r"[.eE]", number) else int(number), loc)
        if kind == "name" and text.lower() in ("true", "false"):
            return Node(text.lower() == "true", loc)
        self.fail(f"unexpected {text!r}", loc)
        return None

    def _close(self, closing: str, node: Node) -> Node | None:
        token = self.peek()
        if token is None or token[1] != closing:
            self.fail(f"missing {closing!r}", token[2] if token else node.loc)
            return None
        self.i += 1
        return node


def parse_libconfig(text: str, path: str, *, line_offset: int = 0,
                    column_offset: int = 0) -> tuple[dict[str, Node], list[Problem], list[tuple[str, Loc]]]:
    """The top-level settings of a libconfig file, its syntax problems and ``@include`` lines."""
    parser = _Parser(text.lstrip("\ufeff"), path, line_offset, column_offset)
    top = parser.settings(None, 0) if not parser.problems else {}
    return top, parser.problems, parser.includes


def _listen_port(interfaces: str) -> int | None:
    """The first TCP port of ``interfaces`` (``0.0.0.0:6033;/tmp/proxysql.sock``)."""
    for part in interfaces.split(";"):
        host, _, port = part.strip().rpartition(":")
        if host and port.isdigit():
            return int(port)
    return None


def _as_val(node: Node | None) -> Val[Any] | None:
    return None if node is None else known(node.value, node.loc)


def read_proxysql(image: str, env: Mapping[str, Val[str]], *, mounted: MountedConfig | None = None,
                  image_loc: Loc | None = None) -> PoolerSettings:
    """ProxySQL's client limit, listen port and per-server connection caps."""
    del env  # the official image takes its settings from the file only
    settings = PoolerSettings("proxysql", "proxysql")
    top: dict[str, Node] = {}
    if mounted is None:
        settings.notices.append(notice(f"{image}: no proxysql.cnf was found mounted at /etc/proxysql.cnf; the "
                                       "servers it connects to are unknown", image_loc))
    else:
        top, problems, includes = parse_libconfig(mounted.text, mounted.path, line_offset=mounted.line_offset,
                                                  column_offset=mounted.column_offset)
        settings.problems.extend(problems)
        settings.notices.extend(notice(f"@include {target}: scalelint does not read included files", loc)
                                for target, loc in includes)
        settings.source, settings.config_path = "ini", mounted.path
    variables = top.get("mysql_variables")
    group: dict[str, Node] = variables.value if variables is not None and isinstance(variables.value, dict) else {}
    limit = _as_val(group.get("max_connections"))
    settings.max_client_conn = (to_int(limit, "mysql_variables.max_connections", settings.notices, minimum=1)
                                if limit is not None else default(2048, image_loc, "ProxySQL default "
                                                                  "mysql-max_connections = 2048 (mysql-variables)"))
    interfaces = group.get("interfaces")
    port = _listen_port(str(interfaces.value)) if interfaces is not None else 6033
    settings.listen_port = (default(6033, image_loc, "ProxySQL default mysql-interfaces = 0.0.0.0:6033")
                            if interfaces is None else known(port, interfaces.loc) if port is not None
                            else unknown(interfaces.loc, f"no TCP port in {interfaces.value!r}"))
    settings.mode = default("transaction", image_loc, "ProxySQL multiplexes: a backend connection returns to the "
                            "pool after each transaction (mysql-multiplexing, default true)")
    for name in ("default_pool_size", "reserve_pool_size", "max_db_connections", "max_user_connections"):
        setattr(settings, name, unknown(None, "not a ProxySQL setting: see mysql_servers max_connections"))
    servers = top.get("mysql_servers")
    if servers is not None and not isinstance(servers.value, list):
        settings.notices.append(notice("mysql_servers is not a list: its servers are unknown", servers.loc))
    for entry in servers.value if servers is not None and isinstance(servers.value, list) else []:
        if not isinstance(entry.value, dict):
            settings.notices.append(notice("a mysql_servers entry is not a group { ... }", entry.loc))
            continue
        address = entry.value.get("address") or entry.value.get("hostname")
        if address is None or not isinstance(address.value, str):
            settings.notices.append(notice("a mysql_servers entry has no address", entry.loc))
            continue
        port_node = entry.value.get("port")
        cap = _as_val(entry.value.get("max_connections"))
        settings.backends.append(Backend(
            address.value, port_node.value if port_node is not None and isinstance(port_node.value, int) else 3306,
            address.loc,
            to_int(cap, "max_connections", settings.notices, minimum=0) if cap is not None
            else default(1000, entry.loc, "ProxySQL default mysql_servers.max_connections = 1000")))
    return settings
