"""``scalelint plan`` output (SPEC §10): text, the JSON shape, Markdown with Mermaid charts, and the
chart that ``report --format markdown`` shares.

Rows come from the planner with hand-picked numbers (the arithmetic is beside each number), so
each expected string can be checked by hand.
"""
from __future__ import annotations

import json
from typing import Any

from scalelint.analyze.capacity import ClientRow, DatabaseRow, GroupReport
from scalelint.analyze.plan import (
    ClientLoad,
    DatabaseLoad,
    DatabaseShare,
    Numbers,
    PlanRow,
    database_loads,
    diff_findings,
    plan,
)
from scalelint.findings import Finding, ObjectRef, Related, Severity
from scalelint.model import Val, known, unknown
from scalelint.output import report
from scalelint.output.plan import mermaid_chart, render_json, render_markdown, render_text

MI = 1 << 20
GI = 1 << 30


def db(available: int | Val[int] = 97, others: int | None = 0, complete: bool = True) -> DatabaseShare:
    avail = available if isinstance(available, Val) else known(available, None)
    return DatabaseShare("postgres", "k8s.yaml:40:9", avail, others, complete)


def numbers(workload: str = "shop/api", replicas: int = 1, workers: int | Val[int] = 4,
            per_worker: int | None = 25, cpu: float | None = 2.0, **kw: Any) -> Numbers:
    """Defaults: the seed case, 1 pod × 4 workers × (15 + 10) against 97 available, CPU limit 2, 4Gi."""
    base: dict[str, Any] = {
        "workload": workload, "kind": "Deployment", "group": "k8s", "location": "k8s.yaml:4:9",
        "replicas_min": known(replicas, None), "replicas_max": known(replicas, None), "hpa": False,
        "workers": workers if isinstance(workers, Val) else known(workers, None),
        "per_worker": None if per_worker is None else known(per_worker, None), "unbounded": None,
        "cpu_limit": None if cpu is None else known(cpu, None), "memory_limit": known(4 * GI, None),
        "memory_per_worker": 512 * MI, "memory_per_worker_source": "assumed", "max_workers_per_pod": 8,
        "ha_required": False, "ha_reasons": (), "profile": "io-bound", "stateful": False, "databases": (db(),),
        "per_worker_terms": (15, 10) if per_worker == 25 else (),
    }
    base.update(kw)
    return Numbers(**base)


def two_clients() -> list[PlanRow]:
    """api 2 × 2 × 10 = 40 and worker 1 × 2 × 15 = 30 on one postgres (97 available): each sees the other."""
    return plan([numbers("shop/api", replicas=2, workers=2, per_worker=10, cpu=1.0, databases=(db(97, 30),)),
                 numbers("shop/worker", replicas=1, workers=2, per_worker=15, cpu=0.5, databases=(db(97, 40),))])


def finding(code: str, message: str, name: str = "api", line: int = 3) -> Finding:
    return Finding(code, code.lower(), Severity.ERROR, message, "k8s.yaml", line, 1,
                   ObjectRef("Deployment", name, "shop"), (Related("k8s.yaml", 40, 9, "postgres"),), "fix it")


SEED_REASONS = [
    ("1 pod × 4 workers × (15 + 10) = 100 > 97 available on postgres (over by 3): "
    "cut to 24 connections per worker, or 3 workers per pod"),
    "by_cpu: 2 × 2 CPU + 1 = 5 workers",
    "by_memory: 4Gi memory limit ÷ 512Mi per worker (assumed) = 8 workers",
    "by_policy: max-workers-per-pod is 8",
    "by_budget: 97 available on postgres ÷ (1 pod × 25 connections per worker) = 3 workers per pod (rounded down)",
    ("max_replicas_by_budget: 97 available on postgres ÷ (4 workers × 25 connections per worker) = 0 replicas "
    "(rounded down)"),
    ("pool_per_worker_that_fits: 97 available on postgres ÷ (1 pod × 4 workers) = 24 connections per worker "
    "(rounded down)"),
]


# --- json ---------------------------------------------------------------------------------------

