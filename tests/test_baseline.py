"""Baselines (SPEC §4) and ``--output`` (machine format to a file, text to the terminal)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import invoke as cli

from scalelint.findings import Finding, ObjectRef, Severity
from scalelint.output.baseline import Baseline, new_findings, render

TWO_CONTAINERS = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
      containers:
        - name: api
          image: example/api:1.0
        - name: sidecar
          image: example/sidecar:1.0
"""
THIRD = """\
        - name: metrics
          image: example/metrics:1.0
"""


def test_write_baseline_is_sorted_versioned_and_deterministic(repo: Path) -> None:
    (repo / "deploy.yaml").write_text(TWO_CONTAINERS)
    code, out, err = cli("check", "--select", "SL001", "--write-baseline", "baseline.json")
    assert code == 0 and out == ""
    assert err.strip() == "scalelint: recorded 2 findings in baseline.json"
    first = (repo / "baseline.json").read_bytes()
    doc = json.loads(first)
    assert doc["version"] == 1 and list(doc) == ["version", "tool", "findings"]
    assert [(e["code"], e["path"], e["object"]["name"]) for e in doc["findings"]] == [
        ("SL001", "deploy.yaml", "api"), ("SL001", "deploy.yaml", "api")]
    assert "line" not in doc["findings"][0] and "column" not in doc["findings"][0]
    assert [e["message"] for e in doc["findings"]] == sorted(e["message"] for e in doc["findings"])
    cli("check", "--select", "SL001", "--write-baseline", "baseline.json")
    assert (repo / "baseline.json").read_bytes() == first


def test_baseline_hides_known_findings_and_survives_line_shifts(repo: Path) -> None:
    deploy = repo / "deploy.yaml"
    deploy.write_text(TWO_CONTAINERS)
    cli("check", "--write-baseline", "baseline.json")
    code, out, err = cli("check", "--baseline", "baseline.json")
    assert code == 0 and out == ""
    assert "known findings in the baseline not shown" in err
    deploy.write_text("# owned by the platform team\n# see RUNBOOK.md\n\n" + TWO_CONTAINERS)
    code, out, _ = cli("check", "--baseline", "baseline.json")
    assert code == 0 and out == ""


def test_count_aware_match_reports_the_extra_one(repo: Path) -> None:
    deploy = repo / "deploy.yaml"
    deploy.write_text(TWO_CONTAINERS)
    cli("check", "--select", "SL001", "--write-baseline", "baseline.json")
    deploy.write_text("# moved down\n" + TWO_CONTAINERS + THIRD)
    code, out, _ = cli("check", "--select", "SL001", "--baseline", "baseline.json", "--format", "json")
    assert code == 1
    doc = json.loads(out)
    assert [(f["code"], f["line"], f["message"].split()[1]) for f in doc["findings"]] == [("SL001", 14, "metrics")]
    assert doc["notices"] == [{"path": "baseline.json", "line": 0, "column": 0,
                               "message": "2 known findings in the baseline not shown"}]


def test_new_findings_prefers_exact_messages() -> None:
    def f(msg: str) -> Finding:
        return Finding("SL001", "missing-resource-limits", Severity.ERROR, msg, "a.yaml", 1, 1,
                       ObjectRef("Deployment", "api", "default"))
    base = Baseline("baseline.json", {("SL001", "a.yaml", "Deployment", "default", "api"): ["one", "three"]})
    kept, absorbed = new_findings([f("one"), f("two"), f("three")], base)
    assert [k.message for k in kept] == ["two"] and absorbed == 2
    kept, absorbed = new_findings([f("changed"), f("two"), f("three")], base)
    assert len(kept) == 1 and absorbed == 2  # one entry per key still absorbs a finding whose message changed


def test_other_object_or_rule_or_file_is_new(repo: Path) -> None:
    (repo / "deploy.yaml").write_text(TWO_CONTAINERS)
    cli("check", "--select", "SL001", "--write-baseline", "baseline.json")
    (repo / "deploy.yaml").write_text(TWO_CONTAINERS.replace("name: api\nspec", "name: api-v2\nspec"))
    (repo / "copy.yaml").write_text(TWO_CONTAINERS.replace("name: api\nspec", "name: other\nspec"))
    code, out, _ = cli("check", "--baseline", "baseline.json", "--format", "json")
    doc = json.loads(out)
    assert code == 1
    assert {(f["code"], f["path"], f["object"]["name"]) for f in doc["findings"]} == {
        ("SL001", "copy.yaml", "other"), ("SL011", "copy.yaml", "other"),
        ("SL001", "deploy.yaml", "api-v2"), ("SL011", "deploy.yaml", "api-v2")}


def test_paths_are_relative_to_the_baseline_file(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / "deploy").mkdir()
    (repo / "deploy" / "api.yaml").write_text(TWO_CONTAINERS)
    cli("check", "deploy", "--write-baseline", "baseline.json")
    assert {e["path"] for e in json.loads((repo / "baseline.json").read_text())["findings"]} == {"deploy/api.yaml"}
    monkeypatch.chdir(repo / "deploy")
    assert cli("check", ".", "--baseline", "../baseline.json")[:2] == (0, "")
    assert cli("check", str(repo / "deploy" / "api.yaml"), "--baseline", str(repo / "baseline.json"))[:2] == (0, "")


