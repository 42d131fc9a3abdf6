"""Library calls the evaluator understands: the standard library part, and the dispatch.

Only pure functions are modelled (``int``, ``str.strip``, ``os.path.join``), plus the ones
that read the environment (``os.getenv``, ``os.environ[...]``) from the container env the
caller gives, and ``configparser`` reading an ini file of the tree. Nothing here touches the
process environment or a file outside the tree. Settings libraries (environs, decouple,
django-environ, dj-database-url, pydantic settings) live in :mod:`.configlibs`.
"""
from __future__ import annotations

import ast
import json
import posixpath
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from scalelint.findings import Loc
from scalelint.model import Val
from scalelint.sources.python import configlibs, inifiles
from scalelint.sources.python.values import (
    Bound,
    ClassObj,
    DictObj,
    Instance,
    Raised,
    Ref,
    SeqObj,
    Unsupported,
    V,
    combine,
    is_unknown,
    kn,
    plain,
    truth,
    unk,
)

if TYPE_CHECKING:
    from scalelint.sources.python.evaluator import Frame
    from scalelint.sources.python.host import Host as Interp

__all__ = ["call", "env_value", "is_settings_class", "path_attr", "settings_field", "subscript", "to_int"]

env_value = configlibs.env_value
is_settings_class = configlibs.is_settings_class
settings_field = configlibs.settings_field

_STR_METHODS = frozenset({
    "strip", "lstrip", "rstrip", "lower", "upper", "startswith", "endswith", "split", "rsplit", "replace",
    "removeprefix", "removesuffix", "isdigit", "isnumeric", "isdecimal", "title", "casefold", "capitalize",
    "partition", "rpartition", "count", "find", "zfill", "join", "encode",
})
_PURE_BUILTINS: dict[str, Callable[..., Any]] = {
    "len": len, "min": min, "max": max, "abs": abs, "round": round, "sorted": sorted, "any": any, "all": all,
    "repr": repr,
}
_ALIASES = {
    "os.environ.get": "os.getenv", "posixpath.join": "os.path.join", "posixpath.dirname": "os.path.dirname",
    "posixpath.abspath": "os.path.abspath", "distutils.util.strtobool": "strtobool",
    "str2bool.str2bool": "strtobool",
}


def to_int(v: V, loc: Loc | None) -> V:
    """``int(v)`` with Python's rules; a string that is not a number raises ValueError."""
    if is_unknown(v):
        return v
    value = v.value
    if isinstance(value, (bool, int, float)):
        return Val(int(value), v.loc or loc, v.state, v.reason)
    if isinstance(value, str):
        try:
            return Val(int(value.strip()), v.loc or loc, v.state, v.reason)
        except ValueError:
            raise Raised("ValueError", f"int({value!r}) fails") from None
    if value is None:
        raise Raised("TypeError", "int(None) fails")
    raise Unsupported("int() of an object")


def _to_float(v: V, loc: Loc | None) -> V:
    if is_unknown(v):
        return v
    try:
        return Val(float(plain(v)), v.loc or loc, v.state, v.reason)
    except (TypeError, ValueError):
        raise Raised("ValueError", f"float({v.value!r}) fails") from None


def _strtobool(v: V, loc: Loc | None) -> V:
    text = str(plain(v)).strip().lower()
    if text in ("y", "yes", "t", "true", "on", "1"):
        return Val(1, v.loc or loc, v.state, v.reason)
    if text in ("n", "no", "f", "false", "off", "0"):
        return Val(0, v.loc or loc, v.state, v.reason)
    raise Raised("ValueError", f"strtobool({text!r}) fails")


