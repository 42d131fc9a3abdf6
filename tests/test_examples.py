"""The bundled examples are what the README shows: their findings must stay exactly these."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import ROOT

#: examples/compose-pgbouncer has no finding: PgBouncer keeps the scaled API within the budget
EXPECTED = {
    ("SL003", "examples/compose-scaled/compose.yaml", 18, 3),
    ("SL013", "examples/compose-source/compose.yaml", 18, 3),
    ("SL001", "examples/compose/compose.yaml", 26, 3),
    ("SL003", "examples/compose/compose.yaml", 33, 3),
    ("SL005", "examples/kubernetes/api.yaml", 7, 20),
    ("SL006", "examples/kubernetes/api.yaml", 7, 20),
    ("SL001", "examples/kubernetes/api.yaml", 48, 17),
    ("SL011", "examples/kubernetes/api.yaml", 48, 17),
    ("SL004", "examples/kubernetes/api.yaml", 61, 3),
    ("SL003", "examples/kubernetes/postgres.yaml", 31, 24),
}


def _check(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "FORCE_COLOR")}
    return subprocess.run([sys.executable, "-m", "scalelint", *args], check=False, cwd=ROOT, capture_output=True, text=True,
                          env=env, timeout=120)


def test_examples_findings_are_exact() -> None:
    proc = _check("check", "examples", "--format", "json")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    got = {(f["code"], f["path"], f["line"], f["column"]) for f in doc["findings"]}
    assert got == EXPECTED


def test_worked_example_messages_name_the_numbers() -> None:
    proc = _check("check", "examples/compose", "examples/compose-scaled", "--select", "SL003")
    lines = proc.stdout.splitlines()
    single = next(line for line in lines if line.startswith("examples/compose/compose.yaml:33:3"))
    scaled = next(line for line in lines if line.startswith("examples/compose-scaled/compose.yaml:18:3"))
    assert "demand 100 > 97 available (max_connections 100 − 3 reserved)" in single
    assert "api 1 replica × 4 workers × (15 pool + 10 overflow) = 100" in single
    assert "demand 300 > 97 available" in scaled
    assert "api 3 replicas × 4 workers × (15 pool + 10 overflow) = 300" in scaled
    assert "set DB_POOL_SIZE + DB_MAX_OVERFLOW ≤ 8 per worker" in proc.stdout


def test_kubernetes_example_uses_hpa_max_and_configmap() -> None:
    proc = _check("check", "examples/kubernetes", "--select", "SL003", "--format", "json")
    (finding,) = json.loads(proc.stdout)["findings"]
    assert "api 4 replicas (HPA max) × 6 workers × (10 pool + 5 overflow) = 360" in finding["message"]
    assert "demand 360 > 197 available (max_connections 200 − 3 reserved)" in finding["message"]
    related = {(r["path"], r["line"]) for r in finding["related"]}
    # the worker count and pool sizes were set in the ConfigMap, maxReplicas in the HPA
    assert ("examples/kubernetes/api.yaml", 7) in related
    assert ("examples/kubernetes/api.yaml", 8) in related
    assert ("examples/kubernetes/api.yaml", 9) in related
    assert ("examples/kubernetes/api.yaml", 62) in related  # maxReplicas: 4


def test_report_on_examples() -> None:
    proc = _check("report", "examples")
    assert proc.returncode == 0, proc.stderr
    assert "postgres (postgresql): max_connections 200, reserved 3, available 197, demand 360" in proc.stdout
    row = next(line for line in proc.stdout.splitlines() if line.strip().startswith("shop/api"))
    assert row.split() == ["shop/api", "1–4", "(HPA)", "6", "10", "+", "5", "90", "360", "2"]


def test_pooler_example_report_shows_the_chain() -> None:
    """api → pgbouncer (300 client connections of 2 × 400 accepted) → postgres (2 × 20 = 40, beside the
    worker's direct 20: 60 of 97)."""
    proc = _check("report", "examples/compose-pgbouncer")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[1] == ("postgres (postgresql): max_connections 100 (default), reserved 3, available 97, demand 60, "
                        "headroom 37 [ok]")
    assert lines[5].split() == ["pgbouncer", "2", "(20", "pool", "+", "0", "reserve)", "40", "300", "40"]
    assert lines[6] == ("pooler pgbouncer (pgbouncer, bitnami; settings from env) → postgres: client demand 300 of "
                        "2 replicas × 400 max_client_conn = 800 [ok]")
    assert "pool_mode transaction (examples/compose-pgbouncer/compose.yaml:40:28)" in lines[7]
    assert lines[-1].split() == ["api", "3", "4", "15", "+", "10", "100", "300", "8"]


def test_launch_chain_example_says_where_each_number_came_from() -> None:
    """examples/compose-source: nothing in the compose file says 3 workers or 8 + 2; the Dockerfile's
    CMD, gunicorn.conf.py and shop/db.py do, and the finding lists each of them."""
    proc = _check("check", "examples/compose-source", "--format", "json")
    (finding,) = json.loads(proc.stdout)["findings"]
    assert finding["code"] == "SL013"
    assert "api 3 replicas × 3 workers × (8 pool + 2 overflow) = 90" in finding["message"]
    # under the warning ratio, not just under the limit: 9 workers × 9 = 81 ≤ 0.9 × 97
    assert finding["fix"].startswith("set pool_size + max_overflow ≤ 9 per worker")
    related = {(r["path"], r["line"]) for r in finding["related"]}
    assert ("examples/compose-source/gunicorn.conf.py", 4) in related  # workers = ... "3"
    assert ("examples/compose-source/shop/db.py", 7) in related  # pool_size=8
    assert ("examples/compose-source/shop/db.py", 8) in related  # max_overflow=2


def test_report_says_where_numbers_behind_the_manifest_were_read() -> None:
    proc = _check("report", "examples/compose-source")
    assert proc.returncode == 0, proc.stderr
    assert ("  api: workers ← examples/compose-source/gunicorn.conf.py:4:50 · threads ← "
            "examples/compose-source/Dockerfile:7:7 · per worker ← examples/compose-source/shop/db.py:7:15"
            ) in proc.stdout.splitlines()
    md = _check("report", "--format", "markdown", "examples/compose-source").stdout
    assert "- `api`: workers ← examples/compose-source/gunicorn.conf.py:4:50" in md
    # numbers written in the manifest itself are not repeated
    assert "  api:" not in _check("report", "examples/compose-scaled").stdout


def _readme_block(after: str) -> str:
    """The ```text block that follows the line ``after`` in the README."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("```text\n", text.index(after)) + len("```text\n")
    return text[start:text.index("```", start)].rstrip("\n")


def test_readme_shows_what_the_examples_really_print() -> None:
    """The outputs in the README's "What it says" are the tools' own, not edited by hand."""
    assert _check("check", "examples").stdout.rstrip("\n") == _readme_block("`scalelint check examples/`:")
    assert _check("report", "examples/compose-source", "examples/compose-pgbouncer", "examples/kubernetes"
                  ).stdout.rstrip("\n") == _readme_block(
        "`scalelint report examples/compose-source examples/compose-pgbouncer examples/kubernetes`:")
    assert _check("plan", "examples/compose-source").stdout.rstrip("\n") == _readme_block(
        "`scalelint plan examples/compose-source` — see")
