"""The configuration file: find it, read it, validate it, turn it into a :class:`~scalelint.config.Config`.

Where (SPEC §4): ``.scalelint.yaml``, ``.scalelint.yml`` or a ``[tool.scalelint]``
table in ``pyproject.toml``, looked for from the working directory upward; the
search stops at the repository root (a directory holding ``.git``), like ruff
and pre-commit. In one directory the first of those three names wins.
``--config PATH`` names the file instead.

Merge order is flake8's: defaults → file → command line. The command line is
applied by the caller (``cli.py``) on top of :func:`load_config`'s result.

Every problem is a :class:`ConfigError` whose text is one line naming the
file, the key path and what is wrong, with a "did you mean" when a known key
is close. jsonschema is imported only when a file exists.
"""
from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from typing import Any

from scalelint.config import Config, ExternalDatabase, SourceMapping
from scalelint.config.schema import explain, locate, ordered, path_text
from scalelint.findings import Severity

CONFIG_NAMES = (".scalelint.yaml", ".scalelint.yml")
PYPROJECT = "pyproject.toml"
SCHEMA_FILE = "config.schema.json"
#: PostgreSQL and MySQL defaults for a configured database without numbers (SPEC §3 SL003)
_ENGINE_DEFAULTS = {"postgresql": (100, 3), "mysql": (151, 0), "mariadb": (151, 0)}
_TOOL_TABLE = re.compile(r'^\s*\[\s*tool\s*\.\s*"?scalelint"?\s*[\].]', re.MULTILINE)


class ConfigError(Exception):
    """A configuration that cannot be used: exit 2 with this one line."""


@dataclass
class ConfigFile:
    """One parsed config file: plain data for validation, the positioned tree for messages."""

    path: str  # as shown to the user
    data: dict[str, Any]
    tree: Any  # YMap (YAML) or the plain table (TOML: no positions)
    #: key path of the settings inside the file (``tool.scalelint`` for pyproject.toml)
    prefix: tuple[str, ...] = ()

    @property
    def directory(self) -> str:
        return os.path.dirname(os.path.abspath(self.path))

    def where(self, path: list[Any], key: bool = False) -> str:
        """``file:line:col`` of a key path (just the file when the format has no positions)."""
        _, (line, col) = locate(self.tree, path, key)
        return f"{self.path}:{line}:{col}" if line else self.path

    def key(self, path: list[Any]) -> str:
        return path_text(list(self.prefix) + list(path)) or "(top level)"

    def problem(self, path: list[Any], message: str, key: bool = False) -> ConfigError:
        return ConfigError(f"{self.where(path, key)}: {self.key(path)}: {message}")


# --------------------------------------------------------------------------- finding


