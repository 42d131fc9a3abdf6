"""Rules are data over templates (kube-linter's split), both found through entry points.

- ``scalelint.templates``: name → a :class:`~scalelint.check.templates.base.Template` subclass.
- ``scalelint.rules``: name → a callable returning a directory of rule YAML files.

The built-ins register themselves the same way (see ``pyproject.toml``), so a
plugin is never a second-class citizen. Templates are imported only when a
rule that uses them runs.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scalelint.check import entrypoints
from scalelint.check.rule import INTERNAL, RegistryError, Rule, builtin_rules_dir, load_rules_dir

if TYPE_CHECKING:
    from scalelint.check.templates.base import Template

__all__ = ["INTERNAL", "Registry", "RegistryError", "Rule", "builtin_rules_dir", "load_rules_dir"]

TEMPLATE_GROUP = "scalelint.templates"
RULES_GROUP = "scalelint.rules"


def _entry_points(group: str) -> list[Any]:
    return entrypoints.entry_points(group)


class Registry:
    def __init__(self) -> None:
        self.rules: dict[str, Rule] = {}
        self._template_eps: dict[str, Any] = {}
        self._templates: dict[str, Template] = {}

    @classmethod
    def load(cls, rules_dirs: list[str] | tuple[str, ...] = ()) -> Registry:
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

    def add_template(self, name: str, template: Template) -> None:
        self._templates[name] = template

    def template(self, name: str) -> Template:
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
