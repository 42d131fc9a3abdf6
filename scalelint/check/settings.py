"""The settings' rule names and params, checked against the rules this run knows.

Runs after :meth:`~scalelint.check.registry.Registry.load` (user rules come from
``rules-dirs``): names in ``select``/``ignore``/``severity`` must resolve, and every layer
of params (rule file, config ``rules:``) must validate against its template's schema.
A problem is a :class:`~scalelint.config.file.ConfigError` (exit 2) naming where the
setting was written.
"""
from __future__ import annotations

import os
from typing import Any

from scalelint.check.engine import params_for
from scalelint.check.registry import Registry
from scalelint.check.rule import INTERNAL, Rule
from scalelint.config import Config
from scalelint.config.file import ConfigError
from scalelint.config.schema import did_you_mean, explain, locate, ordered, path_text


def _origin(config: Config, path: str) -> str:
    """Where a setting was written: the most specific known origin of ``path`` or of its parents."""
    probe = path
    while probe:
        if probe in config.origins:
            return config.origins[probe]
        cut = max(probe.rfind("."), probe.rfind("["))
        probe = probe[:cut] if cut > 0 else ""
    return config.source or "config"


def _rule_words(registry: Registry) -> list[str]:
    return sorted(set(registry.rules) | {r.name for r in registry.rules.values()})


def _known_selector(registry: Registry, name: str) -> bool:
    """What engine selection accepts: ALL, a code, a name, or a code prefix."""
    key = name.strip()
    if key.upper() == "ALL" or registry.resolve(key) is not None:
        return True
    return any(code.startswith(key.upper()) for code in registry.rules)


def check_against(config: Config, registry: Registry) -> None:
    """Rule names and params of the settings, and the params of every user rule file, against the registry.

    Runs after :meth:`Registry.load` (user rules come from ``rules-dirs``). The
    first problem is a :class:`ConfigError`; nothing here runs a rule.
    """
    words = _rule_words(registry)
    for field_name in ("select", "extend-select", "ignore"):
        for i, name in enumerate(getattr(config, field_name.replace("-", "_"))):
            if not _known_selector(registry, name):
                where = _origin(config, f"{field_name}[{i}]")
                label = where if where.startswith("--") else f"{where}: {field_name}[{i}]"
                raise ConfigError(f"{label}: unknown rule {name!r}{did_you_mean(name, words)}")
    for name in config.severity:
        if not _known_selector(registry, name):
            raise ConfigError(f"{_origin(config, path_text(['severity', name]))}: {path_text(['severity', name])}: "
                              f"unknown rule {name!r}{did_you_mean(name, words)}")
    base = os.path.dirname(os.path.abspath(config.source)) if config.source else os.getcwd()
    for name, params in config.rule_params.items():
        key = path_text(["rules", name])
        rule = registry.resolve(name)
        if rule is None:
            raise ConfigError(f"{_origin(config, key)}: {key}: unknown rule{did_you_mean(name, words)}")
        _check_params(registry, rule, params, base,
                      lambda sub, _k=False, at=key: _origin(config, path_text(sub, at)), key, partial=True)
    for rule in registry.sorted_rules():
        if rule.builtin and not any(k in config.rule_params for k in (rule.code, rule.name)):
            continue
        if not rule.builtin:
            _check_params(registry, rule, rule.params, os.path.dirname(os.path.abspath(rule.source)),
                          _rule_file_origin(rule), "params", partial=True)
        _check_params(registry, rule, params_for(rule, registry, config), base,
                      lambda sub, _k=False, r=rule: r.source, f"{rule.code} params", partial=False)


def _rule_file_origin(rule: Rule) -> Any:
    def where(sub: list[Any], key: bool = False) -> str:
        from scalelint.load.parse import LoadError, compose_documents

        try:
            with open(rule.source, encoding="utf-8") as fh:
                docs = compose_documents(fh.read(), rule.source)
        except (OSError, LoadError):
            return rule.source
        _, (line, col) = locate(docs[0].root if docs else None, ["params", *sub], key)
        return f"{rule.source}:{line}:{col}" if line else rule.source
    return where


def _strip_required(schema: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in schema.items() if k != "required"}


def _check_params(registry: Registry, rule: Rule, params: dict[str, Any], base: str, where: Any,
                  label: str, partial: bool) -> None:
    """Validate one layer of params against the template's ``params_schema``.

    ``partial``: a layer that overrides defaults need not repeat required keys.
    String params whose schema says ``"format": "path"`` are made absolute
    against ``base`` (the directory of the file they were written in).
    """
    if rule.template == INTERNAL:
        if params:
            raise ConfigError(f"{where([])}: {label}: rule {rule.code} takes no params")
        return
    import jsonschema

    template = registry.template(rule.template)
    schema = template.params_schema
    errors = ordered(jsonschema.Draft202012Validator(_strip_required(schema) if partial else schema)
                     .iter_errors(params), None)
    if errors:
        path, message, at_key = explain(errors[0])
        raise ConfigError(f"{where(path, at_key)}: {path_text(path, label)}: {message}")
    for key, sub in schema.get("properties", {}).items():
        if isinstance(sub, dict) and sub.get("format") == "path" and isinstance(params.get(key), str):
            params[key] = os.path.normpath(os.path.join(base, params[key]))
    if not partial:
        prepare = getattr(template, "validate_params", None)
        if prepare is not None:
            try:
                prepare(params)
            except ValueError as exc:
                raise ConfigError(f"{where([])}: {rule.code} ({rule.name}): {exc}") from None
