"""What-if for ``scalelint plan`` (SPEC §10): ``--set WORKLOAD.FIELD=N`` and what the change raises or clears.

Parsing is strict because a typo in a what-if silently answers a different question: an
unknown workload or field is a usage error (exit 2) with a did-you-mean, never ignored.
"""
from __future__ import annotations

import difflib
import re
from collections import defaultdict

from scalelint.findings import Finding

#: the fields ``--set`` may change; ``pool`` is connections per worker (pool + overflow)
FIELDS = ("workers", "replicas", "pool")
_INT = re.compile(r"[+-]?[0-9]+")
_FORM = "expected WORKLOAD.FIELD=N with FIELD workers, replicas or pool, e.g. api.workers=4"


class PlanUsageError(ValueError):
    """A ``--set`` value that cannot be applied; the message is one line, fit for ``exit 2``."""


def _bare(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def _suggest(word: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(word, candidates, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _resolve(name: str, known: list[str], raw: str) -> str:
    """The full workload name ``name`` stands for: itself, or the one workload with that bare name."""
    if name in known:
        return name
    matches = sorted({k for k in known if _bare(k) == name})
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise PlanUsageError(f"--set {raw}: '{name}' is ambiguous ({', '.join(matches)}): name it in full")
    hint = _suggest(name, sorted(set(known) | {_bare(k) for k in known}))
    if not hint:
        listed = sorted(set(known))
        shown = ", ".join(listed[:8]) + (", …" if len(listed) > 8 else "")
        hint = f"; workloads: {shown}" if listed else "; no workloads found"
    raise PlanUsageError(f"--set {raw}: unknown workload '{name}'{hint}")


def parse_sets(values: list[str], workloads: list[str]) -> dict[str, dict[str, int]]:
    """``["api.workers=4", "shop/db.pool=10"]`` → ``{"api": {"workers": 4}, "shop/db": {"pool": 10}}``.

    Keys are full workload names (``shop/api`` also answers to ``api`` when no other namespace
    has an ``api``); the field is what follows the *last* dot before ``=`` (Kubernetes names may
    hold dots); a later value for the same field wins.
    """
    out: dict[str, dict[str, int]] = {}
    for raw in values:
        left, eq, text = raw.partition("=")
        if not eq:
            raise PlanUsageError(f"--set {raw}: missing '=': {_FORM}")
        name, dot, field = left.strip().rpartition(".")
        if not dot or not name:
            raise PlanUsageError(f"--set {raw}: missing the field: {_FORM}")
        if field not in FIELDS:
            raise PlanUsageError(f"--set {raw}: unknown field '{field}'{_suggest(field, list(FIELDS))}; "
                                 f"fields: {', '.join(FIELDS)}")
        full = _resolve(name, workloads, raw)
        text = text.strip()
        if not _INT.fullmatch(text):
            raise PlanUsageError(f"--set {raw}: '{text}' is not a whole number")
        number = int(text)
        if number < 0:
            raise PlanUsageError(f"--set {raw}: {field} must be 0 or more, not {number}")
        out.setdefault(full, {})[field] = number
    return out


def _key(f: Finding) -> tuple[str, tuple[str, str, str], str]:
    obj = f.object
    return f.code, ((obj.kind, obj.name, obj.namespace or "") if obj else ("", "", "")), f.path


def diff_findings(before: list[Finding], after: list[Finding]
                  ) -> tuple[list[Finding], list[Finding], list[tuple[Finding, Finding]]]:
    """(raised, cleared, changed) between two runs, keyed by (code, object, path).

    Several findings may share a key (SL001 once per container of one workload): equal messages
    pair up first (unchanged, not reported), the rest pair in sorted order as "changed" (same
    finding, new numbers), and what is left over was raised or cleared. Every list is sorted.
    """
    old: dict[tuple, list[Finding]] = defaultdict(list)
    new: dict[tuple, list[Finding]] = defaultdict(list)
    for f in sorted(before, key=Finding.sort_key):
        old[_key(f)].append(f)
    for f in sorted(after, key=Finding.sort_key):
        new[_key(f)].append(f)
    raised: list[Finding] = []
    cleared: list[Finding] = []
    changed: list[tuple[Finding, Finding]] = []
    for key in sorted(set(old) | set(new)):
        a, b = list(old.get(key, [])), list(new.get(key, []))
        for f in list(a):
            same = next((g for g in b if g.message == f.message), None)
            if same is not None:
                a.remove(f)
                b.remove(same)
        changed.extend(zip(a, b))
        cleared.extend(a[len(b):])
        raised.extend(b[len(a):])
    raised.sort(key=Finding.sort_key)
    cleared.sort(key=Finding.sort_key)
    changed.sort(key=lambda p: (p[1].sort_key(), p[0].sort_key()))
    return raised, cleared, changed
