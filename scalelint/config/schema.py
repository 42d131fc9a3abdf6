"""JSON Schema validation over positioned YAML trees, shared by the config file and the ``json-schema`` template.

jsonschema reports a failing instance as a path of keys and indexes; the
positioned tree (:mod:`scalelint.load.tree`) turns that path back into a line
and column. jsonschema itself is imported by the callers, lazily: it costs
~180 ms and most runs never need it.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from scalelint.load.tree import Pos, YMap, YSeq

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")


def path_text(path: Iterable[Any], prefix: str = "") -> str:
    """``["spec", "containers", 0, "name"]`` → ``spec.containers[0].name`` (dotted, indexes in brackets)."""
    out = prefix
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENT.match(str(part)):
            out += f".{part}" if out else str(part)
        else:
            out += f"[{str(part)!r}]"
    return out


def locate(root: Any, path: Sequence[Any], key: bool = False) -> tuple[str, Pos]:
    """Where ``path`` is written under ``root``: the file and the 1-based position.

    A scalar points at its value (the failing node itself), a mapping or list
    at its key or item start (a block value starts a line later). ``key``
    points at the key even for a scalar (an unknown key is the key's fault).
    Where the tree ends early (a missing key) the deepest node found is used;
    an unpositioned tree (a parsed TOML table) gives ``(0, 0)``.
    """
    node = root
    file = getattr(root, "path", "")
    pos: Pos = getattr(root, "pos", (0, 0))
    for part in path:
        if isinstance(node, YMap) and part in node:
            file = node.path or file
            scalar = not isinstance(node[part], (dict, list))
            pos = node.value_pos(part) if scalar and not key else node.key_pos(part)
            node = node[part]
        elif isinstance(node, YSeq) and isinstance(part, int) and 0 <= part < len(node):
            file = node.path or file
            pos = node.item_pos(part)
            node = node[part]
        else:
            break
    return file, pos


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest candidate (case-insensitive), or ``""``."""
    import difflib  # only on the way to an error message: every run imports this module

    pool = sorted(set(candidates))
    by_lower = {c.lower(): c for c in pool}
    close = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
    return f" (did you mean {by_lower[close[0]]!r}?)" if close else ""


_TYPE_NAMES = {
    "object": "a mapping", "array": "a list", "string": "a string", "integer": "an integer",
    "number": "a number", "boolean": "true or false", "null": "null",
}


def _got(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _expected(types: Any) -> str:
    names = [types] if isinstance(types, str) else list(types)
    words = [_TYPE_NAMES.get(t, t) for t in names]
    return " or ".join(words)


def unknown_keys(error: Any) -> list[str]:
    """The keys an ``additionalProperties: false`` error is about, sorted."""
    schema = error.schema if isinstance(error.schema, dict) else {}
    props = schema.get("properties", {})
    patterns = [re.compile(p) for p in schema.get("patternProperties", {})]
    instance = error.instance if isinstance(error.instance, dict) else {}
    return sorted(str(k) for k in instance
                  if k not in props and not any(p.search(str(k)) for p in patterns))


def explain(error: Any) -> tuple[list[Any], str, bool]:
    """A friendlier (path, problem) for one jsonschema error, for humans editing a config file.

    Unknown keys come with a "did you mean" from the schema's known keys;
    type and enum errors say what was expected and what was found. The flag
    says whether the path ends at a key that is itself the problem.
    """
    path = list(error.absolute_path)
    kind = error.validator
    value = error.instance
    if kind == "additionalProperties":
        extra = unknown_keys(error)
        if extra:
            known = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
            return path + [extra[0]], "unknown key" + did_you_mean(extra[0], known), True
    if kind == "type":
        return path, f"expected {_expected(error.validator_value)}, got {_got(value)}", False
    if kind == "enum":
        choices = [str(c) for c in error.validator_value]
        hint = did_you_mean(str(value), choices) if isinstance(value, str) else ""
        return path, f"expected one of {', '.join(choices)}, got {_got(value)}{hint}", False
    if kind == "required":
        missing = [r for r in error.validator_value if isinstance(value, dict) and r not in value]
        return path, f"missing required key {missing[0]!r}" if missing else error.message, False
    if kind == "minimum":
        return path, f"must be at least {error.validator_value}, got {_got(value)}", False
    if kind == "minItems":
        return path, f"needs at least {error.validator_value} item{'s' if error.validator_value != 1 else ''}", False
    if kind == "minLength":
        return path, "must not be empty", False
    if kind == "uniqueItems":
        return path, "has duplicate items", False
    return path, error.message, False


def ordered(errors: Iterable[Any], root: Any) -> list[Any]:
    """Errors in a deterministic order: by position in the file, then by path and message."""
    def key(e: Any) -> tuple:
        _, pos = locate(root, list(e.absolute_path))
        return (pos, path_text(e.absolute_path), e.validator, e.message)
    return sorted(errors, key=key)
