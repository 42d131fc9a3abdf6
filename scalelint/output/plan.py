"""``scalelint plan`` (SPEC §10) as text, JSON or Markdown; plus the Mermaid chart ``report`` shares.

Formatters print :class:`PlanRow` values and compute nothing (DESIGN.md): every number and
sentence comes from :mod:`scalelint.analyze.plan`. Output is deterministic: rows arrive sorted,
findings are sorted here.
"""
from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from scalelint.analyze.plan import Ceiling, DatabaseLoad, PlanRow
from scalelint.findings import Finding
from scalelint.output.jsonfmt import finding_dict
from scalelint.output.text import line

Diff = tuple[list[Finding], list[Finding], list[tuple[Finding, Finding]]]

_HEADER = ("workload", "replicas", "workers", "per worker", "by_cpu", "by_memory", "by_policy", "by_budget",
           "max replicas", "pool that fits", "next step")
#: what Mermaid's xychart lexer reads as syntax inside a label (quotes end it, %% starts a comment,
#: a backtick starts Markdown text, # and <> are entity and HTML syntax); control characters break the line
_UNSAFE = re.compile(r'["`%#<>\\\x00-\x1f\x7f]')


# --- cells --------------------------------------------------------------------------------------

def _n(value: int | None) -> str:
    return "?" if value is None else str(value)


def _ceiling(c: Ceiling) -> str:
    """``5``; ``≤5`` from a partial budget; ``any`` when the constraint does not apply; ``?`` unknown."""
    if not c.limited:
        return "any"
    if c.value is None:
        return "?"
    return f"≤{c.value}" if c.at_most else str(c.value)


def _replicas(r: PlanRow) -> str:
    lo, hi = _n(r.replicas_min), _n(r.replicas)
    return (lo if lo == hi else f"{lo}–{hi}") + (" (HPA)" if r.hpa else "")


def _per_worker(r: PlanRow) -> str:
    if not r.databases:
        return "-"
    if r.unbounded is not None:
        return "unbounded"
    return _n(r.per_worker)


def _cells(r: PlanRow) -> tuple[str, ...]:
    return (r.workload, _replicas(r), _n(r.workers), _per_worker(r), _ceiling(r.by_cpu), _ceiling(r.by_memory),
            _ceiling(r.by_policy), _ceiling(r.by_budget), _ceiling(r.max_replicas_by_budget),
            _ceiling(r.pool_per_worker_that_fits), r.next_step)


def _groups(rows: Sequence[PlanRow], databases: Sequence[DatabaseLoad] = ()) -> list[str]:
    return sorted({r.group for r in rows} | {d.group for d in databases})


# --- text ---------------------------------------------------------------------------------------

def _diff_text(diff: Diff) -> list[str]:
    raised, cleared, changed = diff
    if not (raised or cleared or changed):
        return ["what-if: no finding raised, cleared or changed"]
    out = [f"what-if: {len(raised)} raised, {len(cleared)} cleared, {len(changed)} changed"]
    out += [f"  + {line(f)}" for f in raised]
    out += [f"  - {line(f)}" for f in cleared]
    for before, after in changed:
        out += [f"  ~ {line(before)}", f"    → {after.message}"]
    return out


def render_text(rows: list[PlanRow], diff: Diff | None = None) -> str:
    """A table per group, then each workload's reasons and how each ceiling was computed."""
    out: list[str] = []
    for group in _groups(rows):
        members = [r for r in rows if r.group == group]
        out.append(f"== {group}")
        table = [_HEADER] + [_cells(r) for r in members]
        widths = [max(len(t[i]) for t in table) for i in range(len(_HEADER))]
        out += ["  " + "  ".join(c.ljust(w) for c, w in zip(t, widths)).rstrip() for t in table]
        for r in members:
            out.append(f"  {r.workload}: {r.next_step}")
            out += [f"    - {reason}" for reason in r.reasons]
            out += [f"      {note}" for note in r.notes()]
        out.append("")
    if not rows:
        out += ["no workloads found: nothing to plan", ""]
    if diff is not None:
        out += _diff_text(diff) + [""]
    return "\n".join(out).rstrip("\n") + "\n"


# --- json ---------------------------------------------------------------------------------------

def _ceiling_json(c: Ceiling) -> int | None:
    return c.value if c.limited else None


def row_dict(r: PlanRow) -> dict[str, Any]:
    """SPEC §10's workload object: integers or null, the ceilings' sentences after the reasons."""
    return {
        "workload": r.workload,
        "group": r.group,
        "replicas": r.replicas,
        "replicas_min": r.replicas_min,
        "workers": r.workers,
        "per_worker": r.per_worker,
        "max_workers": {"by_cpu": _ceiling_json(r.by_cpu), "by_memory": _ceiling_json(r.by_memory),
                        "by_policy": _ceiling_json(r.by_policy), "by_budget": _ceiling_json(r.by_budget)},
        "max_replicas_by_budget": _ceiling_json(r.max_replicas_by_budget),
        "pool_per_worker_that_fits": _ceiling_json(r.pool_per_worker_that_fits),
        "next_step": r.next_step,
        "reasons": [*r.reasons, *r.notes()],
    }


