"""Settings libraries: where a pool size written as ``env.int("DB_POOL", 10)`` really comes from.

Each reader is modelled by what it does with the process environment: environs, python-decouple,
django-environ, dj-database-url, pydantic ``BaseSettings`` (prefix, aliases, defaults, casts by
annotation); ``configparser`` is in :mod:`.inifiles`. Files they would also read (``.env``, decouple's
``settings.ini``) are not: a container gets its settings from its env, and those files are
usually kept out of images (listed in the package docstring).
"""
from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING, Any

from scalelint.findings import Loc
from scalelint.model import State, Val
from scalelint.sources.python.values import (
    ClassObj,
    DictObj,
    FuncObj,
    Instance,
    Raised,
    Ref,
    SeqObj,
    Unsupported,
    V,
    is_unknown,
    kn,
    plain,
    unk,
)

if TYPE_CHECKING:
    from scalelint.sources.python.host import Host as Interp

__all__ = ["call_instance", "call_instance_method", "call_ref", "cast_text", "db_engine_for_url", "env_value",
           "is_settings_class", "settings_field"]

_SETTINGS_BASES = ("BaseSettings",)
_TRUE = frozenset({"1", "true", "yes", "on", "t", "y", "ok"})
_FALSE = frozenset({"0", "false", "no", "off", "f", "n", ""})
_DJANGO_ENGINES = {
    "postgres": "django.db.backends.postgresql", "postgresql": "django.db.backends.postgresql",
    "pgsql": "django.db.backends.postgresql", "psql": "django.db.backends.postgresql",
    "postgis": "django.contrib.gis.db.backends.postgis", "cockroach": "django_cockroachdb",
    "timescale": "timescale.db.backends.postgresql", "redshift": "django_redshift_backend",
    "mysql": "django.db.backends.mysql", "mysql2": "django.db.backends.mysql",
    "mysqlgis": "django.contrib.gis.db.backends.mysql", "mysql-connector": "mysql.connector.django",
    "sqlite": "django.db.backends.sqlite3", "spatialite": "django.contrib.gis.db.backends.spatialite",
    "oracle": "django.db.backends.oracle", "mssql": "mssql", "ldap": "ldapdb.backends.ldap",
}


def is_settings_class(bases: set[str]) -> bool:
    return any(b.rpartition(".")[2] in _SETTINGS_BASES and ("pydantic" in b or "settings" in b) for b in bases)


def db_engine_for_url(url: str) -> str | None:
    """The Django ENGINE dj-database-url picks for a URL's scheme (None: not a scheme it knows)."""
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    return _DJANGO_ENGINES.get(scheme) or _DJANGO_ENGINES.get(scheme.partition("+")[0])


def cast_text(kind: str, v: V, loc: Loc | None) -> V:
    """A string from the env turned into what the reader returns (``env.int`` → int)."""
    if is_unknown(v) or not isinstance(v.value, str):
        return v
    text = v.value.strip()
    try:
        if kind == "int":
            return Val(int(text), v.loc or loc, v.state, v.reason)
        if kind == "float":
            return Val(float(text), v.loc or loc, v.state, v.reason)
    except ValueError:
        raise Raised("ValueError", f"{text!r} is not a {kind}") from None
    if kind == "bool":
        if text.lower() in _TRUE:
            return Val(True, v.loc or loc, v.state, v.reason)
        if text.lower() in _FALSE:
            return Val(False, v.loc or loc, v.state, v.reason)
        raise Raised("ValueError", f"{text!r} is not a boolean")
    return v


def env_value(interp: Interp, name: Any, loc: Loc | None) -> V | None:
    """The container env's value of ``name``; None when it is not set there."""
    if not isinstance(name, str):
        raise Unsupported("variable name not known")
    got = interp.env.get(name)
    if got is None:
        return None
    if got.state is State.UNKNOWN or got.value is None:
        return unk(got.loc or loc, f"{name}: {got.reason or 'value not known'}")
    return got


def _env(interp: Interp, name: Any, loc: Loc | None, *, case_sensitive: bool = True) -> V | None:
    if not case_sensitive and isinstance(name, str) and name not in interp.env:
        name = interp.env_lower.get(name.lower(), name)
    return env_value(interp, name, loc)


# -- environs, django-environ, decouple --------------------------------------------------------------
_READER_CASTS = {"int": "int", "float": "float", "bool": "bool", "str": "str", "": "str"}


