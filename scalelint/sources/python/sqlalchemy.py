"""SQLAlchemy engines: ``create_engine`` and friends, SQLModel, and Flask-SQLAlchemy.

A QueuePool holds up to ``pool_size + max_overflow`` connections (SQLAlchemy's defaults are
5 + 10); ``poolclass=NullPool`` or ``pool_size=0`` removes the ceiling. Flask-SQLAlchemy
builds the engine itself from the Flask config, and what it passes depends on its version:

- 2.x: ``SQLALCHEMY_POOL_SIZE`` / ``SQLALCHEMY_MAX_OVERFLOW`` when not None, then
  ``pool_size`` 10 for ``mysql*`` URLs (a ``setdefault``), then ``SQLALCHEMY_ENGINE_OPTIONS``,
  then the constructor's ``engine_options`` (highest);
- 3.x: the constructor's ``engine_options``, overridden by ``SQLALCHEMY_ENGINE_OPTIONS``; the
  two pool keys are gone and MySQL gets no pool default.

A subclass's ``apply_pool_defaults`` / ``apply_driver_hacks`` that set ``options[...]`` are
applied where they run (Redash switches to NullPool there when asked).
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field

from scalelint.findings import Loc, Notice
from scalelint.model import State, Val, default, unknown
from scalelint.sources.python.evaluator import Frame
from scalelint.sources.python.interp import Interp
from scalelint.sources.python.pools import Pool, add, as_count, is_sqlite, url_text
from scalelint.sources.python.requirements import Pin, find_pin
from scalelint.sources.python.sites import Scan, Site, counts, excluded_path, walk
from scalelint.sources.python.tree import Source
from scalelint.sources.python.values import ClassObj, DictObj, Ref, V, is_unknown, kn, truth

__all__ = ["engine_pool", "find_sqlalchemy"]

ENGINE_FUNCS = {
    "sqlalchemy.create_engine": "sqlalchemy", "sqlalchemy.engine.create_engine": "sqlalchemy",
    "sqlalchemy.engine.create.create_engine": "sqlalchemy",
    "sqlalchemy.ext.asyncio.create_async_engine": "sqlalchemy",
    "sqlalchemy.ext.asyncio.engine.create_async_engine": "sqlalchemy",
    "sqlalchemy.engine_from_config": "sqlalchemy", "sqlalchemy.engine.engine_from_config": "sqlalchemy",
    "sqlalchemy.ext.asyncio.async_engine_from_config": "sqlalchemy",
    "sqlmodel.create_engine": "sqlmodel", "sqlmodel.ext.asyncio.session.create_async_engine": "sqlmodel",
}
FSA_CLASSES = frozenset({"flask_sqlalchemy.SQLAlchemy", "flask_sqlalchemy.extension.SQLAlchemy"})
NEEDLES = (b"create_engine", b"create_async_engine", b"engine_from_config", b"flask_sqlalchemy")
_NAMES = frozenset({"create_engine", "create_async_engine", "engine_from_config", "async_engine_from_config",
                    "SQLAlchemy"})
_FLASK_KEYS = ("SQLALCHEMY_DATABASE_URI", "SQLALCHEMY_ENGINE_OPTIONS", "SQLALCHEMY_POOL_SIZE",
               "SQLALCHEMY_MAX_OVERFLOW", "SQLALCHEMY_BINDS")
_UNBOUNDED_POOLS = {"NullPool": "poolclass=NullPool opens a new connection for every checkout, with no limit"}
_POOL_WORDS = frozenset({"pool_size", "max_overflow", "poolclass"})
_SINGLE_POOLS = ("StaticPool", "AssertionPool", "SingletonThreadPool")


def engine_pool(options: dict[str, V], where: Loc, library: str, defaults_at: dict[str, Loc] | None = None,
                default_pool: Val[int] | None = None) -> Pool:
    """The pool ``create_engine(**options)`` builds; absent settings take SQLAlchemy's defaults at ``where``."""
    at = defaults_at or {}
    poolclass = options.get("poolclass")
    pool_name = poolclass.value.qualname.rpartition(".")[2] if poolclass and isinstance(poolclass.value, Ref) else ""
    if pool_name in _UNBOUNDED_POOLS:
        return Pool(library, unknown(poolclass.loc if poolclass else where, _UNBOUNDED_POOLS[pool_name]), where,
                    unbounded=_UNBOUNDED_POOLS[pool_name])
    if pool_name in _SINGLE_POOLS:
        one = Val(1, poolclass.loc if poolclass else where, State.KNOWN, f"poolclass={pool_name} holds one connection")
        return Pool(library, one, where)
    if "**" in options:
        spread = options["**"]
        reason = f"engine options passed as **kwargs that cannot be read ({spread.reason})"
        size = as_count(options.get("pool_size"), "pool_size", where) or unknown(spread.loc, reason)
        overflow = as_count(options.get("max_overflow"), "max_overflow", where) or unknown(spread.loc, reason)
    else:
        size = as_count(options.get("pool_size"), "pool_size", where) or default_pool or default(
            5, at.get("pool_size", where), "SQLAlchemy default pool_size 5")
        overflow = as_count(options.get("max_overflow"), "max_overflow", where) or default(
            10, at.get("max_overflow", where), "SQLAlchemy default max_overflow 10")
    if size.known and size.value == 0:
        reason = "pool_size=0 means a QueuePool without a size limit"
        return Pool(library, unknown(size.loc, reason), where, size, overflow, unbounded=reason)
    if overflow.known and overflow.value is not None and overflow.value < 0:
        reason = "max_overflow=-1 means no limit on overflow connections"
        return Pool(library, unknown(overflow.loc, reason), where, size, overflow, unbounded=reason)
    if poolclass is not None and is_unknown(poolclass):
        return Pool(library, unknown(poolclass.loc, f"poolclass not known: {poolclass.reason}"), where, size, overflow)
    return Pool(library, add([size, overflow], where), where, size, overflow)


