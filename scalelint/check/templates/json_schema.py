"""``json-schema``: a team's own policy as a JSON Schema, applied to the objects in scope — no Python needed.

A rule file in a ``rules-dirs`` directory binds it::

    code: ACME001
    name: prod-replicas
    template: json-schema
    severity: error
    summary: Every Deployment in namespace prod runs at least 3 replicas.
    params:
      scope: {kinds: [Deployment], namespaces: [prod]}
      schema:
        type: object
        required: [spec]
        properties:
          spec:
            type: object
            required: [replicas]
            properties: {replicas: {type: integer, minimum: 3}}

Each schema error is one finding at the failing node (a mapping entry's key,
a list item; for a missing key, the mapping that lacks it) with the path and
jsonschema's words: ``spec.replicas: 1 is less than the minimum of 3``.
"""
from __future__ import annotations

import fnmatch
import json
import os
from collections.abc import Iterator
from typing import Any, ClassVar

from scalelint.check.templates.base import BoundRule, Context, Template
from scalelint.config.schema import locate, path_text
from scalelint.findings import Finding, Loc, ObjectRef
from scalelint.load.tree import YMap, to_plain

_NAMES = {"type": "array", "items": {"type": "string", "minLength": 1}}
_IGNORE_ANNOTATION = "scalelint.io/ignore"
#: a value shown in a message longer than this is called "the value" instead
_MAX_SHOWN = 60


class JsonSchema(Template):
    """Objects in ``scope`` must validate against ``schema`` (inline) or ``schema-file`` (JSON or YAML)."""

    name = "json-schema"
    description = "Kubernetes objects (and compose services) in scope must validate against a JSON Schema"
    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "scope": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "kinds": {**_NAMES, "description": "Kubernetes kinds; `service` means compose services"},
                    "namespaces": {**_NAMES, "description": "globs; a missing namespace is `default`"},
                    "apiVersions": _NAMES,
                    "names": {**_NAMES, "description": "globs over metadata.name or the service name"},
                },
            },
            "schema": {"type": ["object", "boolean"], "description": "the JSON Schema, inline"},
            "schema-file": {"type": "string", "minLength": 1, "format": "path",
                            "description": "a JSON or YAML file holding the schema, relative to the rule file"},
            "message": {"type": "string", "description": "text put before each finding's detail"},
            "fix": {"type": "string", "description": "the fix hint of each finding"},
        },
    }
    defaults: ClassVar[dict[str, Any]] = {"scope": {}}

    def validate_params(self, params: dict[str, Any], base: str = "") -> Any:
        """The compiled validator; ``ValueError`` (one line) when the params do not give a usable schema."""
        import jsonschema

        has_inline, has_file = "schema" in params, "schema-file" in params
        if has_inline == has_file:
            raise ValueError("set exactly one of `schema` and `schema-file`")
        schema = params["schema"] if has_inline else _read_schema(params["schema-file"], base)
        cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
        try:
            cls.check_schema(schema)
        except jsonschema.SchemaError as exc:
            where = path_text(exc.path) or "(top level)"
            raise ValueError(f"invalid JSON Schema at {where}: {_shorten(exc.message, exc.instance)}") from None
        return cls(schema)

    def check(self, ctx: Context, rule: BoundRule) -> Iterator[Finding]:
        validator = rule.extra.get("validator")
        if validator is None:
            from scalelint.check.rule import RegistryError

            base = os.path.dirname(rule.rule.source) if rule.rule.source else ""
            try:
                validator = self.validate_params(rule.params, base)
            except ValueError as exc:
                raise RegistryError(f"{rule.rule.source or rule.code}: {rule.code} ({rule.rule.name}): {exc}") from None
            rule.extra["validator"] = validator
        scope = rule.params.get("scope") or {}
        kinds, names = scope.get("kinds"), scope.get("names")
        if ctx.group.kind == "kubernetes":
            namespaces, versions = scope.get("namespaces"), scope.get("apiVersions")
            for obj in ctx.group.objects:
                if (obj.raw is None  # never, while this template reads_trees: the run keeps them
                        or (kinds is not None and obj.kind not in kinds)
                        or (namespaces is not None and not _glob(obj.namespace, namespaces))
                        or (versions is not None and obj.api_version not in versions)
                        or (names is not None and not _glob(obj.name, names))
                        or _ignored(obj.raw, rule)):
                    continue
                yield from _validate(rule, validator, obj.raw, obj.path, ObjectRef(obj.kind, obj.name, obj.namespace))
        elif kinds is not None and "service" in kinds:
            # compose services have no namespace or apiVersion: those filters select Kubernetes objects only
            for wl in ctx.group.workloads:
                if wl.raw is None or (names is not None and not _glob(wl.name, names)):
                    continue
                yield from _validate(rule, validator, wl.raw, wl.path, wl.ref, at_root=wl.loc, compose=True)


