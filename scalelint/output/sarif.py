"""SARIF 2.1.0 output, for GitHub code scanning and other SARIF viewers.

The log has one run whose ``tool.driver.rules`` lists every rule the run knew of,
so a viewer can show a rule's documentation even for rules that found nothing.
Findings whose code is missing from ``RunResult.rules`` (an internal SL000, a
plugin rule) get a rule descriptor made from the finding itself: a ``ruleIndex``
that points nowhere makes the whole log invalid, which is worse than a thin rule.

Choices that follow the SARIF 2.1.0 specification (OASIS, sections cited):

* ``columnKind`` is ``unicodeCodePoints`` (3.14.17): our columns count code
  points, and the default, UTF-16 code units, would shift every column after an
  astral character.
* relative paths stay relative and name the ``%SRCROOT%`` base (3.4.4), the
  convention GitHub code scanning resolves against the repository root;
  absolute paths become ``file://`` URIs. Either way the text is a valid URI
  reference (3.10.2): characters outside RFC 3986 are percent-encoded.
* ``logicalLocations`` sit on the location object (3.28.4), not on the result.
* ``partialFingerprints`` (3.27.17) hash the finding's identity without its
  line, so an alert survives edits above it.
* notices are ``toolExecutionNotifications`` (3.20.21), not results: they are
  not rule violations and must not open alerts.
"""

from __future__ import annotations

import hashlib
import json
import re
from urllib.parse import quote

from scalelint.findings import (
    Finding,
    Notice,
    ObjectRef,
    Related,
    RuleInfo,
    RunResult,
    Severity,
)

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
TOOL_NAME = "scalelint"
INFORMATION_URI = "https://github.com/scalelint/scalelint"
# Where a rule's documentation lives when its RuleInfo names no help_uri.
RULE_HELP_URI = INFORMATION_URI + "/blob/main/rules/{code}.yaml"
FINGERPRINT_KEY = "scalelintFinding/v1"
SRCROOT = "%SRCROOT%"

_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}

# Characters left literal in a URI path besides RFC 3986 "unreserved" (which
# quote() always keeps): the sub-delims, "@" and the "/" separator. ":" is
# encoded in relative references because "c:x.yaml" would otherwise read as a
# URI with scheme "c" (RFC 3986 section 4.2); absolute file URIs keep it for
# Windows drive letters.
_URI_SAFE_RELATIVE = "/!$&'()*+,;=@"
_URI_SAFE_ABSOLUTE = _URI_SAFE_RELATIVE + ":"
_WINDOWS_DRIVE = re.compile(r"[A-Za-z]:/")


def render(result: RunResult, *, tool_version: str) -> str:
    """Render ``result`` as a SARIF 2.1.0 log: indented JSON, ASCII only.

    ASCII keeps the bytes identical whatever the locale of the terminal or CI
    log the report is written to; every JSON reader restores the characters.
    """
    rules = _rule_infos(result)
    rule_index = {info.code: i for i, info in enumerate(rules)}
    fingerprints = _fingerprints(result.findings)

    driver: dict[str, object] = {"name": TOOL_NAME}
    if tool_version:
        driver["version"] = tool_version
    driver["informationUri"] = INFORMATION_URI
    driver["rules"] = [_rule(info) for info in rules]

    invocation: dict[str, object] = {"executionSuccessful": True}
    if result.notices:
        notifications = [_notification(n) for n in result.notices]
        invocation["toolExecutionNotifications"] = notifications

    run = {
        "tool": {"driver": driver},
        "invocations": [invocation],
        "columnKind": "unicodeCodePoints",
        "results": [
            _result(f, rule_index[f.code], fp)
            for f, fp in zip(result.findings, fingerprints, strict=True)
        ],
    }
    log = {"$schema": SCHEMA_URI, "version": SARIF_VERSION, "runs": [run]}
    return json.dumps(log, indent=2, ensure_ascii=True) + "\n"


# --- rules -------------------------------------------------------------------


def _rule_infos(result: RunResult) -> list[RuleInfo]:
    """Every rule of the run plus one per unknown finding code, sorted by code.

    A code missing from ``result.rules`` borrows the severity of its first
    finding; findings arrive sorted, so the choice is deterministic.
    """
    infos = {info.code: info for info in result.rules.values()}
    for f in result.findings:
        if f.code not in infos:
            infos[f.code] = RuleInfo(
                code=f.code,
                name=f.rule or f.code,
                severity=f.severity,
                summary=f.rule or f.code,
            )
    return [infos[code] for code in sorted(infos)]


def _rule(info: RuleInfo) -> dict[str, object]:
    """A reportingDescriptor (3.49); texts fall back so none is ever empty,
    since GitHub rejects descriptors whose descriptions are blank."""
    summary = _first_text(info.summary, info.name, info.code)
    long_text = _first_text(info.doc, summary)
    configuration: dict[str, object] = {"level": _LEVELS[info.severity]}
    if not info.enabled:
        # Only written when false: SARIF's default is true (3.50.3).
        configuration["enabled"] = False
    return {
        "id": info.code,
        "name": _first_text(info.name, info.code),
        "shortDescription": {"text": summary},
        "fullDescription": {"text": long_text},
        "help": {"text": long_text},
        "helpUri": info.help_uri or RULE_HELP_URI.format(code=info.code),
        "defaultConfiguration": configuration,
        # RuleInfo carries no category yet; the tool tag lets a code-scanning
        # view filter scalelint's alerts from other tools' alerts.
        "properties": {"tags": [TOOL_NAME]},
    }