def _engine_options(interp: Interp, site: Site, qualname: str, frame: Frame) -> tuple[dict[str, V], V | None]:
    """``create_engine(url, **options)`` and ``engine_from_config(config, prefix)`` options."""
    args, kwargs = interp.call_arguments(site.call, frame)
    url = args[0] if args else kwargs.get("url")
    if qualname.endswith("engine_from_config"):
        config = args[0] if args else kwargs.get("configuration")
        prefix_v = args[1] if len(args) > 1 else kwargs.get("prefix")
        prefix = prefix_v.value if prefix_v is not None and isinstance(prefix_v.value, str) else "sqlalchemy."
        options: dict[str, V] = {}
        if config is not None and isinstance(config.value, DictObj):
            options = {str(k)[len(prefix):]: v for k, v in config.value.items.items()
                       if isinstance(k, str) and k.startswith(prefix)}
            if config.value.partial:
                options.setdefault("**", kn(None, config.loc))
        elif config is not None:
            options["**"] = config if is_unknown(config) else unknown(config.loc, "configuration not readable")
        url = options.pop("url", None)
        options.update({k: v for k, v in kwargs.items() if k not in ("configuration", "prefix")})
        return options, url
    return {k: v for k, v in kwargs.items() if k != "url"}, url


@dataclass
class _FlaskConfig:
    """SQLALCHEMY_* values offered by config objects; the highest rank (then the last) wins."""

    values: dict[str, tuple[int, str, V]] = field(default_factory=dict)
    alternatives: dict[str, list[str]] = field(default_factory=dict)

    def offer(self, key: str, rank: int, label: str, value: V) -> None:
        self.alternatives.setdefault(key, []).append(label)
        old = self.values.get(key)
        if old is None or rank >= old[0]:
            self.values[key] = (rank, label, value)

    def get(self, key: str) -> V | None:
        found = self.values.get(key)
        return found[2] if found else None


def _rank(name: str) -> int:
    """Which config object wins when several set a key: tests never, production first."""
    lowered = name.lower()
    if "test" in lowered:
        return -1
    if "prod" in lowered:
        return 2
    if "dev" in lowered or "local" in lowered or "debug" in lowered:
        return 0
    return 1


