"""Rules are data over templates (kube-linter's split), both found through entry points.

- ``scalelint.check.templates``: name → a :class:`~scalelint.check.templates.base.Template` subclass.
- ``scalelint.rules``: name → a callable returning a directory of rule YAML files.

The built-ins register themselves the same way (see ``pyproject.toml``), so a
plugin is never a second-class citizen. Templates are imported only when a
rule that uses them runs.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from scalelint.check import entrypoints
from scalelint.findings import RuleInfo, Severity
from scalelint.load.read import LoadError, compose_documents

if TYPE_CHECKING:
    from scalelint.check.templates.base import Template

TEMPLATE_GROUP = "scalelint.templates"
RULES_GROUP = "scalelint.rules"
HELP_BASE = "https://github.com/scalelint/scalelint/blob/main/rules/"
#: rules produced by the pipeline itself rather than by a template
INTERNAL = "internal"


class RegistryError(Exception):
    """A rule file or template that cannot be used: a usage error (exit 2)."""


@dataclass
class Rule:
    code: str
    name: str
    template: str
    severity: Severity
    enabled: bool
    summary: str
    params: dict[str, Any] = field(default_factory=dict)
    why: str = ""
    what: str = ""
    fix: str = ""
    example_bad: str = ""
    example_good: str = ""
    example_kind: str = ""  # "kubernetes" | "compose" (decides the example file's name)
    source: str = ""
    builtin: bool = True

    def info(self, enabled: bool | None = None, severity: Severity | None = None) -> RuleInfo:
        return RuleInfo(
            code=self.code, name=self.name, severity=severity or self.severity,
            summary=self.summary, enabled=self.enabled if enabled is None else enabled,
            help_uri=f"{HELP_BASE}{self.code}.yaml" if self.builtin else "",
            doc=self.doc(),
        )

    def doc(self) -> str:
        parts = [f"{self.code} {self.name}: {self.summary}"]
        for title, text in (("What it does", self.what), ("Why is this bad", self.why), ("How to fix", self.fix)):
            if text:
                parts.append(f"{title}:\n{text.strip()}")
        return "\n\n".join(parts)


def builtin_rules_dir() -> str:
    """The directory of the built-in rule YAML: ``scalelint/builtin_rules`` when installed from a wheel
    (setuptools maps ``rules/`` there), ``rules/`` next to the package in a source or editable checkout."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    installed = os.path.join(package, "builtin_rules")
    return installed if os.path.isdir(installed) else os.path.join(os.path.dirname(package), "rules")


def _require(node: dict[str, Any], key: str, path: str, kind: type) -> Any:
    value = node.get(key)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise RegistryError(f"{path}: rule key {key!r} must be a {kind.__name__}")
    return value


def parse_rule(path: str, text: str, builtin: bool) -> Rule:
    try:
        docs = compose_documents(text, path, anchors=False)
    except LoadError as exc:
        raise RegistryError(f"{path}:{exc.pos[0]}:{exc.pos[1]}: {exc.message}") from None
    if len(docs) != 1 or not isinstance(docs[0].root, dict):
        raise RegistryError(f"{path}: a rule file holds one mapping")
    node = docs[0].root
    example = node.get("example") if isinstance(node.get("example"), dict) else {}
    try:
        severity = Severity.parse(str(node.get("severity", "error")))
    except ValueError as exc:
        raise RegistryError(f"{path}: {exc}") from None
    params = node.get("params") or {}
    if not isinstance(params, dict):
        raise RegistryError(f"{path}: rule key 'params' must be a mapping")
    return Rule(
        code=_require(node, "code", path, str),
        name=_require(node, "name", path, str),
        template=_require(node, "template", path, str),
        severity=severity,
        enabled=node.get("enabled", True) is not False,
        summary=_require(node, "summary", path, str),
        params=dict(params),
        why=str(node.get("why") or ""),
        what=str(node.get("what") or ""),
        fix=str(node.get("fix") or ""),
        example_bad=str(example.get("bad") or ""),
        example_good=str(example.get("good") or ""),
        example_kind=str(example.get("kind") or ""),
        source=path,
        builtin=builtin,
    )


def load_rules_dir(directory: str, builtin: bool = False) -> list[Rule]:
    try:
        names = sorted(n for n in os.listdir(directory) if n.endswith((".yaml", ".yml")))
    except OSError as exc:
        raise RegistryError(f"{directory}: cannot read rules directory: {exc.strerror or exc}") from None
    rules = []
    for name in names:
        path = os.path.join(directory, name)
        with open(path, encoding="utf-8") as fh:
            rules.append(parse_rule(path, fh.read(), builtin))
    return rules


def _entry_points(group: str) -> list[Any]:
    return entrypoints.entry_points(group)


class Registry:
    def __init__(self) -> None:
        self.rules: dict[str, Rule] = {}
        self._template_eps: dict[str, Any] = {}
        self._templates: dict[str, Template] = {}

    @classmethod
    def load(cls, rules_dirs: list[str] | tuple[str, ...] = ()) -> "Registry":
        reg = cls()
        reg._template_eps = {ep.name: ep for ep in _entry_points(TEMPLATE_GROUP)}
        for ep in _entry_points(RULES_GROUP):
            directory = ep.load()()
            for rule in load_rules_dir(directory, builtin=ep.value.startswith("scalelint.")):
                reg.add(rule)
        for directory in rules_dirs:
            for rule in load_rules_dir(directory):
                reg.add(rule)
        return reg

    def add(self, rule: Rule) -> None:
        if rule.code in self.rules:
            raise RegistryError(f"{rule.source}: rule code {rule.code} is already defined in "
                                f"{self.rules[rule.code].source}")
        if rule.template != INTERNAL and rule.template not in self._template_eps and rule.template not in self._templates:
            known = ", ".join(sorted(self._template_eps))
            raise RegistryError(f"{rule.source}: unknown template {rule.template!r} (known: {known})")
        self.rules[rule.code] = rule

    def add_template(self, name: str, template: "Template") -> None:
        self._templates[name] = template

    def template(self, name: str) -> "Template":
        if name not in self._templates:
            cls = self._template_eps[name].load()
            self._templates[name] = cls()
        return self._templates[name]

    def template_names(self) -> list[str]:
        return sorted(set(self._template_eps) | set(self._templates))

    def resolve(self, code_or_name: str) -> Rule | None:
        """A rule by code (case-insensitive) or kebab-case name."""
        key = code_or_name.strip()
        rule = self.rules.get(key.upper())
        if rule is not None:
            return rule
        for rule in self.rules.values():
            if rule.name == key.lower():
                return rule
        return None

    def sorted_rules(self) -> list[Rule]:
        return [self.rules[c] for c in sorted(self.rules)]
