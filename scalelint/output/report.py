"""``scalelint report``: the capacity table as text, JSON or Markdown (for PR comments and step summaries)."""
from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from scalelint.analyze.capacity import ClientRow, DatabaseRow, GroupReport
from scalelint.output.plan import mermaid_chart

_STATUS = {"ok": "ok", "tight": "tight", "over": "OVER", "unknown": "unknown"}
_ICON = {"ok": "✅", "tight": "⚠️", "over": "❌", "unknown": "❔"}


def _n(value: int | None) -> str:
    return "?" if value is None else str(value)


def _replicas(c: ClientRow) -> str:
    lo, hi = _n(c.replicas_min), _n(c.replicas_max)
    text = lo if lo == hi else f"{lo}–{hi}"
    return text + (" (HPA)" if c.hpa else "")


def _pool(c: ClientRow) -> str:
    if c.connection_limit is not None:
        return f"limit {c.connection_limit}"
    text = f"{_n(c.pool)} + {_n(c.overflow)}"
    return text + (" (assumed)" if c.pool_assumed else "")


def _fit(c: ClientRow) -> str:
    """A workload that opens no connections fits at any replica count."""
    return "any" if c.per_replica == 0 else _n(c.largest_replicas)


def _name(c: ClientRow) -> str:
    return f"{c.namespace}/{c.workload}" if c.namespace and c.namespace != "default" else c.workload


def _max_connections(d: DatabaseRow) -> str:
    """The limit, marked when nobody wrote it down (the engine's default applies)."""
    dflt = d.max_connections is not None and d.max_connections_source != "set"
    return _n(d.max_connections) + (" (default)" if dflt else "")


def _db_line(d: DatabaseRow) -> str:
    demand = f"{d.demand}" + ("" if d.complete else "+")
    return (f"{d.name} ({d.engine}): max_connections {_max_connections(d)}, reserved {_n(d.reserved)}, "
            f"available {_n(d.available)}, demand {demand}, headroom {_n(d.headroom)} [{_STATUS[d.status]}]")


def render_text(groups: list[GroupReport]) -> str:
    out: list[str] = []
    for g in groups:
        if not g.databases:
            continue
        out.append(f"== {g.id} ({g.kind})")
        for d in g.databases:
            out.append(_db_line(d))
            header = ("workload", "replicas", "workers", "pool+overflow", "conns/replica", "connections",
                      "max replicas that fit")
            rows = [header] + [(_name(c), _replicas(c), _n(c.workers), _pool(c), _n(c.per_replica),
                                _n(c.connections), _fit(c)) for c in d.clients]
            widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
            for r in rows:
                out.append("  " + "  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip())
            for reason in d.unknown:
                out.append(f"  ? {d.name}: {reason}")
            for c in d.clients:
                for reason in c.unknown:
                    out.append(f"  ? {_name(c)}: {reason}")
        out.append("")
    if not out:
        return "no database clients found: nothing to budget\n"
    return "\n".join(out).rstrip("\n") + "\n"


def render_markdown(groups: list[GroupReport], *, charts: bool = False) -> str:
    """The report for a pull-request comment; ``charts`` adds, per database, the Mermaid bar chart of
    each client's connections against what is available (SPEC §10), after the database's table."""
    out = ["## scalelint capacity report", ""]
    any_db = False
    for g in groups:
        if not g.databases:
            continue
        for d in g.databases:
            any_db = True
            demand = f"{d.demand}" + ("" if d.complete else "+")
            out.append(f"### {_ICON[d.status]} `{d.name}` — demand {demand} of {_n(d.available)} available")
            out.append("")
            out.append(f"{d.engine}, max_connections {_max_connections(d)} − {_n(d.reserved)} reserved; "
                       f"headroom **{_n(d.headroom)}** · `{g.id}`")
            out.append("")
            out.append("| workload | replicas | workers | pool + overflow | connections | max replicas that fit |")
            out.append("|---|---:|---:|---:|---:|---:|")
            for c in d.clients:
                out.append(f"| `{_name(c)}` | {_replicas(c)} | {_n(c.workers)} | {_pool(c)} | {_n(c.connections)} "
                           f"| {_fit(c)} |")
            unknown = [(d.name, r) for r in d.unknown] + [(_name(c), r) for c in d.clients for r in c.unknown]
            if unknown:
                out.append("")
                out.append("Unknown values (not counted):")
                for name, reason in unknown:
                    out.append(f"- `{name}`: {reason}")
            out.append("")
            if charts:
                chart = mermaid_chart(d.name, d.available, [(_name(c), c.connections) for c in d.clients],
                                      demand=f"{d.demand}" + ("" if d.complete else "+"))
                out += [*chart, ""] if chart else []
    if not any_db:
        out.append("No database clients found: nothing to budget.")
        out.append("")
    return "\n".join(out)


#: SPEC §8: these numbers say where they were set and how sure they are; unknown is the string "unknown"
_TRACED = ("replicas", "workers", "threads", "per_worker", "per_replica")


def _client_json(c: ClientRow) -> dict[str, Any]:
    out = {k: v for k, v in asdict(c).items() if k not in ("sources", "statuses", "groups", "pool_text")}
    sources, statuses = dict(c.sources), dict(c.statuses)
    statuses.setdefault("per_replica", "known" if c.per_replica is not None else "unknown")
    for field in ("workers", "per_worker", "per_replica"):
        if out[field] is None:
            out[field] = "unknown"
    if out["threads"] is None and statuses.get("threads") == "unknown":
        out["threads"] = "unknown"
    for field in _TRACED:
        out[f"{field}_source"] = sources.get(field)
        out[f"{field}_status"] = statuses.get(field)
    out["pool_description"] = c.pool_text
    out["process_groups"] = [{"label": label, "processes": count if count is not None else "unknown",
                              "per_process": per} for label, count, per in c.groups]
    return out


def render_json(groups: list[GroupReport], tool_version: str) -> str:
    shown = []
    for g in groups:
        if not g.databases:
            continue
        entry = asdict(g)
        for db_json, db in zip(entry["databases"], g.databases):
            db_json["clients"] = [_client_json(c) for c in db.clients]
        shown.append(entry)
    doc: dict[str, Any] = {"version": 1, "tool": {"name": "scalelint", "version": tool_version}, "groups": shown}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