def _flask_config(interp: Interp) -> _FlaskConfig:
    """SQLALCHEMY_* settings wherever the tree sets them: config modules, config classes, app.config."""
    config = _FlaskConfig()
    tree = interp.tree
    for rel in tree.grep((b"SQLALCHEMY_",)):
        if excluded_path(rel) or _rank(rel) < 0:
            continue
        source = tree.parse(rel)
        if source is None:
            continue
        module_keys: set[str] = set()
        for node, chain, _stmt, main in walk(source):
            if main:
                continue
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and not any(
                    isinstance(c, (ast.FunctionDef, ast.AsyncFunctionDef)) for c in chain):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Name) and target.id in _FLASK_KEYS:
                        classes = [c for c in chain if isinstance(c, ast.ClassDef)]
                        if classes:
                            _offer_class(interp, config, source, classes[-1], target.id)
                        else:
                            module_keys.add(target.id)
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    key = _config_subscript(target)
                    if key:
                        frame = interp.frame_at(source, chain, node)
                        config.offer(key, 3, f"{source.loc(target)}", interp.value_of(node.value, frame))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr in ("update", "from_mapping") and _is_config(node.func.value):
                frame = interp.frame_at(source, chain, node)
                args, kwargs = interp.call_arguments(node, frame)
                for arg in args:
                    if isinstance(arg.value, DictObj):
                        kwargs.update({str(k): v for k, v in arg.value.items.items()})
                for key in _FLASK_KEYS:
                    if key in kwargs:
                        config.offer(key, 3, f"{source.loc(node)}", kwargs[key])
        if module_keys:
            state = interp.load_source(source)
            for key in sorted(module_keys):
                if state is not None and key in state.ns:
                    config.offer(key, _rank(source.module), source.module, state.ns[key])
    return config


def _offer_class(interp: Interp, config: _FlaskConfig, source: Source, node: ast.ClassDef, key: str) -> None:
    """A config class's value for ``key`` (inherited values are read through the class)."""
    rank = _rank(node.name)
    if rank < 0:
        return
    state = interp.load_source(source)
    cls = state.ns.get(node.name) if state else None
    if cls is None or not isinstance(cls.value, ClassObj):
        return
    value = interp.class_ns(cls.value).get(key)
    if value is not None:
        config.offer(key, rank, f"{source.module}.{node.name}", value)


def _is_config(node: ast.expr) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "config"


def _config_subscript(target: ast.expr) -> str | None:
    if isinstance(target, ast.Subscript) and _is_config(target.value) and isinstance(target.slice, ast.Constant) \
            and target.slice.value in _FLASK_KEYS:
        return str(target.slice.value)
    return None


def _hook_options(interp: Interp, cls: ClassObj | None, method: str, options: dict[str, V],
                  notices: list[Notice]) -> None:
    """Apply ``options["k"] = v`` / ``options.update(...)`` from a Flask-SQLAlchemy subclass's hook."""
    if cls is None:
        return
    for klass in reversed(interp.mro(cls)):
        fn = next((s for s in klass.node.body if isinstance(s, ast.FunctionDef) and s.name == method), None)
        if fn is None or len(fn.args.args) < 2:
            continue
        name = fn.args.args[-1].arg  # (self, app, options) / (self, app, info, options)
        _run_hook(interp, klass, fn, fn.body, name, options, notices)