def _builtin(interp: Interp, name: str, args: list[V], kwargs: dict[str, V], frame: Frame, loc: Loc) -> V:
    """The pure builtins settings use (``int``, ``str``, ``bool``, ``dict``, ``min`` ...); ``open`` is unknown."""
    if name == "int" and args:
        if len(args) > 1:
            return kn(int(plain(args[0]), plain(args[1])), args[0].loc or loc)
        return to_int(args[0], loc)
    if name == "float" and args:
        return _to_float(args[0], loc)
    if name == "str":
        if not args:
            return kn("", loc)
        if is_unknown(args[0]):
            return args[0]
        return Val(interp.to_str(args[0]), args[0].loc or loc, args[0].state, args[0].reason)
    if name == "bool":
        t = truth(args[0]) if args else False
        if t is None:
            return args[0] if is_unknown(args[0]) else unk(loc, "truth value not known")
        return Val(t, args[0].loc if args else loc, *combine(*args[:1]))
    if name == "dict":
        result = DictObj()
        for arg in args[:1]:
            interp.merge_into(result, arg)
        result.items.update(kwargs)
        return kn(result, loc)
    if name in ("list", "tuple", "set") and args and isinstance(args[0].value, SeqObj):
        return kn(SeqObj(list(args[0].value.items), name), loc)
    if name == "getattr" and len(args) >= 2:
        found = interp.attribute_of(args[0], str(plain(args[1])), frame, ast.Name("getattr"))
        if is_unknown(found) and len(args) > 2:
            return args[2]
        return found
    if name == "print":
        return kn(None, loc)
    if name == "open":
        return unk(loc, "reads a file when the settings are imported")
    if name in _PURE_BUILTINS and args:
        func: Callable[..., Any] = _PURE_BUILTINS[name]
        try:
            return Val(func(*[plain(a) for a in args]), loc, *combine(*args))
        except (TypeError, ValueError):
            raise Unsupported(f"{name}() on mismatched values") from None
    raise Unsupported(f"{name}() is not followed")


def _os(interp: Interp, name: str, args: list[V], kwargs: dict[str, V], loc: Loc) -> V:
    """``os.getenv`` / ``os.environ.get`` / ``setdefault`` from the container env, and path arithmetic."""
    if name in ("os.getenv", "os.environ.setdefault"):
        key = plain(args[0]) if args else plain(kwargs["key"])
        default = args[1] if len(args) > 1 else kwargs.get("default", kn(None, loc))
        got = env_value(interp, key, loc)
        return got if got is not None else default
    if name.startswith("os.path."):
        op = name.rpartition(".")[2]
        parts = [interp.to_str(a) for a in args]
        state, reason = combine(*args) if args else combine(kn(None, None))
        if op == "join":
            return Val(posixpath.join(*parts), loc, state, reason)
        if op in ("dirname", "basename", "abspath", "realpath", "normpath", "expanduser"):
            fn: Callable[[str], str] = posixpath.normpath if op in ("abspath", "realpath") else (
                str if op == "expanduser" else getattr(posixpath, op))
            return Val(fn(parts[0]), loc, state, reason)
        if op in ("exists", "isfile", "isdir"):
            rel = interp.tree.rel_of_abs(parts[0])
            if rel is None:
                return unk(loc, f"whether {parts[0]} exists in the container is not known")
            return kn(interp.tree.read_text(rel) is not None or op != "isfile", loc)
    raise Unsupported(f"{name}() is not followed")


def path_attr(target: V, name: str, loc: Loc) -> V:
    """``Path`` objects: enough for ``BASE_DIR = Path(__file__).resolve().parent.parent``."""
    assert isinstance(target.value, Instance)
    path = str(target.value.data["path"])
    if name == "parent":
        return kn(Instance("path", data={"path": posixpath.dirname(path)}), loc)
    if name in ("name", "stem", "suffix"):
        base = posixpath.basename(path)
        return kn({"name": base, "stem": posixpath.splitext(base)[0], "suffix": posixpath.splitext(base)[1]}[name],
                  loc)
    return kn(Bound(target, name), loc)