@pytest.mark.parametrize("content, expected", [
    (None, "nope.json: baseline file not found (create it with --write-baseline)"),
    ("{", "nope.json: not a scalelint baseline: invalid JSON"),
    ("[]", "nope.json: not a scalelint baseline: expected an object with \"version\" and \"findings\""),
    ('{"version": 9, "findings": []}', "nope.json: unsupported baseline version 9 (expected 1)"),
    ('{"version": 1, "findings": [{"code": 1}]}', "nope.json: not a scalelint baseline: findings[0] needs"),
])
def test_bad_baseline_is_exit_2_one_line(repo: Path, content: str | None, expected: str) -> None:
    if content is not None:
        (repo / "nope.json").write_text(content)
    code, out, err = cli("check", "--baseline", "nope.json")
    assert code == 2 and out == ""
    assert err.startswith("scalelint: error: " + expected) and len(err.strip().splitlines()) == 1


def test_unwritable_baseline_is_exit_2(repo: Path) -> None:
    code, _, err = cli("check", "--write-baseline", str(repo / "missing-dir" / "b.json"))
    assert code == 2 and "cannot write baseline" in err


def test_render_is_deterministic_for_any_order() -> None:
    items = [Finding("SL001", "r", Severity.ERROR, m, p, n, 1, ObjectRef("service", o)) for m, p, n, o in
             [("b", "x/compose.yaml", 3, "web"), ("a", "x/compose.yaml", 9, "web"), ("c", "a.yaml", 1, "api")]]
    assert render(items, "b.json") == render(list(reversed(items)), "b.json")


def test_baseline_in_a_real_process(repo: Path) -> None:
    (repo / "deploy.yaml").write_text(TWO_CONTAINERS)
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "FORCE_COLOR")}
    run = [sys.executable, "-m", "scalelint", "check"]
    assert subprocess.run(run + ["--write-baseline", "b.json"], check=False, cwd=repo, env=env, timeout=120).returncode == 0
    assert subprocess.run(run + ["--baseline", "b.json"], check=False, cwd=repo, env=env, timeout=120,
                          capture_output=True).returncode == 0
    (repo / "deploy.yaml").write_text(TWO_CONTAINERS + THIRD)
    proc = subprocess.run(run + ["--baseline", "b.json"], check=False, cwd=repo, env=env, timeout=120, capture_output=True,
                          text=True)
    assert proc.returncode == 1 and "metrics" in proc.stdout


# --------------------------------------------------------------------------- --output


def test_output_writes_the_format_to_the_file_and_text_to_the_terminal(repo: Path) -> None:
    (repo / "deploy.yaml").write_text(TWO_CONTAINERS)
    code, out, err = cli("check", "--select", "SL001", "--format", "sarif", "--output", "out.sarif")
    assert code == 1
    assert out.startswith("deploy.yaml:9:17: SL001 [error]")  # text on the terminal
    assert "scalelint: 2 findings" in err
    sarif = json.loads((repo / "out.sarif").read_text())
    assert sarif["version"] == "2.1.0" and len(sarif["runs"][0]["results"]) == 2


def test_output_defaults_to_json(repo: Path) -> None:
    (repo / "deploy.yaml").write_text(TWO_CONTAINERS)
    code, out, _ = cli("check", "--select", "SL001", "-o", "out.json")
    assert code == 1 and "SL001 [error]" in out
    doc = json.loads((repo / "out.json").read_text())
    assert doc["summary"]["findings"] == 2 and doc["findings"][0]["path"] == "deploy.yaml"


def test_output_with_baseline_holds_only_new_findings(repo: Path) -> None:
    (repo / "deploy.yaml").write_text(TWO_CONTAINERS)
    cli("check", "--write-baseline", "b.json")
    code, out, _ = cli("check", "--baseline", "b.json", "-o", "out.json")
    assert code == 0 and out == ""
    assert json.loads((repo / "out.json").read_text())["findings"] == []


def test_output_in_github_actions_keeps_annotations_on_the_terminal(repo: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    (repo / "deploy.yaml").write_text(TWO_CONTAINERS)
    code, out, _ = cli("check", "--select", "SL001", "--format", "sarif", "-o", "out.sarif")
    assert code == 1 and out.startswith("::error file=deploy.yaml,line=9,")
    assert json.loads((repo / "out.sarif").read_text())["version"] == "2.1.0"


def test_unwritable_output_is_exit_2(repo: Path) -> None:
    (repo / "deploy.yaml").write_text(TWO_CONTAINERS)
    code, _, err = cli("check", "-o", str(repo / "missing-dir" / "out.json"))
    assert code == 2 and err.startswith("scalelint: error: ") and len(err.strip().splitlines()) == 1
