"""``scalelint plan`` end to end (SPEC §10): the numbers come from the same run as ``check``.

The seed case is ``examples/compose``: 1 replica × 4 workers × (15 + 10) = 100 against 97 available.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ROOT, invoke, write

EXAMPLE = str(ROOT / "examples" / "compose")


def plan_json(*args: str) -> dict:
    code, out, err = invoke("plan", "--isolated", "--format", "json", *args)
    assert code == 0, err
    return json.loads(out)


def row(doc: dict, name: str) -> dict:
    [found] = [w for w in doc["workloads"] if w["workload"] == name]
    return found


def test_seed_case_plans_a_cut() -> None:
    api = row(plan_json(EXAMPLE), "api")
    assert (api["replicas"], api["replicas_min"], api["workers"], api["per_worker"]) == (1, 1, 4, 25)
    assert api["next_step"] == "cut"
    assert api["pool_per_worker_that_fits"] == 24  # 97 // (1 × 4)
    assert api["max_workers"] == {"by_cpu": 5, "by_memory": 4, "by_policy": 8, "by_budget": 3}
    assert api["max_replicas_by_budget"] == 0  # 97 // (4 × 25)
    assert any("100 > 97 available on postgres" in r for r in api["reasons"])


def test_what_if_three_replicas() -> None:
    doc = plan_json(EXAMPLE, "--set", "api.replicas=3")
    api = row(doc, "api")
    assert (api["replicas"], api["pool_per_worker_that_fits"], api["next_step"]) == (3, 8, "cut")  # 97 // 12
    [changed] = doc["changes"]["changed"]
    assert changed["after"]["code"] == "SL003"
    assert "demand 300 > 97 available" in changed["after"]["message"]
    assert "≤ 8 per worker" in changed["after"]["fix"]
    assert [f["code"] for f in doc["findings"] if f["code"] == "SL003"] == ["SL003"]


def test_what_if_that_clears_the_budget() -> None:
    doc = plan_json(EXAMPLE, "--set", "api.pool=20")  # 1 × 4 × 20 = 80 ≤ 97
    [cleared] = doc["changes"]["cleared"]
    assert cleared["code"] == "SL003" and not doc["changes"]["raised"]
    assert row(doc, "api")["next_step"] != "cut"


def test_what_if_raises_a_finding(tmp_path: Path) -> None:
    doc = plan_json(EXAMPLE, "--set", "api.workers=9")  # more than max-workers-per-pod 8
    assert "SL002" in {f["code"] for f in doc["changes"]["raised"]}


@pytest.mark.parametrize("value, message", [
    ("apy.replicas=3", "unknown workload 'apy' (did you mean 'api'?)"),
    ("api.wrkers=3", "unknown field 'wrkers' (did you mean 'workers'?)"),
    ("api.replicas", "--set api.replicas:"),
    ("api.replicas=three", "--set api.replicas=three:"),
    ("api.replicas=-1", "--set api.replicas=-1:"),
])
def test_bad_set_is_a_usage_error(value: str, message: str) -> None:
    code, out, err = invoke("plan", "--isolated", EXAMPLE, "--set", value)
    assert code == 2 and out == ""
    assert err.startswith("scalelint: error: ") and message in err and len(err.strip().splitlines()) == 1


def test_markdown_has_a_chart_per_database() -> None:
    code, out, _ = invoke("plan", "--isolated", "--format", "markdown", EXAMPLE)
    assert code == 0
    assert "```mermaid" in out and "xychart-beta" in out and "| `api` |" in out


def test_report_markdown_has_the_chart_too() -> None:
    code, out, _ = invoke("report", "--isolated", "--format", "markdown", EXAMPLE)
    assert code == 0 and "```mermaid" in out


def test_kubernetes_with_an_hpa_and_the_text_form() -> None:
    code, out, _ = invoke("plan", "--isolated", str(ROOT / "examples" / "kubernetes"))
    assert code == 0
    assert "shop/api" in out and "1–4" in out  # HPA min–max


def test_unknown_workers_are_null_not_made_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"compose.yaml": """\
services:
  api:
    image: acme/api:1
    command: sh -c "exec gunicorn -w $$(nproc) app:app"
    environment:
      DATABASE_URL: postgresql://app@db/app
      DB_POOL_SIZE: "5"
      DB_MAX_OVERFLOW: "10"
    deploy:
      resources:
        limits: {cpus: "2", memory: 2G}
  db:
    image: postgres:16
