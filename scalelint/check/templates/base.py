"""What a template is, and what it is given."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from scalelint.findings import Finding, Loc, ObjectRef, Related, Severity

if TYPE_CHECKING:
    from scalelint.analyze.facts import Facts
    from scalelint.check.rule import Rule
    from scalelint.config import Config
    from scalelint.model import Group


@dataclass
class Context:
    """Everything a check may read: the model of one group, its facts, the settings."""

    group: Group
    facts: Facts
    config: Config


@dataclass
class BoundRule:
    """A rule with its effective params and severity for this run."""

    rule: Rule
    params: dict[str, Any]
    severity: Severity
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def code(self) -> str:
        return self.rule.code

    def finding(self, message: str, loc: Loc, obj: ObjectRef | None = None,
                related: Sequence[Related] = (), fix: str | None = None) -> Finding:
        return Finding(
            code=self.rule.code, rule=self.rule.name, severity=self.severity, message=message,
            path=loc.path, line=loc.line, column=loc.column, object=obj,
            related=tuple(sorted(set(related))), fix=fix,
        )


class Template:
    """A parameterised check. Subclasses set ``name``, ``params_schema`` and ``defaults``."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    #: JSON Schema of the params (validated when params come from a user's config or rule file)
    params_schema: ClassVar[dict[str, Any]] = {"type": "object", "additionalProperties": False, "properties": {}}
    defaults: ClassVar[dict[str, Any]] = {}
    #: whether ``check`` reads object trees (``KubeObject.raw``); when no active rule does, a run drops
    #: each file's tree once its objects are modelled (memory, and what worker processes send back)
    reads_trees: ClassVar[bool] = True

    def check(self, ctx: Context, rule: BoundRule) -> Iterator[Finding]:  # pragma: no cover - abstract
        raise NotImplementedError
        yield


def related(loc: Loc | None, message: str) -> list[Related]:
    """A related location, or none when the value was never written anywhere."""
    if loc is None or not loc.line:
        return []
    return [Related(loc.path, loc.line, loc.column, message)]
