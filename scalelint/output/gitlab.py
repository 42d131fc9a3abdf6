"""GitLab Code Quality report, the JSON of ``artifacts:reports:codequality``.

Only the fields GitLab documents for custom tools are written (GitLab docs,
ci/testing/code_quality.md, "Implement a custom tool"): ``description``,
``check_name``, ``fingerprint``, ``severity``, ``location.path`` and
``location.lines.begin``. GitLab ignores the rest of the Code Climate spec.

GitLab shows issues with the same fingerprint as one entry and compares
fingerprints between the source and target branch to tell new issues from fixed
ones, so a fingerprint must be unique within a report and stable across runs.
"""

from __future__ import annotations

import hashlib
import json

from scalelint.findings import Finding, RunResult, Severity

# GitLab's scale is info < minor < major < critical < blocker. A linter's error
# is a real defect but not an outage in progress, so it maps to "major"; the
# top two levels are left to security scanners, as other linters do.
_SEVERITIES = {
    Severity.ERROR: "major",
    Severity.WARNING: "minor",
    Severity.INFO: "info",
}


def render(result: RunResult, *, tool_version: str) -> str:
    """Render the report: a JSON array, 2-space indented, ASCII only, newline-ended.

    Notices are left out: the format has no place for a message that is not an
    issue, and an issue would count against the merge request. ``tool_version``
    is unused, since the format has no field for it.
    """
    del tool_version
    seen: dict[str, int] = {}
    issues = []
    for f in result.findings:
        identity = _identity(f)
        occurrence = seen.get(identity, 0)
        seen[identity] = occurrence + 1
        issues.append(_issue(f, _fingerprint(identity, occurrence)))
    return json.dumps(issues, indent=2, ensure_ascii=True) + "\n"


def _issue(f: Finding, fingerprint: str) -> dict[str, object]:
    description = f.message or f.rule or f.code
    if f.fix:
        description += " Fix: " + f.fix
    return {
        "description": description,
        "check_name": f.code,
        "fingerprint": fingerprint,
        "severity": _SEVERITIES[f.severity],
        "location": {
            "path": normalize_path(f.path),
            # GitLab needs a line; a finding about a whole file points at its first.
            "lines": {"begin": max(f.line, 1)},
        },
    }


def normalize_path(path: str) -> str:
    """Forward slashes, no leading ``./``: GitLab matches ``location.path``
    against repository-relative paths."""
    norm = path.replace("\\", "/")
    while norm.startswith("./"):
        norm = norm[2:]
    return norm


def _identity(f: Finding) -> str:
    """What makes a finding the same issue from one run to the next: code, path,
    object and message, but not the line, so edits above it keep the issue."""
    obj = f.object
    object_part = [obj.kind, obj.namespace or "", obj.name] if obj else None
    return json.dumps(
        [f.code, normalize_path(f.path), object_part, f.message], ensure_ascii=True
    )


def _fingerprint(identity: str, occurrence: int) -> str:
    """MD5 hex, the form GitLab's documentation shows; the occurrence number
    keeps identical findings apart. Not a security use of MD5."""
    text = json.dumps([identity, occurrence], ensure_ascii=True)
    return hashlib.md5(text.encode("ascii"), usedforsecurity=False).hexdigest()