def find_config(cwd: str) -> str | None:
    """The nearest config file from ``cwd`` up to the repository root, or None."""
    directory = os.path.abspath(cwd)
    while True:
        for name in CONFIG_NAMES:
            candidate = os.path.join(directory, name)
            if os.path.isfile(candidate):
                return candidate
        candidate = os.path.join(directory, PYPROJECT)
        if os.path.isfile(candidate) and _has_tool_table(candidate):
            return candidate
        if os.path.exists(os.path.join(directory, ".git")):
            return None  # the repository root: settings above it belong to someone else
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def _has_tool_table(path: str) -> bool:
    """A cheap text test, so that a pyproject.toml without our table is never parsed (nor blamed)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return bool(_TOOL_TABLE.search(fh.read()))
    except OSError:
        return False


def _display(path: str, cwd: str) -> str:
    """A found file relative to the working directory (``../.scalelint.yaml``) when that is shorter."""
    try:
        rel = os.path.relpath(path, cwd)
    except ValueError:  # another drive on Windows
        return path
    return rel if len(rel) < len(path) else path


# --------------------------------------------------------------------------- reading


def read_config(path: str, shown: str | None = None) -> ConfigFile:
    shown = shown or path
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise ConfigError(f"{shown}: cannot read config file: {exc.strerror or exc}") from None
    if path.endswith(".toml"):
        return _read_toml(raw, shown)
    return _read_yaml(raw, shown)


def _read_toml(raw: bytes, shown: str) -> ConfigFile:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{shown}: invalid TOML: {exc}") from None
    tool = doc.get("tool")
    table = tool.get("scalelint") if isinstance(tool, dict) else None
    if table is None:
        raise ConfigError(f"{shown}: no [tool.scalelint] table")
    cf = ConfigFile(shown, table, table, ("tool", "scalelint"))
    if not isinstance(table, dict):
        raise cf.problem([], "expected a table")
    return cf


def _read_yaml(raw: bytes, shown: str) -> ConfigFile:
    from scalelint.load.parse import LoadError, compose_documents
    from scalelint.load.read import decode
    from scalelint.load.tree import to_plain

    try:
        docs = compose_documents(decode(raw), shown)
    except LoadError as exc:
        line, col = exc.pos
        raise ConfigError(f"{shown}:{line}:{col}: {exc.message}") from None
    if len(docs) > 1:
        raise ConfigError(f"{shown}: a config file holds one YAML document, found {len(docs)}")
    root = docs[0].root if docs else None
    if root is None:
        return ConfigFile(shown, {}, {})
    cf = ConfigFile(shown, {}, root)
    if not isinstance(root, dict):
        raise cf.problem([], "expected a mapping of settings")
    cf.data = to_plain(root)
    return cf


# --------------------------------------------------------------------------- validating


def config_schema() -> dict[str, Any]:
    """The JSON Schema of the settings, as shipped in the package."""
    import json
    from importlib import resources

    return json.loads(resources.files("scalelint.config").joinpath(SCHEMA_FILE).read_text(encoding="utf-8"))


def validate(cf: ConfigFile) -> None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(config_schema())
    errors = ordered(validator.iter_errors(cf.data), cf.tree)
    if errors:
        raise cf.problem(*explain(errors[0]))


# --------------------------------------------------------------------------- applying


def _resolve_path(path: str, base: str, cwd: str) -> str:
    """A path written in the config, relative to its directory, as a path relative to ``cwd``."""
    if os.path.isabs(path):
        return path
    joined = os.path.normpath(os.path.join(base, path))
    try:
        return os.path.relpath(joined, cwd)
    except ValueError:  # pragma: no cover - another drive on Windows
        return joined


def _anchor_glob(pattern: str, base: str, cwd: str) -> list[str]:
    """Exclude globs: one with a slash is anchored at the config's directory (as in .gitignore),
    one without matches any path component wherever the run starts."""
    norm = pattern.replace("\\", "/")
    if "/" not in norm.rstrip("/"):
        return [pattern]
    norm = norm.lstrip("/")
    while norm.startswith("./"):
        norm = norm[2:]
    absolute = os.path.normpath(os.path.join(base, norm))
    try:
        forms = [os.path.relpath(absolute, cwd), absolute]
    except ValueError:  # pragma: no cover - another drive on Windows
        forms = [absolute]
    out: list[str] = []
    for form in forms:
        form = form.replace(os.sep, "/") + ("/" if norm.endswith("/") else "")
        if form not in out:
            out.append(form)
    return out


def _record_origins(cf: ConfigFile, config: Config, node: Any, path: list[Any]) -> None:
    """Positions of what a later stage may point at: rule names and params, configured databases."""
    if path:
        config.origins[path_text(path)] = cf.where(path, key=True)
    if isinstance(node, dict) and (not path or path[0] in ("severity", "rules", "databases")):
        for key in node:
            _record_origins(cf, config, node[key], path + [key])
    elif isinstance(node, list) and path and path[0] in ("select", "extend-select", "ignore", "databases", "sources"):
        for i in range(len(node)):
            _record_origins(cf, config, node[i], path + [i])


def apply(cf: ConfigFile, config: Config, cwd: str) -> None:
    """Copy validated settings into ``config``; relative paths are relative to the file's directory."""
    data, base = cf.data, cf.directory
    config.source = cf.path
    _record_origins(cf, config, cf.tree if isinstance(cf.tree, dict) else data, [])
    if "select" in data:
        config.select = list(data["select"])
    if "extend-select" in data:
        config.extend_select = list(data["extend-select"])
    if "ignore" in data:
        config.ignore = list(data["ignore"])
    if "severity" in data:
        config.severity = {k: Severity.parse(v) for k, v in data["severity"].items()}
    if "fail-on" in data:
        config.fail_on = Severity.parse(data["fail-on"])
    if "exclude" in data:
        config.exclude = [form for p in data["exclude"] for form in _anchor_glob(p, base, cwd)]
    if "group-by" in data:
        config.group_by = data["group-by"]
    if "groups" in data:
        config.groups = [[form for p in unit for form in _anchor_glob(p, base, cwd)] for unit in data["groups"]]
    if "rules" in data:
        config.rule_params = {str(k): dict(v) for k, v in data["rules"].items()}
    if "ha-required" in data:
        config.ha_required = list(data["ha-required"])
    if "databases" in data:
        config.databases = [_database(entry) for entry in data["databases"]]
    if "env-file" in data:
        files = data["env-file"]
        config.env_files = [_resolve_path(p, base, cwd) for p in ([files] if isinstance(files, str) else files)]
    if "workers-env" in data:
        config.workers_env = list(data["workers-env"])
    pool = data.get("pool-env", {})
    if "size" in pool:
        config.pool_size_env = list(pool["size"])
    if "overflow" in pool:
        config.max_overflow_env = list(pool["overflow"])
    if "memory-per-worker" in data:
        config.memory_per_worker = _memory(cf, data["memory-per-worker"])
    if "max-workers-per-pod" in data:
        config.max_workers_per_pod = data["max-workers-per-pod"]
    if "nodes" in data:
        config.nodes = data["nodes"]
    if "sources" in data:
        config.sources = [SourceMapping(
            image=entry["image"], path=_resolve_path(entry["path"], base, cwd), dockerfile=entry.get("dockerfile"),
            target=entry.get("target"), origin=config.origins.get(f"sources[{i}]", cf.path),
        ) for i, entry in enumerate(data["sources"])]
    if "rules-dirs" in data:
        config.rules_dirs = [_resolve_path(p, base, cwd) for p in data["rules-dirs"]]
    if "values" in data.get("helm", {}):
        config.helm_values = [_resolve_path(p, base, cwd) for p in data["helm"]["values"]]


