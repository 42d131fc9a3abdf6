"""Baselines: accept today's findings, report only new ones (SPEC §4).

A finding is keyed by rule code, file and object — never by line or column,
so editing a file above a known finding does not make it "new". Keys repeat
(two containers of one Deployment without limits are two SL001 findings of
the same object), so matching counts: a baseline with two entries for a key
absorbs two findings with that key and the third is new. Entries with the
same message are matched first, so the new finding is the one that differs.

Paths are stored relative to the baseline file's directory with ``/``
separators, so a baseline works from any working directory and any OS. The
file is sorted JSON with a ``version``; the same findings give the same bytes.
"""
from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from scalelint.findings import Finding

VERSION = 1
STDIN = "-"

Key = tuple[str, str, str, str, str]  # code, path, kind, namespace, name


class BaselineError(Exception):
    """A baseline that cannot be read or written: exit 2 with this one line."""


def _rel(path: str, base: str) -> str:
    if path == STDIN:
        return path
    try:
        rel = os.path.relpath(os.path.abspath(path), base)
    except ValueError:  # pragma: no cover - another drive on Windows
        rel = os.path.abspath(path)
    return rel.replace(os.sep, "/")


def _key(f: Finding, base: str) -> Key:
    obj = f.object
    return (f.code, _rel(f.path, base), obj.kind if obj else "", (obj.namespace or "") if obj else "",
            obj.name if obj else "")


def _entry(f: Finding, base: str) -> dict[str, Any]:
    obj = f.object
    return {
        "code": f.code,
        "rule": f.rule,
        "path": _rel(f.path, base),
        "object": {"kind": obj.kind, "name": obj.name, "namespace": obj.namespace} if obj else None,
        "message": f.message,
    }


def _entry_key(entry: dict[str, Any]) -> Key:
    obj = entry.get("object") or {}
    return (str(entry["code"]), str(entry["path"]), str(obj.get("kind") or ""), str(obj.get("namespace") or ""),
            str(obj.get("name") or ""))


def render(findings: Iterable[Finding], baseline_path: str) -> str:
    """The baseline document for ``findings`` (deterministic: sorted entries, sorted keys)."""
    base = os.path.dirname(os.path.abspath(baseline_path))
    entries = [_entry(f, base) for f in findings]
    entries.sort(key=lambda e: (_entry_key(e), e["message"]))
    doc = {"version": VERSION, "tool": "scalelint", "findings": entries}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def write(findings: Iterable[Finding], path: str) -> int:
    """Write the baseline; returns how many findings it records."""
    items = list(findings)
    text = render(items, path)
    try:
        with open(path, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
    except OSError as exc:
        raise BaselineError(f"{path}: cannot write baseline: {exc.strerror or exc}") from None
    return len(items)


@dataclass
class Baseline:
    path: str
    #: key → messages of the recorded findings with that key
    entries: dict[Key, list[str]]

    @property
    def base(self) -> str:
        return os.path.dirname(os.path.abspath(self.path))

    def __len__(self) -> int:
        return sum(len(m) for m in self.entries.values())


def load(path: str) -> Baseline:
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except FileNotFoundError:
        raise BaselineError(f"{path}: baseline file not found (create it with --write-baseline)") from None
    except OSError as exc:
        raise BaselineError(f"{path}: cannot read baseline: {exc.strerror or exc}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise BaselineError(f"{path}: not a scalelint baseline: invalid JSON ({exc})") from None
    if not isinstance(doc, dict) or "findings" not in doc or not isinstance(doc["findings"], list):
        raise BaselineError(f"{path}: not a scalelint baseline: expected an object with \"version\" and \"findings\"")
    if doc.get("version") != VERSION:
        raise BaselineError(f"{path}: unsupported baseline version {doc.get('version')!r} (expected {VERSION})")
    entries: dict[Key, list[str]] = {}
    for i, entry in enumerate(doc["findings"]):
        if (not isinstance(entry, dict) or not isinstance(entry.get("code"), str)
                or not isinstance(entry.get("path"), str)
                or not isinstance(entry.get("object"), (dict, type(None)))):
            raise BaselineError(f"{path}: not a scalelint baseline: findings[{i}] needs \"code\", \"path\", \"object\"")
        entries.setdefault(_entry_key(entry), []).append(str(entry.get("message", "")))
    return Baseline(path, entries)


def new_findings(findings: list[Finding], baseline: Baseline) -> tuple[list[Finding], int]:
    """The findings the baseline does not account for, in their order, and how many it did absorb.

    Per key the baseline absorbs as many findings as it has entries: those
    whose message it recorded first, then any others in report order.
    """
    base = baseline.base
    by_key: dict[Key, list[int]] = {}
    for i, f in enumerate(findings):
        by_key.setdefault(_key(f, base), []).append(i)
    new: set[int] = set()
    for key, indexes in by_key.items():
        recorded = Counter(baseline.entries.get(key, []))
        budget = sum(recorded.values())
        matched: set[int] = set()
        for i in indexes:  # exact messages first
            if recorded[findings[i].message] > 0:
                recorded[findings[i].message] -= 1
                matched.add(i)
        spare = budget - len(matched)
        for i in indexes:
            if i in matched:
                continue
            if spare > 0:
                spare -= 1
            else:
                new.add(i)
    kept = [f for i, f in enumerate(findings) if i in new]
    return kept, len(findings) - len(kept)
