"""The values every stage after ``check`` exchanges: findings, notices, run results.

A formatter sees only these; it never looks at manifests (DESIGN.md).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import IntEnum
from operator import attrgetter
from typing import TypeVar

C = TypeVar("C", bound=type)


class Severity(IntEnum):
    """Ordered so that ``severity >= fail_on`` decides the exit code."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown severity {text!r} (expected error, warning or info)") from None


def by_fields(cls: C) -> C:
    """Pickle a frozen slotted dataclass as a call of the class with its fields in order.

    The model crosses from worker processes to the parent by pickle (:mod:`scalelint.batch`). The
    default state of a frozen slotted dataclass is a list set back field by field through a Python
    loop over ``fields()``; a constructor call is smaller and unpickles about twice as fast.
    """
    names = [f.name for f in dataclasses.fields(cls)]
    assert len(names) > 1, "attrgetter of one name gives the value, not a tuple"
    get = attrgetter(*names)

    def __reduce__(self: object) -> tuple[type, tuple[object, ...]]:
        return cls, get(self)

    cls.__reduce__ = __reduce__  # type: ignore[method-assign,assignment]
    return cls


#: slots on the values a model holds by the hundred thousand (a 40 MB dump has 400,000 locations)
@by_fields
@dataclass(frozen=True, order=True, slots=True)
class Loc:
    """A 1-based position in a file, as the user named the file."""

    path: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line:
            return f"{self.path}:{self.line}:{self.column}"
        return self.path


@by_fields
@dataclass(frozen=True, order=True, slots=True)
class ObjectRef:
    """The object a finding is about: a Kubernetes object or a compose service."""

    kind: str
    name: str
    namespace: str | None = None

    def __str__(self) -> str:
        if self.kind == "service":
            return f"service {self.name}"
        if self.namespace:
            return f"{self.kind} {self.namespace}/{self.name}"
        return f"{self.kind} {self.name}"


@by_fields
@dataclass(frozen=True, order=True, slots=True)
class Related:
    path: str
    line: int
    column: int
    message: str


@dataclass(frozen=True)
class Finding:
    code: str
    rule: str
    severity: Severity
    message: str
    path: str
    line: int
    column: int
    object: ObjectRef | None = None
    related: tuple[Related, ...] = ()
    fix: str | None = None

    def sort_key(self) -> tuple:
        obj = self.object
        return (
            self.path,
            self.line,
            self.column,
            self.code,
            (obj.kind, obj.name, obj.namespace or "") if obj else ("", "", ""),
            self.message,
        )


def merge_related(findings: Iterable[Finding]) -> list[Finding]:
    """One finding per (location, code, message, object): their related locations united
    (a base line reached through two kustomize overlays is one finding naming both)."""
    merged: dict[tuple[object, ...], Finding] = {}
    for f in findings:
        key = tuple(v for k, v in f.__dict__.items() if k != "related")  # every other field, in order
        old = merged.get(key)
        if old is None:
            merged[key] = f
        else:
            merged[key] = dataclasses.replace(old, related=tuple(sorted({*old.related, *f.related})))
    return list(merged.values())


@dataclass(frozen=True)
class Notice:
    """Something the user should know that is not a rule violation
    (an unset variable, a Helm template that was not rendered, an unknown worker count)."""

    message: str
    path: str = ""
    line: int = 0
    column: int = 0

    def sort_key(self) -> tuple:
        return (self.path, self.line, self.column, self.message)


@dataclass(frozen=True)
class RuleInfo:
    """What a formatter may know of a rule: its metadata, not its logic."""

    code: str
    name: str
    severity: Severity
    summary: str
    enabled: bool = True
    help_uri: str = ""
    doc: str = ""


@dataclass
class RunResult:
    """Everything one ``check`` run produced, in deterministic order."""

    findings: list[Finding] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    rules: dict[str, RuleInfo] = field(default_factory=dict)
    files: int = 0
    objects: int = 0

    def by_severity(self) -> dict[str, int]:
        counts = {s.label: 0 for s in sorted(Severity, reverse=True)}
        for f in self.findings:
            counts[f.severity.label] += 1
        return counts

    def sort(self) -> None:
        self.findings.sort(key=Finding.sort_key)
        seen: set[Notice] = set()
        unique = []
        for n in sorted(self.notices, key=Notice.sort_key):
            if n not in seen:
                seen.add(n)
                unique.append(n)
        self.notices = unique