def _path_method(interp: Interp, target: Instance, name: str, args: list[V], loc: Loc) -> V:
    """``Path`` methods that are pure path arithmetic; file reads stay unknown."""
    path = str(target.data["path"])
    if name in ("resolve", "absolute", "expanduser"):
        return kn(Instance("path", data={"path": posixpath.normpath(path)}), loc)
    if name == "joinpath":
        return kn(Instance("path", data={"path": posixpath.join(path, *[interp.to_str(a) for a in args])}), loc)
    if name in ("exists", "is_file", "is_dir"):
        return _os(interp, "os.path.exists", [kn(path, loc)], {}, loc)
    raise Unsupported(f"Path.{name}() is not followed")


def _str_method(value: str, name: str, target: V, args: list[V], loc: Loc) -> V:
    """Pure ``str`` methods on known strings (``.lower()``, ``.startswith()`` ...)."""
    if name not in _STR_METHODS:
        if name == "format":
            return Val(value.format(*[plain(a) for a in args]), loc, *combine(target, *args))
        raise Unsupported(f"str.{name}() is not followed")
    plain_args = [plain(a) for a in args]
    if name == "join":
        if not args or not isinstance(args[0].value, SeqObj):
            raise Unsupported("str.join() of an unknown sequence")
        plain_args = [[str(plain(i)) for i in args[0].value.items]]
    result = getattr(value, name)(*plain_args)
    state, reason = combine(target, *args)
    if isinstance(result, (list, tuple)):
        kind = "tuple" if isinstance(result, tuple) else "list"
        return Val(SeqObj([Val(r, loc, state, reason) for r in result], kind), loc, state, reason)
    keep = target.loc if name in ("strip", "lstrip", "rstrip", "lower", "upper", "casefold") else loc
    return Val(result, keep, state, reason)


def _dict_method(d: DictObj, name: str, args: list[V], kwargs: dict[str, V], loc: Loc) -> V:
    """``dict`` methods, mutating the shared dict as Python would (``DATABASES[...].update``)."""
    if name in ("get", "pop", "setdefault"):
        key = plain(args[0])
        fallback = args[1] if len(args) > 1 else kn(None, loc)
        if key in d.items:
            return d.items.pop(key) if name == "pop" else d.items[key]
        if d.partial:
            return unk(loc, f"whether the dict holds {key!r} is not known")
        if name == "setdefault":
            d.items[key] = fallback
        return fallback
    if name == "update":
        for arg in args:
            if isinstance(arg.value, DictObj):
                d.items.update(arg.value.items)
                d.partial = d.partial or arg.value.partial
            else:
                d.partial = True
        d.items.update(kwargs)
        return kn(None, loc)
    if name == "copy":
        return kn(DictObj(dict(d.items), d.partial), loc)
    raise Unsupported(f"dict.{name}() is not followed")


def _seq_method(s: SeqObj, name: str, args: list[V], loc: Loc) -> V:
    """``list`` mutations settings use (``INSTALLED_APPS.append``)."""
    if name == "append" and args:
        s.items.append(args[0])
    elif name == "extend" and args and isinstance(args[0].value, SeqObj):
        s.items.extend(args[0].value.items)
    elif name == "insert" and len(args) == 2:
        s.items.insert(int(plain(args[0])), args[1])
    elif name == "copy":
        return kn(SeqObj(list(s.items), s.kind), loc)
    else:
        raise Unsupported(f"list.{name}() is not followed")
    return kn(None, loc)


def subscript(interp: Interp, target: V, key: V, frame: Frame, node: ast.AST) -> V:
    """``os.environ[...]`` (KeyError when unset), dicts, sequences, ini sections, strings."""
    loc = frame.source.loc(node)
    value = target.value
    if isinstance(value, Ref) and value.qualname == "os.environ":
        name = plain(key)
        got = env_value(interp, name, loc)
        if got is None:
            raise Raised("KeyError", f"{name} is not set in the container env (os.environ[{name!r}])")
        return got
    if is_unknown(key):
        return key
    if isinstance(value, DictObj):
        k = plain(key)
        if k in value.items:
            return value.items[k]
        if value.partial:
            return unk(loc, f"whether the dict holds {k!r} is not known")
        raise Raised("KeyError", f"no key {k!r}")
    if isinstance(value, SeqObj):
        try:
            return value.items[int(plain(key))]
        except (IndexError, ValueError, TypeError):
            raise Raised("IndexError") from None
    if isinstance(value, Instance) and value.kind in ("configparser", "configsection"):
        return inifiles.ini_subscript(interp, value, plain(key), loc)
    if isinstance(value, str):
        try:
            return Val(value[int(plain(key))], loc, target.state, target.reason)
        except (IndexError, ValueError, TypeError):
            raise Raised("IndexError") from None
    raise Unsupported("subscript of an object is not followed")