"""})
    monkeypatch.chdir(tmp_path)
    api = row(plan_json("."), "api")
    assert api["workers"] is None and api["max_replicas_by_budget"] is None
    # the ceilings that do not need the unknown count still answer: 97 // (1 replica × 15 per worker) = 6
    assert api["max_workers"]["by_cpu"] == 5 and api["max_workers"]["by_budget"] == 6
    assert api["reasons"][0].startswith("workers unknown: gunicorn -w $(nproc)")


def test_pooler_shares_count_for_direct_clients_and_the_client_limit_for_pooled_ones() -> None:
    """examples/compose-pgbouncer: pgbouncer opens 2 × 20 = 40 on postgres whatever the worker does;
    the api, behind pgbouncer, meets 2 replicas × 400 max_client_conn = 800 client connections."""
    doc = plan_json(str(ROOT / "examples" / "compose-pgbouncer"))
    worker, api = row(doc, "worker"), row(doc, "api")
    assert worker["pool_per_worker_that_fits"] == (97 - 40) // 2
    assert any("(97 available on postgres − 40 for the other clients)" in r for r in worker["reasons"])
    assert api["max_replicas_by_budget"] == 800 // (4 * 25)
    assert api["max_workers"]["by_budget"] == 800 // (3 * 25)
    assert any("800 available on pgbouncer's client limit" in r for r in api["reasons"])


def test_a_pdb_min_available_sets_the_planned_replica_floor(tmp_path: Path) -> None:
    """minAvailable: 2 needs 3 replicas (SL004 says so too): the plan does not stop at 2."""
    text = (ROOT / "tests/fixtures/SL004/bad/pdb-min-available-2.yaml").read_text()
    write(tmp_path, {"deploy.yaml": text.replace("image: ghcr.io/acme/checkout:3.2.0",
                                                 'image: ghcr.io/acme/checkout:3.2.0\n          command: '
                                                 '["gunicorn", "app:app", "-w", "2"]')})
    doc = plan_json(str(tmp_path))
    checkout = row(doc, "shop/checkout")
    assert checkout["next_step"] == "replicas"
    assert checkout["reasons"][0] == "HA required (PodDisruptionBudget checkout selects it): run 3 replicas, not 2"


def test_set_pool_reaches_a_client_behind_a_pooler() -> None:
    """examples/compose-pgbouncer: api talks to pgbouncer; `--set api.pool=50` is its pool there too
    (3 replicas × 4 workers × 50 = 600 of the 800 client connections: at most 5 workers per pod)."""
    before = row(plan_json(str(ROOT / "examples" / "compose-pgbouncer")), "api")
    after = row(plan_json(str(ROOT / "examples" / "compose-pgbouncer"), "--set", "api.pool=50"), "api")
    assert (before["per_worker"], after["per_worker"]) == (25, 50)
    assert (before["max_workers"]["by_budget"], after["max_workers"]["by_budget"]) == (10, 5)


def test_a_what_if_on_standard_input_reads_it_once() -> None:
    """`plan - --set` lints twice (as written, then as if): both runs see the same standard input."""
    from click.testing import CliRunner

    from scalelint.cli import main

    text = (ROOT / "examples" / "compose" / "compose.yaml").read_text()
    result = CliRunner().invoke(main, ["plan", "--isolated", "--format", "json", "-", "--set", "api.workers=1"],
                                input=text)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert row(doc, "api")["workers"] == 1
    assert [f["code"] for f in doc["changes"]["cleared"]] == ["SL003"]  # 100 > 97 at 4 workers, 25 at 1