def _database(entry: dict[str, Any]) -> ExternalDatabase:
    engine = entry.get("engine", "postgresql")
    engine = "postgresql" if engine == "postgres" else engine
    max_conn, reserved = _ENGINE_DEFAULTS[engine]
    return ExternalDatabase(
        name=entry["name"], hosts=tuple(entry["hosts"]),
        max_connections=entry.get("max-connections", max_conn), reserved=entry.get("reserved", reserved),
        engine=engine,
    )


def _memory(cf: ConfigFile, value: Any) -> int:
    from scalelint.model.quantity import k8s_memory

    amount = k8s_memory(value)
    if amount is None or amount <= 0:
        raise cf.problem(["memory-per-worker"], f"expected a memory quantity such as '512Mi', got {value!r}")
    return amount


def load_config(explicit_path: str | None, cwd: str, isolated: bool = False) -> Config:
    """Defaults ← the config file (``explicit_path``, else the nearest one above ``cwd``).

    The command line goes on top (see ``cli.py``); :func:`scalelint.check.settings.check_against` then
    checks rule names and params once the registry is known.
    """
    config = Config()
    if isolated:
        return config
    if explicit_path is not None:
        if not os.path.isfile(explicit_path):
            raise ConfigError(f"{explicit_path}: config file not found")
        path, shown = explicit_path, explicit_path
    else:
        found = find_config(cwd)
        if found is None:
            return config
        path, shown = found, _display(found, cwd)
    cf = read_config(path, shown)
    validate(cf)
    apply(cf, config, cwd)
    return config


def override(config: Config, key: str, value: Any, flag: str) -> None:
    """A command-line value replaces the file's (flake8's order), and messages blame the flag."""
    setattr(config, key.replace("-", "_"), value)
    for origin in [o for o in config.origins if o == key or o.startswith((key + "[", key + "."))]:
        del config.origins[origin]
    config.origins[key] = flag