def _read(interp: Interp, reader: Instance, method: str, args: list[V], kwargs: dict[str, V], loc: Loc) -> V:
    """``env.int("X", 5)``, ``env("X", default=...)``, ``config("X", default=5, cast=int)``."""
    named = args[0] if args else kwargs.get("var") or kwargs.get("name") or kwargs.get("option")
    if method in ("dj_db_url", "db", "db_url", "database_url") and named is None:
        named = kn("DATABASE_URL", loc)
    name = plain(named) if named is not None else None
    if not isinstance(name, str):
        raise Unsupported("variable name not known")
    kind = reader.kind
    cast = _READER_CASTS.get(method, "")
    default: V | None = kwargs.get("default")
    if kind in ("environs", "decouple") and default is None and len(args) > 1:
        default = args[1]
    if kind == "django-environ":
        if method == "" and len(args) > 1:
            cast = _cast_name(args[1]) or cast
        elif method and default is None and len(args) > 1:
            default = args[1]
        if "cast" in kwargs:
            cast = _cast_name(kwargs["cast"]) or cast
        scheme = reader.data.get("scheme", {}).get(name)
        if scheme is not None and isinstance(scheme.value, SeqObj) and len(scheme.value.items) == 2:
            cast = _cast_name(scheme.value.items[0]) or cast
            default = default or scheme.value.items[1]
    if method in ("dj_db_url", "db", "db_url", "database_url"):
        return _db_url_reader(interp, name, default, kwargs, loc)
    if kind == "decouple":
        cast_v = kwargs.get("cast")
        got = _env(interp, name, loc)
        raw = got if got is not None else default
        if raw is None:
            raise Raised("UndefinedValueError", f"{name} is not set in the container env and has no default")
        if cast_v is None:
            return raw
        if isinstance(cast_v.value, FuncObj):
            return interp.call_function(cast_v.value, [raw], {}, cast_v.value.node)
        named_cast = _cast_name(cast_v)
        if named_cast is None:
            return unk(loc, f"{name}: the cast of config() is not followed")
        return cast_text(named_cast, raw, loc) if named_cast != "bool" or isinstance(raw.value, str) else raw
    got = _env(interp, name, loc)
    if got is not None:
        return cast_text(cast or "str", got, loc)
    if default is None:
        raise Raised("EnvError", f"{name} is not set in the container env and has no default")
    return default


def _cast_name(v: V | None) -> str | None:
    if v is None or not isinstance(v.value, Ref):
        return None
    return {"builtins.int": "int", "builtins.float": "float", "builtins.bool": "bool",
            "builtins.str": "str"}.get(v.value.qualname)


def _db_url_reader(interp: Interp, name: str, default: V | None, kwargs: dict[str, V], loc: Loc) -> V:
    got = _env(interp, name, loc)
    url = got if got is not None else default
    if url is None:
        raise Raised("EnvError", f"{name} is not set in the container env and has no default")
    return _db_dict(url, kwargs, loc)


def _db_dict(url: V, kwargs: dict[str, V], loc: Loc) -> V:
    """The settings dict dj-database-url builds from a URL (only what a budget needs)."""
    items: dict[Any, V] = {}
    engine = kwargs.get("engine")
    if engine is not None and engine.value is not None:
        items["ENGINE"] = engine
    elif is_unknown(url):
        items["ENGINE"] = url
    elif isinstance(url.value, str):
        found = db_engine_for_url(url.value)
        items["ENGINE"] = Val(found, url.loc, url.state, url.reason) if found else \
            unk(url.loc, f"database URL scheme of {url.value.partition(':')[0]!r} not known")
    age = kwargs.get("conn_max_age")
    items["CONN_MAX_AGE"] = age if age is not None else kn(0, loc, State.DEFAULT, "dj-database-url default 0")
    for option in ("conn_health_checks", "disable_server_side_cursors"):
        if option in kwargs:
            items[option.upper()] = kwargs[option]
    return kn(DictObj(items), loc)


def _dj_database_url(interp: Interp, name: str, args: list[V], kwargs: dict[str, V], loc: Loc) -> V:
    """``dj_database_url.config(env=..., default=...)`` reads the env; ``parse(url)`` does not."""
    if name == "parse":
        url = args[0] if args else kwargs.get("url")
        if url is None:
            raise Unsupported("dj_database_url.parse() without a URL")
        return _db_dict(url, kwargs, loc)
    var = plain(kwargs["env"]) if "env" in kwargs else plain(args[0]) if args else "DATABASE_URL"
    got = _env(interp, var, loc)
    url = got if got is not None else kwargs.get("default") or (args[1] if len(args) > 1 else None)
    if url is None or (not is_unknown(url) and not url.value):
        return kn(DictObj(), loc)  # dj-database-url returns {} when nothing is set
    return _db_dict(url, kwargs, loc)


# -- pydantic settings -----------------------------------------------------------------------------
def _field(args: list[V], kwargs: dict[str, V], loc: Loc) -> V:
    """pydantic ``Field(...)``: its default and the env names an alias replaces the field name with."""
    data: dict[str, Any] = {}
    default = args[0] if args else kwargs.get("default")
    if default is not None and default.value is not Ellipsis:
        data["default"] = default
    if "default_factory" in kwargs:
        data["default"] = unk(loc, "default_factory is not followed")
    names: list[str] = []
    for key in ("validation_alias", "alias", "env"):
        v = kwargs.get(key)
        if v is None or is_unknown(v):
            continue
        if isinstance(v.value, str):
            names.append(v.value)
        elif isinstance(v.value, SeqObj):
            names.extend(str(i.value) for i in v.value.items if isinstance(i.value, str))
        if names:
            break
    data["names"] = names
    return kn(Instance("field", data=data), loc)


