"""A rule: one YAML file of data over a template (kube-linter's split), read into a :class:`Rule`.

The built-in rule files live in ``rules/`` at the repository root and ship in the wheel as
``scalelint.builtin_rules``; user rule directories use the same format.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from scalelint.findings import RuleInfo, Severity
from scalelint.load.parse import LoadError, compose_documents

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
    #: other files the example needs beside the manifest (application source), path → text
    example_files: dict[str, str] = field(default_factory=dict)
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
    node: dict[str, Any] = docs[0].root
    example: dict[str, Any] = node["example"] if isinstance(node.get("example"), dict) else {}
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
        example_files={str(k): str(v) for k, v in (example.get("files") or {}).items()}
        if isinstance(example.get("files"), dict) else {},
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