def _run_hook(interp: Interp, klass: ClassObj, fn: ast.FunctionDef, body: list[ast.stmt], name: str,
              options: dict[str, V], notices: list[Notice]) -> None:
    """Statements of a subclass hook: decided branches, ``options[...] =`` and ``options.update``."""
    for stmt in body:
        frame = interp.frame_at(klass.source, [klass.node, fn], stmt)
        if isinstance(stmt, ast.If):
            test = interp.value_of(stmt.test, frame)
            decided = truth(test)
            if decided is None:
                if _POOL_WORDS & {n.value for n in ast.walk(stmt) if isinstance(n, ast.Constant)}:
                    loc = klass.source.loc(stmt)
                    notices.append(Notice(f"{klass.name}.{fn.name}: pool options under a condition that cannot be "
                                          f"decided ({test.reason}) are ignored", loc.path, loc.line, loc.column))
                continue
            _run_hook(interp, klass, fn, stmt.body if decided else stmt.orelse, name, options, notices)
        elif isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) \
                        and target.value.id == name and isinstance(target.slice, ast.Constant):
                    options[str(target.slice.value)] = interp.value_of(stmt.value, frame)
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            call = stmt.value
            if isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name) \
                    and call.func.value.id == name:
                args, kwargs = interp.call_arguments(call, frame)
                if call.func.attr == "update":
                    options.update(kwargs)
                    for arg in args:
                        if isinstance(arg.value, DictObj):
                            options.update({str(k): v for k, v in arg.value.items.items()})
                elif call.func.attr == "pop" and args and isinstance(args[0].value, str):
                    options.pop(args[0].value, None)
                elif call.func.attr == "setdefault" and len(args) == 2 and isinstance(args[0].value, str):
                    options.setdefault(args[0].value, args[1])


def _dict_items(v: V | None) -> dict[str, V]:
    if v is None or not isinstance(v.value, DictObj):
        return {} if v is None or not is_unknown(v) else {"**": v}
    items = {str(k): i for k, i in v.value.items.items()}
    if v.value.partial:
        items["**"] = unknown(v.loc, "SQLALCHEMY_ENGINE_OPTIONS not fully readable")
    return items


def _flask_pool(interp: Interp, site: Site, cls: ClassObj | None, frame: Frame, db_scheme: str | None,
                notices: list[Notice]) -> Pool | None:
    """The engine options Flask-SQLAlchemy passes, in the order its version applies them."""
    where = site.source.loc(site.call)
    pin = _display_pin(interp, find_pin(interp.tree.abs_root, "flask-sqlalchemy"))
    major = pin.major if pin else None
    label = f"flask-sqlalchemy {pin.version}" if pin and pin.version else "flask-sqlalchemy"
    if pin is None or major is None:
        notices.append(Notice("Flask-SQLAlchemy version not pinned in the build context; read as 3.x "
                              "(SQLALCHEMY_POOL_SIZE/_MAX_OVERFLOW ignored, no MySQL pool default)",
                              where.path, where.line, where.column))
    config = _flask_config(interp)
    _, kwargs = interp.call_arguments(site.call, frame)
    ctor = _dict_items(kwargs.get("engine_options"))
    url = db_scheme or url_text(config.get("SQLALCHEMY_DATABASE_URI"))
    binds = config.get("SQLALCHEMY_BINDS")
    if binds is not None and isinstance(binds.value, DictObj) and binds.value.items and binds.loc is not None:
        notices.append(Notice(f"SQLALCHEMY_BINDS adds {len(binds.value.items)} engine(s) with the same options, "
                              "for other databases: not counted here", binds.loc.path, binds.loc.line,
                              binds.loc.column))
    if is_sqlite(url):
        notices.append(Notice("Flask-SQLAlchemy URL is SQLite: not a network database", where.path, where.line,
                              where.column))
        return None
    options: dict[str, V] = {}
    defaults_at: dict[str, Loc] = {}
    default_pool: Val[int] | None = None
    if major is not None and major < 3:
        for key, option in (("SQLALCHEMY_POOL_SIZE", "pool_size"), ("SQLALCHEMY_MAX_OVERFLOW", "max_overflow")):
            value = config.get(key)
            if value is not None and (is_unknown(value) or value.value is not None):
                options[option] = value
            elif value is not None and value.loc is not None:
                defaults_at[option] = value.loc  # set to None: the library default applies, from there
        _hook_options(interp, cls, "apply_pool_defaults", options, notices)
        scheme = (url or "").lower()
        if scheme.startswith("mysql") and not scheme.startswith("mysql+gaerdbms") and "pool_size" not in options:
            default_pool = default(10, pin.loc if pin else where,
                                   f"Flask-SQLAlchemy {pin.version if pin else '2.x'} sets pool_size 10 for MySQL URLs")
        elif url is None and "pool_size" not in options:
            notices.append(Notice("database URL not known: Flask-SQLAlchemy 2.x would use pool_size 10 for MySQL",
                                  where.path, where.line, where.column))
        _hook_options(interp, cls, "apply_driver_hacks", options, notices)
        options.update(_dict_items(config.get("SQLALCHEMY_ENGINE_OPTIONS")))
        options.update(ctor)
    else:
        for key in ("SQLALCHEMY_POOL_SIZE", "SQLALCHEMY_MAX_OVERFLOW"):
            value = config.get(key)
            if value is not None and value.value is not None and value.loc is not None:
                notices.append(Notice(f"{key} is ignored by Flask-SQLAlchemy 3", value.loc.path, value.loc.line,
                                      value.loc.column))
        options.update(ctor)
        options.update(_dict_items(config.get("SQLALCHEMY_ENGINE_OPTIONS")))
    return engine_pool(options, where, label, defaults_at, default_pool)