def test_json_shape_of_the_seed_case() -> None:
    sl003 = finding("SL003", "postgres: demand 100 > 97 available")
    sl001 = finding("SL001", "no memory limit", line=1)
    doc = json.loads(render_json(plan([numbers()]), [sl003, sl001]))
    assert set(doc) == {"version", "workloads", "findings"} and doc["version"] == 1
    assert doc["workloads"] == [{
        "workload": "shop/api", "group": "k8s", "replicas": 1, "replicas_min": 1, "workers": 4, "per_worker": 25,
        "max_workers": {"by_cpu": 5, "by_memory": 8, "by_policy": 8, "by_budget": 3},
        "max_replicas_by_budget": 0, "pool_per_worker_that_fits": 24, "next_step": "cut", "reasons": SEED_REASONS,
    }]
    # the finding shape of `check --format json`, sorted by location
    assert [f["code"] for f in doc["findings"]] == ["SL001", "SL003"]
    assert doc["findings"][1] == {
        "code": "SL003", "rule": "sl003", "severity": "error", "message": "postgres: demand 100 > 97 available",
        "path": "k8s.yaml", "line": 3, "column": 1,
        "object": {"kind": "Deployment", "name": "api", "namespace": "shop"},
        "related": [{"path": "k8s.yaml", "line": 40, "column": 9, "message": "postgres"}], "fix": "fix it",
    }


def test_json_nulls_for_unknown_and_unlimited() -> None:
    rows = plan([numbers("shop/api", workers=unknown(None, "$(nproc) cannot be resolved"), cpu=None),
                 numbers("shop/web", per_worker=None)])
    api, web = json.loads(render_json(rows, []))["workloads"]
    assert (api["workers"], api["max_workers"]["by_cpu"], api["max_replicas_by_budget"],
            api["pool_per_worker_that_fits"]) == (None, None, None, None)
    assert api["max_workers"]["by_budget"] == 3  # floor(97 ÷ 25) needs no worker count
    assert "by_cpu: no CPU limit" in api["reasons"]
    assert "max_replicas_by_budget: workers unknown: $(nproc) cannot be resolved" in api["reasons"]
    assert (web["per_worker"], web["max_workers"]["by_budget"], web["max_replicas_by_budget"]) == (None, None, None)
    assert "by_budget: not a database client: the connection budget does not limit it" in web["reasons"]


def test_json_with_a_what_if_lists_the_changes() -> None:
    before, after = finding("SL003", "demand 300 > 97"), finding("SL003", "demand 96 > 87")
    gone, new = finding("SL002", "12 workers > 8"), finding("SL004", "1 replica", name="web")
    diff = diff_findings([before, gone], [after, new])
    doc = json.loads(render_json(plan([numbers()]), [after, new], diff=diff))
    assert set(doc) == {"version", "workloads", "findings", "changes"}
    changes = doc["changes"]
    assert [f["code"] for f in changes["raised"]] == ["SL004"]
    assert [f["code"] for f in changes["cleared"]] == ["SL002"]
    [pair] = changes["changed"]
    assert (pair["before"]["message"], pair["after"]["message"]) == ("demand 300 > 97", "demand 96 > 87")
    assert set(pair["before"]) == set(changes["raised"][0]) == {"code", "rule", "severity", "message", "path", "line",
                                                               "column", "object", "related", "fix"}


# --- text ---------------------------------------------------------------------------------------

def test_text_of_the_seed_case() -> None:
    assert render_text(plan([numbers()])) == (
        "== k8s\n"
        "  workload  replicas  workers  per worker  by_cpu  by_memory  by_policy  by_budget  max replicas  "
        "pool that fits  next step\n"
        "  shop/api  1         4        25          5       8          8          3          0             "
        "24              cut\n"
        "  shop/api: cut\n"
        f"    - {SEED_REASONS[0]}\n"
        + "".join(f"      {note}\n" for note in SEED_REASONS[1:])
    )


def test_text_cells_for_hpa_unbounded_partial_and_unlimited() -> None:
    why = "Django under uvicorn opens one connection per in-flight request"
    rows = plan([
        numbers("shop/a", replicas_min=known(2, None), replicas_max=known(5, None), hpa=True, per_worker=1,
                databases=(db(97, 30, complete=False),)),
        numbers("shop/b", per_worker=None, unbounded=why),
        numbers("shop/c", per_worker=None),
    ])
    table = {line.split()[0]: line.split() for line in render_text(rows).splitlines()[2:5]}
    # a: 2–5 pods; at most 97 − 30 = 67 left: workers floor(67 ÷ 5) = 13, replicas floor(67 ÷ 4) = 16,
    #    pool floor(67 ÷ 20) = 3
    assert table["shop/a"] == ["shop/a", "2–5", "(HPA)", "4", "1", "5", "8", "8", "≤13", "≤16", "≤3", "workers"]
    # b: unbounded: no budget ceilings but the pool it should be bounded to, floor(97 ÷ 4) = 24
    assert table["shop/b"] == ["shop/b", "1", "4", "unbounded", "5", "8", "8", "?", "?", "24", "workers"]
    # c: no database: the budget does not limit it
    assert table["shop/c"] == ["shop/c", "1", "4", "-", "5", "8", "8", "any", "any", "any", "workers"]