# --- results -----------------------------------------------------------------


def _result(f: Finding, rule_index: int, fingerprint: str) -> dict[str, object]:
    """One result (3.27). The fix hint goes in the property bag: SARIF's own
    ``fixes`` demand concrete text replacements, which a hint is not."""
    out: dict[str, object] = {
        "ruleId": f.code,
        "ruleIndex": rule_index,
        "level": _LEVELS[f.severity],
        "message": {"text": _first_text(f.message, f.rule, f.code)},
    }
    location = _physical(f.path, f.line, f.column)
    if f.object is not None:
        location["logicalLocations"] = [_logical(f.object)]
    if location:
        out["locations"] = [location]
    if f.related:
        related = enumerate(f.related, start=1)
        out["relatedLocations"] = [_related(i, r) for i, r in related]
    out["partialFingerprints"] = {FINGERPRINT_KEY: fingerprint}
    if f.fix:
        out["properties"] = {"fix": f.fix}
    return out


def _related(location_id: int, related: Related) -> dict[str, object]:
    """A related location numbered from 1, so a message may link to it as
    ``[text](1)`` (3.11.6)."""
    out: dict[str, object] = {"id": location_id}
    out.update(_physical(related.path, related.line, related.column))
    if related.message:
        out["message"] = {"text": related.message}
    return out


def _logical(obj: ObjectRef) -> dict[str, str]:
    """The object as a logical location: Kubernetes objects are "resource"s,
    a compose service is a YAML mapping, which SARIF calls an "object" (3.33.7)."""
    parts = [obj.namespace] if obj.namespace else []
    parts += [obj.kind, obj.name]
    return {
        "name": obj.name,
        "fullyQualifiedName": "/".join(parts),
        "kind": "object" if obj.kind == "service" else "resource",
    }


def _notification(notice: Notice) -> dict[str, object]:
    """A notice as a tool execution notification of level "note"."""
    out: dict[str, object] = {"level": "note", "message": {"text": notice.message}}
    location = _physical(notice.path, notice.line, notice.column)
    if location:
        out["locations"] = [location]
    return out


def _physical(path: str, line: int, column: int) -> dict[str, object]:
    """``{"physicalLocation": ...}`` for a path, or ``{}`` when there is none.

    The region is written only for a known line (ours are 1-based, like
    SARIF's; 0 means unknown), the column only for a known column.
    """
    if not path:
        return {}
    physical: dict[str, object] = {"artifactLocation": artifact_location(path)}
    if line >= 1:
        region = {"startLine": line}
        if column >= 1:
            region["startColumn"] = column
        physical["region"] = region
    return {"physicalLocation": physical}


def artifact_location(path: str) -> dict[str, str]:
    """The artifactLocation for a path as the user named it.

    Backslashes become slashes and a leading ``./`` goes, so the same file gets
    the same URI however it was spelled on the command line.
    """
    norm = normalize_path(path)
    if norm.startswith("/"):
        prefix = "file:" if norm.startswith("//") else "file://"
        return {"uri": prefix + _quote(norm, _URI_SAFE_ABSOLUTE)}
    if _WINDOWS_DRIVE.match(norm):
        return {"uri": "file:///" + _quote(norm, _URI_SAFE_ABSOLUTE)}
    return {"uri": _quote(norm, _URI_SAFE_RELATIVE), "uriBaseId": SRCROOT}


def normalize_path(path: str) -> str:
    """Forward slashes, no leading ``./``: the spelling every CI viewer matches
    against repository paths."""
    norm = path.replace("\\", "/")
    while norm.startswith("./"):
        norm = norm[2:]
    return norm


def _quote(text: str, safe: str) -> str:
    # surrogateescape turns undecodable bytes of a file name (os.fsdecode keeps
    # them as lone surrogates) back into the bytes, then into %XX.
    return quote(text, safe=safe, errors="surrogateescape")


# --- fingerprints ------------------------------------------------------------


def _fingerprints(findings: list[Finding]) -> list[str]:
    """A stable, run-unique hash per finding.

    The identity is the code, the normalized path, the object and the message,
    and deliberately not the line or column, so that inserting lines above a
    finding keeps its alert. The message is included because one object can
    carry the same rule twice (one per container), told apart only by it.
    Identical identities get an occurrence number in finding order, so even
    exact duplicates stay distinct.
    """
    seen: dict[str, int] = {}
    out = []
    for f in findings:
        identity = _identity(f)
        occurrence = seen.get(identity, 0)
        seen[identity] = occurrence + 1
        text = json.dumps([identity, occurrence], ensure_ascii=True)
        out.append(hashlib.sha256(text.encode("ascii")).hexdigest())
    return out


def _identity(f: Finding) -> str:
    obj = f.object
    object_part = [obj.kind, obj.namespace or "", obj.name] if obj else None
    return json.dumps(
        [f.code, normalize_path(f.path), object_part, f.message], ensure_ascii=True
    )


def _first_text(*candidates: str | None) -> str:
    for text in candidates:
        if text:
            return text
    return ""