def _display_pin(interp: Interp, pin: Pin | None) -> Pin | None:
    """The pin with its path as the caller names the root, not the absolute one."""
    if pin is None:
        return None
    rel = pin.loc.path[len(interp.tree.abs_root) + 1:] if pin.loc.path.startswith(interp.tree.abs_root) else None
    if rel is None:
        return pin
    return Pin(pin.name, pin.version, pin.spec, pin.major, Loc(interp.tree.display(rel), pin.loc.line, pin.loc.column))


def _subclass_names(interp: Interp) -> frozenset[str]:
    """Names of classes that derive from Flask-SQLAlchemy's ``SQLAlchemy`` (Redash's ``RedashSQLAlchemy``)."""
    names: set[str] = set()
    for rel in interp.tree.grep((b"flask_sqlalchemy",)):
        source = interp.tree.parse(rel)
        if source is None:
            continue
        for node in ast.walk(source.tree):
            if isinstance(node, ast.ClassDef) and any(ast.unparse(b).endswith("SQLAlchemy") for b in node.bases):
                names.add(node.name)
    return frozenset(names)


def find_sqlalchemy(interp: Interp, scan: Scan, db_scheme: str | None) -> tuple[list[Pool], list[Notice]]:
    """Every SQLAlchemy engine the serving process builds, with the ones left out said in notices."""
    pools: list[Pool] = []
    notices: list[Notice] = []
    subclasses = _subclass_names(interp)
    needles = NEEDLES + tuple(name.encode() + b"(" for name in sorted(subclasses))
    for site, fv in scan.sites(needles, _NAMES | subclasses):
        target = fv.value
        flask_cls: ClassObj | None = None
        if isinstance(target, Ref) and target.qualname in ENGINE_FUNCS:
            kind, what = "engine", target.qualname.rpartition(".")[2]
        elif isinstance(target, Ref) and target.qualname in FSA_CLASSES:
            kind, what = "flask", "Flask-SQLAlchemy"
        elif isinstance(target, ClassObj) and interp.library_bases(target) & FSA_CLASSES:
            kind, what, flask_cls = "flask", f"Flask-SQLAlchemy ({target.name})", target
        else:
            continue
        reason = scan.skip_reason(site, always=kind == "flask")
        if reason:
            scan.skipped(site, what, reason)
            continue
        frame = interp.frame_at(site.source, site.chain, site.call)
        if kind == "flask":
            pool = _flask_pool(interp, site, flask_cls, frame, db_scheme, notices)
        else:
            assert isinstance(target, Ref)
            options, url = _engine_options(interp, site, target.qualname, frame)
            if is_sqlite(url_text(url)):
                scan.skipped(site, what, "SQLite URL: not a network database")
                continue
            pool = engine_pool(options, site.source.loc(site.call), ENGINE_FUNCS[target.qualname])
        if pool is not None:
            pool.why = f"{what}: {'the extension the app uses' if kind == 'flask' else counts(site)[1]}"
            pool.reachable = scan.reachable(site)
            pools.append(pool)
    return pools, notices