def test_text_what_if_and_nothing_to_plan() -> None:
    before, after = finding("SL003", "demand 300 > 97"), finding("SL003", "demand 96 > 87")
    gone = finding("SL002", "12 workers > 8")
    assert render_text([], diff_findings([before, gone], [after])) == (
        "no workloads found: nothing to plan\n"
        "\n"
        "what-if: 0 raised, 1 cleared, 1 changed\n"
        "  - k8s.yaml:3:1: SL002 [error] 12 workers > 8 (Deployment shop/api)\n"
        "  ~ k8s.yaml:3:1: SL003 [error] demand 300 > 97 (Deployment shop/api)\n"
        "    → demand 96 > 87\n"
    )
    assert render_text([], ([], [], [])).endswith("what-if: no finding raised, cleared or changed\n")


# --- markdown -----------------------------------------------------------------------------------

TWO_CLIENTS_CHART = (
    "```mermaid\n"
    "xychart-beta\n"
    '    title "postgres: demand 70 of 97 available"\n'
    '    x-axis ["shop/api", "shop/worker"]\n'
    '    y-axis "connections" 0 --> 97\n'
    "    bar [40, 30]\n"
    "    line [97, 97]\n"
    "```\n"
)


def test_markdown_chart_table_and_reasons() -> None:
    rows = two_clients()
    loads = database_loads(rows)
    # api 2 × 2 × 10 = 40, worker 1 × 2 × 15 = 30; api's others (30) are exactly the worker: no "other clients"
    assert loads == [DatabaseLoad("postgres", "k8s", "k8s.yaml:40:9", 97,
                                  (ClientLoad("shop/api", 40), ClientLoad("shop/worker", 30)))]
    md = render_markdown(rows, loads)
    assert "#### `postgres`: connections by client\n\n" + TWO_CLIENTS_CHART in md
    lines = md.splitlines()
    assert lines[:3] == ["## scalelint plan", "", "### `k8s`"]
    # api: left 67 → workers floor(67 ÷ 20) = 3, replicas floor(67 ÷ 20) = 3, pool floor(67 ÷ 4) = 16;
    # worker: left 57 → workers floor(57 ÷ 15) = 3, replicas floor(57 ÷ 30) = 1, pool floor(57 ÷ 2) = 28
    assert "| `shop/api` | 2 | 2 | 10 | 3 | 8 | 8 | 3 | 3 | 16 | **workers** |" in lines
    assert "| `shop/worker` | 1 | 2 | 15 | 2 | 8 | 8 | 3 | 1 | 28 | **none** |" in lines
    assert ("- `shop/worker` — **none**: workers are at their ceiling 2 (by_cpu: 2 × 0.5 CPU + 1 = 2 workers), and "
            "the budget on postgres fits no more replicas: 1 replica at 2 workers × 15 connections per worker") in lines
    header = lines.index("| workload | replicas | workers | per worker | by_cpu | by_memory | by_policy | by_budget "
                         "| max replicas | pool that fits | next step |")
    assert lines[header + 1] == "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    assert "<details><summary>How the ceilings were computed</summary>" in lines
    assert render_markdown(rows, list(reversed(loads))) == md  # deterministic


