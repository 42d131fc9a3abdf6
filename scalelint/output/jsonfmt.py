"""The JSON shape of SPEC §5, version 1."""
from __future__ import annotations

import json
from typing import Any

from scalelint.findings import Finding, Notice, RunResult


def finding_dict(f: Finding) -> dict[str, Any]:
    return {
        "code": f.code,
        "rule": f.rule,
        "severity": f.severity.label,
        "message": f.message,
        "path": f.path,
        "line": f.line,
        "column": f.column,
        "object": ({"kind": f.object.kind, "name": f.object.name, "namespace": f.object.namespace}
                   if f.object else None),
        "related": [{"path": r.path, "line": r.line, "column": r.column, "message": r.message} for r in f.related],
        "fix": f.fix,
    }


def notice_dict(n: Notice) -> dict[str, Any]:
    return {"path": n.path or None, "line": n.line, "column": n.column, "message": n.message}


def render(result: RunResult, *, tool_version: str) -> str:
    doc = {
        "version": 1,
        "tool": {"name": "scalelint", "version": tool_version},
        "findings": [finding_dict(f) for f in result.findings],
        "notices": [notice_dict(n) for n in result.notices],
        "summary": {
            "files": result.files,
            "objects": result.objects,
            "findings": len(result.findings),
            "by_severity": result.by_severity(),
        },
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