def _settings_config(interp: Interp, cls: ClassObj) -> dict[str, Any]:
    """``env_prefix`` / ``case_sensitive`` from ``model_config`` (v2) or ``class Config`` (v1), nearest class first."""
    for klass in interp.mro(cls):
        ns = interp.class_ns(klass)
        conf = ns.get("model_config")
        items: dict[Any, V] = {}
        if conf is not None and isinstance(conf.value, DictObj):
            items = conf.value.items
        elif "Config" in ns and isinstance(ns["Config"].value, ClassObj):
            items = interp.class_ns(ns["Config"].value)
        if items:
            return {k: plain(v) for k, v in items.items() if not is_unknown(v) and _is_plain(v)}
    return {}


def _is_plain(v: V) -> bool:
    try:
        plain(v)
        return True
    except Unsupported:
        return False


def _annotation_cast(node: ast.expr | None) -> str:
    """pydantic converts an env string by the field's annotation; only numbers and booleans matter here."""
    if node is None:
        return "str"
    text = ast.unparse(node)
    for kind, names in (("bool", ("bool", "StrictBool")), ("int", ("int", "PositiveInt", "NonNegativeInt",
                        "conint", "StrictInt")), ("float", ("float", "PositiveFloat", "confloat"))):
        if any(re.search(rf"\b{n}\b", text) for n in names):
            return kind
    return "str"


def settings_field(interp: Interp, inst: Instance, name: str, node: ast.AST, frame: Any) -> V:
    """``settings.NAME`` of a pydantic ``BaseSettings``: init kwargs, the env, then the default."""
    assert inst.cls is not None
    loc = frame.source.loc(node)
    given = inst.data.get("kwargs", {})
    if name in given:
        return given[name]
    owner = next((k for k in interp.mro(inst.cls) if name in interp.class_ns(k) or name in k.annotations), None)
    if owner is None:
        return unk(loc, f"{inst.cls.name}.{name} is not a field")
    value = interp.class_ns(owner).get(name)
    if name not in owner.annotations:
        if value is not None and isinstance(value.value, FuncObj):
            return unk(value.loc, f"{inst.cls.name}.{name} is computed by a method")
        return value if value is not None else unk(loc, f"{inst.cls.name}.{name} is not set")
    config = _settings_config(interp, inst.cls)
    prefix = str(config.get("env_prefix") or "")
    case_sensitive = bool(config.get("case_sensitive", False))
    default = value
    names = [prefix + name]
    if value is not None and isinstance(value.value, Instance) and value.value.kind == "field":
        default = value.value.data.get("default")
        names = value.value.data.get("names") or names
    for env_name in names:
        got = _env(interp, env_name, loc, case_sensitive=case_sensitive)
        if got is None or (config.get("env_ignore_empty") and got.value == ""):
            continue
        return cast_text(_annotation_cast(owner.annotations.get(name)), got, loc)
    if default is None:
        return unk(loc, f"required setting {names[0]} is not set in the container env")
    return default


# -- dispatch ----------------------------------------------------------------------------------
def call_ref(interp: Interp, name: str, args: list[V], kwargs: dict[str, V], loc: Loc) -> V | None:
    """Library functions and classes by dotted name; None when not modelled here."""
    if name in ("environs.Env",):
        return kn(Instance("environs"), loc)
    if name in ("environ.Env", "environ.environ.Env"):
        return kn(Instance("django-environ", data={"scheme": kwargs}), loc)
    if name in ("decouple.AutoConfig", "decouple.Config"):
        return kn(Instance("decouple"), loc)
    if name == "decouple.config":
        return _read(interp, Instance("decouple"), "", args, kwargs, loc)
    if name.startswith("dj_database_url."):
        return _dj_database_url(interp, name.rpartition(".")[2], args, kwargs, loc)
    if name in ("pydantic.Field", "pydantic.fields.Field", "pydantic.v1.Field"):
        return _field(args, kwargs, loc)
    if name.endswith(("SettingsConfigDict", "ConfigDict")):
        return kn(DictObj(dict(kwargs)), loc)
    if name.endswith("AliasChoices"):
        return kn(SeqObj(list(args), "tuple"), loc)
    if name in ("functools.lru_cache", "functools.cache"):
        return args[0] if args else kn(Ref("builtins.print"), loc)
    return None


def call_instance(interp: Interp, inst: Instance, args: list[V], kwargs: dict[str, V], loc: Loc) -> V:
    if inst.kind in ("environs", "django-environ", "decouple"):
        return _read(interp, inst, "", args, kwargs, loc)
    raise Unsupported(f"calling a {inst.kind} object is not followed")


def call_instance_method(interp: Interp, inst: Instance, name: str, args: list[V], kwargs: dict[str, V],
                         loc: Loc) -> V:
    """Methods of env reader objects: ``env.int(...)``, ``env.read_env()``."""
    if inst.kind in ("environs", "django-environ"):
        if name in ("read_env", "prefixed", "smart_cast"):
            return kn(None, loc)
        return _read(interp, inst, name, args, kwargs, loc)
    raise Unsupported(f"{inst.kind}.{name}() is not followed")