#: compose fields that the Compose loader converts after interpolation (``replicas: ${N:-1}`` is the number 1)
_COMPOSE_INTS = {("scale",), ("deploy", "replicas"), ("cpu_count",), ("cpu_percent",), ("cpu_shares",),
                 ("pids_limit",), ("oom_score_adj",), ("mem_swappiness",), ("deploy", "resources", "limits", "pids")}
_COMPOSE_FLOATS = {("cpus",), ("deploy", "resources", "limits", "cpus"), ("deploy", "resources", "reservations", "cpus")}
_COMPOSE_BOOLS = {("init",), ("privileged",), ("read_only",), ("stdin_open",), ("tty",)}


def _compose_types(service: Any) -> Any:
    """A compose service as Compose sees it after interpolation: typed fields hold numbers and booleans."""
    def convert(path: tuple[str, ...], value: str) -> Any:
        text = value.strip()
        try:
            if path in _COMPOSE_INTS:
                return int(text)
            if path in _COMPOSE_FLOATS:
                return float(text)
        except ValueError:
            return value
        if path in _COMPOSE_BOOLS and text.lower() in ("true", "false"):
            return text.lower() == "true"
        return value

    for path in _COMPOSE_INTS | _COMPOSE_FLOATS | _COMPOSE_BOOLS:
        node = service
        for part in path[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and isinstance(node.get(path[-1]), str):
            node[path[-1]] = convert(path, node[path[-1]])
    return service


def _glob(value: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(value, p) for p in patterns)


def _ignored(raw: YMap, rule: BoundRule) -> bool:
    """``scalelint.io/ignore`` on any object (the engine applies it to workloads; a ConfigMap counts too)."""
    meta = raw.get("metadata")
    notes = meta.get("annotations") if isinstance(meta, dict) else None
    text = notes.get(_IGNORE_ANNOTATION) if isinstance(notes, dict) else None
    if not isinstance(text, str):
        return False
    codes = {c.strip() for c in text.split(",")}
    return bool(codes & {rule.code, rule.rule.name, "all", "ALL"})


def _read_schema(path: str, base: str) -> Any:
    full = path if os.path.isabs(path) or not base else os.path.join(base, path)
    try:
        with open(full, encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read schema-file {path}: {getattr(exc, 'strerror', None) or exc}") from None
    if full.endswith(".json"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"schema-file {path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    from scalelint.load.parse import LoadError, compose_documents

    try:
        docs = compose_documents(text, full)
    except LoadError as exc:
        raise ValueError(f"schema-file {path}:{exc.pos[0]}:{exc.pos[1]}: {exc.message}") from None
    if len(docs) != 1:
        raise ValueError(f"schema-file {path}: expected one YAML document")
    return to_plain(docs[0].root)


def _shorten(message: str, instance: Any) -> str:
    shown = repr(instance)
    if len(shown) > _MAX_SHOWN and shown in message:
        return message.replace(shown, "the value")
    return message


def _validate(rule: BoundRule, validator: Any, raw: YMap, path: str, ref: ObjectRef,
              at_root: Loc | None = None, compose: bool = False) -> Iterator[Finding]:
    prefix = rule.params.get("message")
    fix = rule.params.get("fix")
    instance = _compose_types(to_plain(raw)) if compose else to_plain(raw)
    errors = sorted(validator.iter_errors(instance),
                    key=lambda e: (path_text(e.absolute_path), e.validator, e.message))
    for error in errors:
        where = list(error.absolute_path)
        file, (line, col) = locate(raw, where)
        loc = Loc(file or path, line, col)
        if not where and at_root is not None:
            loc = at_root  # a compose service's mapping starts under its key: point at the key
        detail = _shorten(error.message, error.instance)
        text = f"{path_text(where)}: {detail}" if where else detail
        yield rule.finding(f"{prefix}: {text}" if prefix else text, loc, ref, fix=fix)