def render_json(rows: list[PlanRow], findings: list[Finding], version: int = 1, diff: Diff | None = None) -> str:
    """``{"version": 1, "workloads": [...], "findings": [...]}`` (SPEC §10), and ``changes`` with a what-if.

    ``version`` is the document's format version (SPEC §10 says 1), not the tool's.
    """
    doc: dict[str, Any] = {
        "version": version,
        "workloads": [row_dict(r) for r in rows],
        "findings": [finding_dict(f) for f in sorted(findings, key=Finding.sort_key)],
    }
    if diff is not None:
        raised, cleared, changed = diff
        doc["changes"] = {
            "raised": [finding_dict(f) for f in raised],
            "cleared": [finding_dict(f) for f in cleared],
            "changed": [{"before": finding_dict(a), "after": finding_dict(b)} for a, b in changed],
        }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


# --- markdown -----------------------------------------------------------------------------------

def _label(text: str) -> str:
    return _UNSAFE.sub("_", text).strip() or "_"


def mermaid_chart(database: str, available: int | None, clients: Sequence[tuple[str, int | None]],
                  demand: str | None = None) -> list[str]:
    """A fenced Mermaid ``xychart-beta``: a bar per client's connections, a line at what is available.

    The y axis starts at 0 (Mermaid would otherwise start it at the smallest bar, which then
    looks empty). An unknown client is a zero bar labelled "(unknown)" and makes the demand in
    the title "at least" (``330+``); ``demand`` overrides the title's figure when the caller
    knows it better (the report's total also counts clients without a bar). Labels are made safe for Mermaid's lexer; repeated labels
    are numbered so each client keeps its own bar. No clients: no chart.
    """
    if not clients:
        return []
    labels: list[str] = []
    for name, conns in clients:
        label = _label(name) + (" (unknown)" if conns is None else "")
        base, k = label, 1
        while label in labels:
            k += 1
            label = f"{base} ({k})"
        labels.append(label)
    bars = [c or 0 for _, c in clients]
    if demand is None:
        demand = f"{sum(bars)}" + ("+" if any(c is None for _, c in clients) else "")
    avail = f"of {available} available" if available is not None else "(available unknown)"
    top = max([*bars, available or 0, 1])
    out = ["```mermaid", "xychart-beta",
           f'    title "{_label(database)}: demand {demand} {avail}"',
           "    x-axis [" + ", ".join(f'"{lbl}"' for lbl in labels) + "]",
           f'    y-axis "connections" 0 --> {top}',
           "    bar [" + ", ".join(str(b) for b in bars) + "]"]
    if available is not None:
        out.append("    line [" + ", ".join(str(available) for _ in bars) + "]")
    out.append("```")
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _diff_markdown(diff: Diff) -> list[str]:
    raised, cleared, changed = diff
    out = ["### What-if", ""]
    if not (raised or cleared or changed):
        return out + ["No finding raised, cleared or changed.", ""]

    def item(f: Finding) -> str:
        where = f"{f.path}:{f.line}:{f.column}" if f.line else f.path
        return f"- `{f.code}` `{where}`: {f.message}"

    for title, found in (("Raised", raised), ("Cleared", cleared)):
        if found:
            out += [f"**{title}** ({len(found)})", "", *(item(f) for f in found), ""]
    if changed:
        out += [f"**Changed** ({len(changed)})", ""]
        for before, after in changed:
            where = f"{after.path}:{after.line}:{after.column}" if after.line else after.path
            out += [f"- `{after.code}` `{where}`", f"  - before: {before.message}", f"  - after: {after.message}"]
        out.append("")
    return out


def render_markdown(rows: list[PlanRow], databases: list[DatabaseLoad], diff: Diff | None = None) -> str:
    """For a pull-request comment: per group a table, the reasons, the ceilings folded away, and a
    chart per database; then the what-if changes."""
    out = ["## scalelint plan", ""]
    for group in _groups(rows, databases):
        members = [r for r in rows if r.group == group]
        out += [f"### `{group}`", ""]
        if members:
            out.append("| " + " | ".join(_HEADER) + " |")
            out.append("|---|" + "---:|" * (len(_HEADER) - 2) + "---|")
            for r in members:
                cells = _cells(r)
                out.append(f"| `{_cell(cells[0])}` | " + " | ".join(_cell(c) for c in cells[1:-1])
                           + f" | **{cells[-1]}** |")
            out.append("")
            for r in members:
                first, *rest = r.reasons or ("",)
                out.append(f"- `{r.workload}` — **{r.next_step}**: {first}")
                out += [f"  - {reason}" for reason in rest]
            out += ["", "<details><summary>How the ceilings were computed</summary>", ""]
            for r in members:
                out.append(f"- `{r.workload}`")
                out += [f"  - {note}" for note in r.notes()]
            out += ["", "</details>", ""]
        for d in sorted(databases, key=lambda d: (d.group, d.name, d.location)):
            if d.group == group:
                out += [f"#### `{d.name}`: connections by client", ""]
                out += mermaid_chart(d.name, d.available, [(c.name, c.connections) for c in d.clients])
                out.append("")
    if not rows:
        out += ["No workloads found: nothing to plan.", ""]
    if diff is not None:
        out += _diff_markdown(diff)
    return "\n".join(out)