def call(interp: Interp, fn: V, args: list[V], kwargs: dict[str, V], frame: Frame, node: ast.AST) -> V:
    """A call of something that is not a function of the tree."""
    loc = frame.source.loc(node)
    target = fn.value
    if isinstance(target, Ref):
        return _call_ref(interp, _ALIASES.get(target.qualname, target.qualname), args, kwargs, frame, loc)
    if isinstance(target, Bound):
        return _call_method(interp, target, args, kwargs, frame, loc)
    if isinstance(target, Instance):
        return configlibs.call_instance(interp, target, args, kwargs, loc)
    return unk(loc, "call of an object that is not followed")


def _call_ref(interp: Interp, name: str, args: list[V], kwargs: dict[str, V], frame: Frame, loc: Loc) -> V:
    """Library functions by dotted name; anything not modelled is unknown, with its name."""
    if name.startswith("builtins."):
        return _builtin(interp, name[9:], args, kwargs, frame, loc)
    if name in ("os.getenv", "os.environ.setdefault") or name.startswith("os.path."):
        return _os(interp, name, args, kwargs, loc)
    if name in ("pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath"):
        path = posixpath.join(*[interp.to_str(a) for a in args]) if args else "."
        return kn(Instance("path", data={"path": path}), loc)
    if name == "strtobool" and args:
        return _strtobool(args[0], loc)
    if name in ("typing.cast",) and len(args) == 2:
        return args[1]
    if name == "json.loads" and args:
        try:
            return _from_plain(json.loads(plain(args[0])), args[0].loc or loc)
        except (ValueError, TypeError):
            raise Raised("ValueError", "json.loads() fails") from None
    if name in inifiles.PARSERS:
        return inifiles.parser(interp, kwargs, loc)
    handled = configlibs.call_ref(interp, name, args, kwargs, loc)
    if handled is not None:
        return handled
    return unk(loc, f"{name}() is not modelled")


def _from_plain(value: Any, loc: Loc | None) -> V:
    if isinstance(value, dict):
        return kn(DictObj({k: _from_plain(v, loc) for k, v in value.items()}), loc)
    if isinstance(value, list):
        return kn(SeqObj([_from_plain(v, loc) for v in value]), loc)
    return kn(value, loc)


def _call_method(interp: Interp, bound: Bound, args: list[V], kwargs: dict[str, V], frame: Frame, loc: Loc) -> V:
    """A method called on a value, by the value's kind."""
    target = bound.target
    value = target.value
    if is_unknown(target):
        return target
    if isinstance(value, str):
        return _str_method(value, bound.name, target, args, loc)
    if isinstance(value, DictObj):
        return _dict_method(value, bound.name, args, kwargs, loc)
    if isinstance(value, SeqObj):
        return _seq_method(value, bound.name, args, loc)
    if isinstance(value, Instance) and value.kind == "path":
        return _path_method(interp, value, bound.name, args, loc)
    if isinstance(value, Instance) and value.kind in ("configparser", "configsection"):
        return inifiles.ini_method(interp, value, bound.name, args, kwargs, loc)
    if isinstance(value, Instance):
        return configlibs.call_instance_method(interp, value, bound.name, args, kwargs, loc)
    if isinstance(value, ClassObj):
        raise Unsupported(f"{value.name}.{bound.name}() is not followed")
    raise Unsupported(f".{bound.name}() is not followed")
