"""``configparser`` files a settings module reads at import time (CTFd's ``config.ini``).

The file is read from the tree when its path can be computed (``os.path.join(os.path.dirname(
__file__), "config.ini")``); its options keep their line and column. An interpolation class of
the tree whose code reads the environment (CTFd's ``EnvInterpolation``) is taken to mean: an
option left empty in the file takes the env variable of the same name.
"""
from __future__ import annotations

import ast
import os
import re
from typing import TYPE_CHECKING, Any

from scalelint.findings import Loc
from scalelint.sources.python.configlibs import cast_text, env_value
from scalelint.sources.python.values import Instance, Raised, SeqObj, Unsupported, V, kn, plain, unk

if TYPE_CHECKING:
    from scalelint.sources.python.host import Host as Interp

__all__ = ["PARSERS", "ini_method", "ini_subscript", "parser"]

PARSERS = frozenset({"configparser.ConfigParser", "configparser.RawConfigParser", "configparser.SafeConfigParser"})
_INI_LINE = re.compile(r"([^=:\s][^=:]*?)\s*[=:]\s?(.*)$")


def parser(interp: Interp, kwargs: dict[str, V], loc: Loc) -> V:
    """A ConfigParser whose interpolation class reads the env falls back to the variable of the option's name."""
    interpolation = kwargs.get("interpolation")
    env_fallback = False
    if interpolation is not None and isinstance(interpolation.value, Instance) and interpolation.value.cls:
        body = interpolation.value.cls.node
        env_fallback = any((isinstance(n, ast.Attribute) and n.attr in ("getenv", "environ"))
                           or (isinstance(n, ast.Name) and n.id in ("getenv", "environ")) for n in ast.walk(body))
    return kn(Instance("configparser", data={"files": [], "env_fallback": env_fallback}), loc)


def _ini(interp: Interp, rel: str) -> dict[tuple[str, str], tuple[str, int, int]]:
    """The ini file's options with line and column, parsed once (configparser itself loses positions)."""
    cache = interp.ini_cache
    if rel in cache:
        return cache[rel]
    values: dict[tuple[str, str], tuple[str, int, int]] = {}
    text = interp.tree.read_text(rel) or ""
    section = "DEFAULT"
    last: tuple[str, str] | None = None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        if line[0].isspace() and last is not None:
            old = values[last]
            values[last] = (f"{old[0]}\n{stripped}".strip(), old[1], old[2])
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            section, last = stripped[1:-1].strip(), None
            continue
        match = _INI_LINE.match(stripped)
        if match:
            last = (section, match.group(1).strip().lower())
            values[last] = (match.group(2).strip(), number, line.index(match.group(2)) + 1 if match.group(2)
                            else len(line) + 1)
    cache[rel] = values
    return values


def _ini_get(interp: Interp, parser: Instance, section: str, option: str, fallback: V | None, loc: Loc) -> V:
    """An option as configparser returns it, later files winning, with the env fallback of the interpolation."""
    found: V | None = None
    for rel in parser.data["files"]:
        values = _ini(interp, rel)
        hit = values.get((section, option.lower())) or values.get(("DEFAULT", option.lower()))
        if hit is not None:
            found = kn(hit[0], Loc(interp.tree.display(rel), hit[1], hit[2]))
    if found is not None and found.value == "" and parser.data.get("env_fallback"):
        got = env_value(interp, option, loc)
        if got is not None and got.value != "":
            return got
    if found is not None:
        return found
    if fallback is not None:
        return fallback
    raise Raised("KeyError", f"{option} is not in section [{section}] of the ini file")


def ini_subscript(interp: Interp, inst: Instance, key: Any, loc: Loc) -> V:
    if inst.kind == "configparser":
        return kn(Instance("configsection", data={"parser": inst, "section": str(key)}), loc)
    return _ini_get(interp, inst.data["parser"], inst.data["section"], str(key), None, loc)


def ini_method(interp: Interp, inst: Instance, name: str, args: list[V], kwargs: dict[str, V], loc: Loc) -> V:
    """``parser.read(path)``, ``parser.get/getint(section, option)``, ``section.get(option)``."""
    if inst.kind == "configparser":
        if name == "read":
            files = args[0].value.items if args and isinstance(args[0].value, SeqObj) else args[:1]
            for f in files:
                rel = interp.tree.rel_of_abs(os.path.abspath(str(plain(f)))) if isinstance(f.value, str) else None
                if rel is not None:
                    inst.data["files"].append(rel)
            return kn(None, loc)
        if name in ("get", "getint", "getfloat", "getboolean") and len(args) >= 2:
            got = _ini_get(interp, inst, str(plain(args[0])), str(plain(args[1])),
                           kwargs.get("fallback") or kwargs.get("vars"), loc)
            return cast_text({"getint": "int", "getfloat": "float", "getboolean": "bool"}.get(name, "str"), got, loc)
        if name in ("has_section", "has_option"):
            return unk(loc, "ini sections are not listed")
    if inst.kind == "configsection" and name == "get" and args:
        return _ini_get(interp, inst.data["parser"], inst.data["section"], str(plain(args[0])),
                        args[1] if len(args) > 1 else kwargs.get("fallback", kn(None, loc)), loc)
    raise Unsupported(f"{inst.kind}.{name}() is not followed")
