"""Check: run the selected rules over each group and filter by suppressions.

Selection follows ruff: ``select`` (codes or names, or ``ALL``) narrows the
enabled rules, ``ignore`` removes; a rule that ships disabled runs only when
selected by name or code.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from scalelint.analyze.facts import Facts
from scalelint.check.registry import INTERNAL, Registry, RegistryError, Rule
from scalelint.check.templates.base import BoundRule, Context
from scalelint.config import Config
from scalelint.findings import Finding, ObjectRef, RuleInfo, Severity
from scalelint.load.read import Suppressions
from scalelint.model import Group


@dataclass
class Selection:
    rules: list[BoundRule] = field(default_factory=list)
    active: dict[str, BoundRule] = field(default_factory=dict)
    infos: dict[str, RuleInfo] = field(default_factory=dict)

    def is_active(self, code: str) -> bool:
        return code in self.active


def _resolve_all(registry: Registry, names: Iterable[str], what: str) -> set[str]:
    codes: set[str] = set()
    for name in names:
        if name.strip().upper() == "ALL":
            codes |= set(registry.rules)
            continue
        rule = registry.resolve(name)
        if rule is None:
            prefix = [c for c in registry.rules if c.startswith(name.strip().upper())]
            if not prefix:
                raise RegistryError(f"{what}: unknown rule {name!r} (see `scalelint rules`)")
            codes |= set(prefix)
        else:
            codes.add(rule.code)
    return codes


def params_for(rule: Rule, registry: Registry, config: Config) -> dict[str, Any]:
    """Template defaults ← rule file params ← config ``rules:`` params (by code or name)."""
    params: dict[str, Any] = {}
    if rule.template != INTERNAL:
        params.update(registry.template(rule.template).defaults)
    params.update(rule.params)
    # top-level config shortcuts (SPEC §4) apply to every rule whose template takes them
    if config.max_workers_per_pod is not None and "max-workers-per-pod" in params:
        params["max-workers-per-pod"] = config.max_workers_per_pod
    if config.memory_per_worker is not None and "memory-per-worker" in params:
        params["memory-per-worker"] = config.memory_per_worker
    for key in (rule.code, rule.name):
        params.update(config.rule_params.get(key, {}))
    return params


def select(registry: Registry, config: Config) -> Selection:
    chosen = _resolve_all(registry, config.select, "select") if config.select else {
        code for code, rule in registry.rules.items() if rule.enabled}
    chosen |= _resolve_all(registry, config.extend_select, "select")
    chosen -= _resolve_all(registry, config.ignore, "ignore")
    severities: dict[str, Severity] = {}
    for name, level in config.severity.items():
        for code in _resolve_all(registry, [name], "severity"):
            severities[code] = level
    sel = Selection()
    for rule in registry.sorted_rules():
        severity = severities.get(rule.code, rule.severity)
        sel.infos[rule.code] = rule.info(enabled=rule.code in chosen, severity=severity)
        if rule.code in chosen:
            bound = BoundRule(rule, params_for(rule, registry, config), severity)
            sel.active[rule.code] = bound
            if rule.template != INTERNAL:
                sel.rules.append(bound)
    return sel


def run_checks(registry: Registry, selection: Selection, group: Group, facts: Facts, config: Config) -> Iterator[Finding]:
    ctx = Context(group, facts, config)
    for bound in selection.rules:
        yield from registry.template(bound.rule.template).check(ctx, bound)


def object_ignores(groups: Iterable[Group]) -> dict[ObjectRef, set[str]]:
    out: dict[ObjectRef, set[str]] = {}
    for group in groups:
        for wl in group.workloads:
            if wl.ignore:
                out.setdefault(wl.ref, set()).update(wl.ignore)
    return out


def suppressed(finding: Finding, files: dict[str, Suppressions], ignores: dict[ObjectRef, set[str]]) -> bool:
    sup = files.get(finding.path)
    if sup is not None and sup.covers(finding.line, finding.code, finding.rule):
        return True
    if finding.object is not None:
        codes = ignores.get(finding.object)
        if codes and (finding.code in codes or finding.rule in codes or "ALL" in codes or "all" in codes):
            return True
    return False
