"""``scalelint report``: the capacity table as text, JSON or Markdown (for PR comments and step summaries)."""
from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from scalelint.analyze.capacity import ClientRow, DatabaseRow, GroupReport, PoolerRow, PoolerShareRow, SettingRow
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
        return f"limit {c.connection_limit}" + (" (assumed)" if dict(c.statuses).get("per_worker") == "assumed" else "")
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


_HEADER = ("workload", "replicas", "workers", "pool+overflow", "conns/replica", "connections", "max replicas that fit")
_SHARE_HEADER = ("via pooler", "replicas", "server conns/replica", "server limit", "clients' demand", "connections")


def _columns(rows: list[tuple[str, ...]], indent: str = "  ") -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [indent + "  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]


def _client_cells(c: ClientRow) -> tuple[str, ...]:
    return (_name(c), _replicas(c), _n(c.workers), _pool(c), _n(c.per_replica), _n(c.connections), _fit(c))


def _share_cells(sh: PoolerShareRow) -> tuple[str, ...]:
    reps = _n(sh.replicas) + (" (HPA)" if sh.hpa else "")
    return (sh.pooler, reps, sh.server_description, _n(sh.server_limit),
            f"{sh.client_demand}" + ("" if sh.clients_complete else "+"),
            f"{sh.connections}" + ("" if sh.complete else "+"))


def _source(row: SettingRow) -> str:
    """Where a setting comes from, short: its position, or "default", "assumed", "unknown"."""
    if row.status == "known":
        return row.source or "set"
    return row.status  # default / assumed / unknown: the reasons of unknowns are listed below the pooler


def _pooler_line(pl: PoolerRow) -> str:
    where = f"{pl.kind}, {pl.flavour}; settings from {pl.settings_from}" + (
        f" {pl.config_path}" if pl.config_path else "")
    to = ", ".join(pl.databases) if pl.databases else "no database found"
    demand = (f"{pl.demand}" + ("" if pl.complete else "+")) if pl.clients else "unknown (no client found)"
    limit = (f"{_n(pl.replicas)} {'replica' if pl.replicas == 1 else 'replicas'}{' (HPA max)' if pl.hpa else ''} × "
             f"{_n(pl.max_client_conn)} {pl.client_limit_setting} = {_n(pl.client_limit)}")
    return f"pooler {pl.name} ({where}) → {to}: client demand {demand} of {limit} [{_STATUS[pl.status]}]"


_WHAT = {"replicas": "replicas", "workers": "workers", "threads": "threads", "per_worker": "per worker"}


def _behind(c: ClientRow) -> str:
    """Where the numbers that no manifest holds were read (SPEC §8): ``workers ← gunicorn.conf.py:4:35 ·
    per worker ← shop/db.py:7:5``; empty when every number is in the client's own file."""
    own = c.location.rsplit(":", 2)[0]
    parts = [f"{_WHAT.get(key, key)} ← {where}" for key, where in c.sources
             if where.rsplit(":", 2)[0] != own and key in _WHAT]
    return " · ".join(parts)


#: a database no workload reaches: the notices say which links could not be read
_NO_CLIENT = "no client in the files linted connects to it (see the notices for links that could not be read)"


def render_text(groups: list[GroupReport]) -> str:
    out: list[str] = []
    for g in groups:
        if not g.databases and not g.poolers:
            continue
        out.append(f"== {g.id} ({g.kind})")
        for d in g.databases:
            out.append(_db_line(d))
            if d.clients:
                out += _columns([_HEADER] + [_client_cells(c) for c in d.clients])
            if d.poolers:
                out += _columns([_SHARE_HEADER] + [_share_cells(sh) for sh in d.poolers])
            if not d.clients and not d.poolers:
                out.append(f"  {_NO_CLIENT}")
            for reason in d.unknown:
                out.append(f"  ? {d.name}: {reason}")
            for c in d.clients:
                chain = _behind(c)
                if chain:
                    out.append(f"  {_name(c)}: {chain}")
            for c in d.clients:
                for reason in c.unknown:
                    out.append(f"  ? {_name(c)}: {reason}")
            for sh in d.poolers:
                for reason in sh.unknown:
                    out.append(f"  ? {sh.pooler}: {reason}")
        for pl in g.poolers:
            out.append(_pooler_line(pl))
            out.append("  " + " · ".join(f"{r.name} {_n(r.value) if not isinstance(r.value, str) else r.value} "
                                         f"({_source(r)})" for r in pl.settings))
            if pl.clients:
                out += _columns([_HEADER] + [_client_cells(c) for c in pl.clients])
            for reason in pl.unknown:
                out.append(f"  ? {pl.name}: {reason}")
            for c in pl.clients:
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
        if not g.databases and not g.poolers:
            continue
        for d in g.databases:
            any_db = True
            demand = f"{d.demand}" + ("" if d.complete else "+")
            out.append(f"### {_ICON[d.status]} `{d.name}` — demand {demand} of {_n(d.available)} available")
            out.append("")
            out.append(f"{d.engine}, max_connections {_max_connections(d)} − {_n(d.reserved)} reserved; "
                       f"headroom **{_n(d.headroom)}** · `{g.id}`")
            out.append("")
            if d.clients:
                out += _md_clients(d.clients)
                behind = [(_name(c), _behind(c)) for c in d.clients if _behind(c)]
                if behind:
                    out += ["", "Read behind the manifests:"] + [f"- `{name}`: {chain}" for name, chain in behind]
            if not d.clients and not d.poolers:
                out.append(_NO_CLIENT[0].upper() + _NO_CLIENT[1:] + ".")
            if d.poolers:
                if d.clients:
                    out.append("")  # a table of its own
                out.append("| via pooler | replicas | server connections per replica | server limit | clients' demand "
                           "| connections |")
                out.append("|---|---:|---:|---:|---:|---:|")
                out += [f"| `{c[0]}` | {' | '.join(c[1:])} |" for c in map(_share_cells, d.poolers)]
            unknown = [(d.name, r) for r in d.unknown] + [(_name(c), r) for c in d.clients for r in c.unknown] \
                + [(sh.pooler, r) for sh in d.poolers for r in sh.unknown]
            if unknown:
                out.append("")
                out.append("Unknown values (not counted):")
                for name, reason in unknown:
                    out.append(f"- `{name}`: {reason}")
            out.append("")
            if charts:
                bars = [(_name(c), c.connections) for c in d.clients] + [
                    (f"via {sh.pooler}", sh.connections if sh.complete else None) for sh in d.poolers]
                chart = mermaid_chart(d.name, d.available, bars, demand=f"{d.demand}" + ("" if d.complete else "+"))
                out += [*chart, ""] if chart else []
        for pl in g.poolers:
            any_db = True
            out += _md_pooler(pl, g.id)
    if not any_db:
        out.append("No database clients found: nothing to budget.")
        out.append("")
    return "\n".join(out)


def _md_clients(clients: tuple[ClientRow, ...]) -> list[str]:
    rows = ["| workload | replicas | workers | pool + overflow | connections | max replicas that fit |",
            "|---|---:|---:|---:|---:|---:|"]
    return rows + [f"| `{_name(c)}` | {_replicas(c)} | {_n(c.workers)} | {_pool(c)} | {_n(c.connections)} "
                   f"| {_fit(c)} |" for c in clients]


def _md_pooler(pl: PoolerRow, group: str) -> list[str]:
    """A pooler's section: its client limit, each setting with its source, its clients."""
    icon = {"ok": "✅", "over": "❌", "unknown": "❔"}[pl.status]
    to = ", ".join(f"`{name}`" for name in pl.databases) or "no database found"
    demand = (f"{pl.demand}" + ("" if pl.complete else "+")) if pl.clients else "unknown (no client found)"
    out = [f"### {icon} pooler `{pl.name}` → {to} — client demand {demand} of {_n(pl.client_limit)} accepted", "",
           f"{pl.kind} ({pl.flavour}), settings from {pl.settings_from}"
           + (f" `{pl.config_path}`" if pl.config_path else "") + f" · `{group}`", "",
           "| setting | value | source |", "|---|---:|---|"]
    for r in pl.settings:
        value = r.value if isinstance(r.value, str) else _n(r.value)
        source = f"`{r.source}`" if r.status == "known" and r.source else (
            f"{r.status}: {r.reason}" if r.reason else r.status)
        out.append(f"| {r.name} | {value} | {source.replace('|', '/')} |")
    if pl.clients:
        out += ["", *_md_clients(pl.clients)]
    unknown = [(pl.name, r) for r in pl.unknown] + [(_name(c), r) for c in pl.clients for r in c.unknown]
    if unknown:
        out += ["", "Unknown values (not counted):"] + [f"- `{name}`: {reason}" for name, reason in unknown]
    return [*out, ""]


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
        if not g.databases and not g.poolers:
            continue
        entry = asdict(g)
        for db_json, db in zip(entry["databases"], g.databases):
            db_json["clients"] = [_client_json(c) for c in db.clients]
        for pooler_json, pooler in zip(entry["poolers"], g.poolers):
            pooler_json["clients"] = [_client_json(c) for c in pooler.clients]
        shown.append(entry)
    doc: dict[str, Any] = {"version": 1, "tool": {"name": "scalelint", "version": tool_version}, "groups": shown}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