def test_markdown_other_clients_and_unknown_bars() -> None:
    # api 1 × 4 × 1 = 4 sees 30 others: the worker's 1 × 2 × 5 = 10 and 20 more (a pooler, not a planned workload)
    rows = plan([numbers("shop/api", per_worker=1, databases=(db(97, 30),)),
                 numbers("shop/worker", workers=2, per_worker=5, databases=(db(97, 24),)),
                 numbers("shop/job", workers=unknown(None, "$(nproc)"), per_worker=5, databases=(db(97, 34, False),))])
    [load] = database_loads(rows)
    # ordered by name: job, api, worker; the rest = 30 − (14 − 4) = 20
    assert load.clients == (ClientLoad("shop/api", 4), ClientLoad("shop/job", None), ClientLoad("shop/worker", 10),
                            ClientLoad("other clients", 20))
    assert mermaid_chart(load.name, load.available, [(c.name, c.connections) for c in load.clients]) == [
        "```mermaid", "xychart-beta",
        '    title "postgres: demand 34+ of 97 available"',
        '    x-axis ["shop/api", "shop/job (unknown)", "shop/worker", "other clients"]',
        '    y-axis "connections" 0 --> 97',
        "    bar [4, 0, 10, 20]",
        "    line [97, 97, 97, 97]",
        "```",
    ]


def test_mermaid_chart_edges() -> None:
    assert mermaid_chart("postgres", 97, []) == []
    chart = mermaid_chart('pg"%%x', None, [('a"b', 300), ("a_b", 5), ("`x`", 1), ("%%c\nd", 2)])
    assert chart == [
        "```mermaid", "xychart-beta",
        '    title "pg___x: demand 308 (available unknown)"',  # no line without a known limit
        '    x-axis ["a_b", "a_b (2)", "_x_", "__c_d"]',  # safe for the lexer, one bar each
        '    y-axis "connections" 0 --> 300',
        "    bar [300, 5, 1, 2]",
        "```",
    ]
    assert mermaid_chart("pg", 0, [("idle", 0)])[4] == '    y-axis "connections" 0 --> 1'


def test_markdown_what_if_section() -> None:
    before, after = finding("SL003", "demand 300 > 97"), finding("SL003", "demand 96 > 87")
    new = finding("SL004", "1 replica", name="web")
    md = render_markdown(plan([numbers()]), [], diff_findings([before], [after, new]))
    assert md.endswith(
        "### What-if\n\n"
        "**Raised** (1)\n\n"
        "- `SL004` `k8s.yaml:3:1`: 1 replica\n\n"
        "**Changed** (1)\n\n"
        "- `SL003` `k8s.yaml:3:1`\n"
        "  - before: demand 300 > 97\n"
        "  - after: demand 96 > 87\n"
    )
    assert render_markdown([], [], ([], [], [])) == (
        "## scalelint plan\n\nNo workloads found: nothing to plan.\n\n### What-if\n\n"
        "No finding raised, cleared or changed.\n")


# --- report --format markdown shares the chart --------------------------------------------------

def _worked_report() -> list[GroupReport]:
    """SPEC §0's example as `report` rows: api 3 × 4 × (15 + 10) = 300, worker 1 × 2 × (5 + 10) = 30."""
    def client(name: str, replicas: int, workers: int, pool: int, overflow: int, conns: int) -> ClientRow:
        return ClientRow(workload=name, kind="service", namespace=None, database="postgres", replicas_min=replicas,
                         replicas_max=replicas, hpa=False, workers=workers, pool=pool, overflow=overflow,
                         connection_limit=None, pool_assumed=name == "worker", per_replica=conns // replicas,
                         connections=conns, largest_replicas=0, location="compose.yaml:2:3")
    d = DatabaseRow(name="postgres", engine="postgresql", max_connections=100,
                    max_connections_source="postgresql default max_connections 100", reserved=3, available=97,
                    demand=330, complete=True, headroom=-233, status="over", location="compose.yaml:16:3",
                    clients=(client("api", 3, 4, 15, 10, 300), client("worker", 1, 2, 5, 10, 30)))
    return [GroupReport("compose.yaml", "compose", [d])]


def test_report_markdown_chart_is_opt_in_and_leaves_the_rest_alone() -> None:
    groups = _worked_report()
    plain = report.render_markdown(groups)
    charted = report.render_markdown(groups, charts=True)
    chart = (
        "```mermaid\n"
        "xychart-beta\n"
        '    title "postgres: demand 330 of 97 available"\n'
        '    x-axis ["api", "worker"]\n'
        '    y-axis "connections" 0 --> 300\n'
        "    bar [300, 30]\n"
        "    line [97, 97]\n"
        "```\n"
    )
    assert charted == plain + "\n" + chart  # after the database's table and a blank line: the only addition
    assert plain.endswith("| `worker` | 1 | 2 | 5 + 10 (assumed) | 30 | 0 |\n")
