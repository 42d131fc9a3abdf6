"""The CLI contract of SPEC §5: formats, exit codes, stdin, selection."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from scalelint import lint
from scalelint.cli import main

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: web
          image: nginx:1.27
"""
GOOD = DEPLOYMENT + """\
          resources:
            requests: {cpu: 100m, memory: 64Mi}
            limits: {cpu: 200m, memory: 128Mi}
"""


def run_cli(*args: str, input: str | None = None, cwd: Path | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "FORCE_COLOR", "NO_COLOR")}
    base.update(env or {})
    return subprocess.run([sys.executable, "-m", "scalelint", *args], check=False, input=input, capture_output=True, text=True,
                          cwd=cwd, env=base, timeout=120)


@pytest.fixture
def bad(tmp_path: Path) -> Path:
    path = tmp_path / "deploy.yaml"
    path.write_text(DEPLOYMENT)
    return path


def test_exit_1_and_text_format(bad: Path) -> None:
    proc = run_cli("check", str(bad))
    assert proc.returncode == 1
    first = proc.stdout.splitlines()[0]
    assert first == (f"{bad}:9:17: SL001 [error] container web of Deployment web sets no memory and CPU limits: "
                     "one leak can take all of the node's memory and get other pods evicted "
                     "(Deployment default/web)")
    assert proc.stderr.strip().endswith("in 1 file (1 object)")
    assert "scalelint: 2 findings (1 error, 1 warning)" in proc.stderr


def test_exit_0_when_clean(tmp_path: Path) -> None:
    (tmp_path / "deploy.yaml").write_text(GOOD)
    proc = run_cli("check", str(tmp_path))
    assert proc.returncode == 0, proc.stdout
    assert proc.stdout == ""
    assert "no findings" in proc.stderr


def test_fail_on_warning(tmp_path: Path) -> None:
    (tmp_path / "deploy.yaml").write_text(DEPLOYMENT)
    assert run_cli("check", str(tmp_path), "--select", "SL011").returncode == 0
    assert run_cli("check", str(tmp_path), "--select", "SL011", "--fail-on", "warning").returncode == 1


def test_exit_2_for_usage_errors(bad: Path) -> None:
    proc = run_cli("check", str(bad), "--select", "SL999")
    assert proc.returncode == 2
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("scalelint: error: ") and "unknown rule 'SL999'" in line
    assert run_cli("check", "--format", "xml").returncode == 2
    assert "Traceback" not in proc.stderr


def test_select_and_ignore_by_name(bad: Path) -> None:
    only = run_cli("check", str(bad), "--select", "missing-resource-requests", "--format", "json")
    assert {f["code"] for f in json.loads(only.stdout)["findings"]} == {"SL011"}
    rest = run_cli("check", str(bad), "--ignore", "SL001,missing-resource-requests", "--format", "json")
    assert json.loads(rest.stdout)["findings"] == []


def test_json_shape(bad: Path) -> None:
    proc = run_cli("check", str(bad), "--format", "json")
    doc = json.loads(proc.stdout)
    assert set(doc) == {"version", "tool", "findings", "notices", "summary"}
    assert doc["version"] == 1 and doc["tool"]["name"] == "scalelint"
    assert set(doc["summary"]) == {"files", "objects", "findings", "by_severity"}
    assert doc["summary"]["by_severity"] == {"error": 1, "warning": 1, "info": 0}
    f = doc["findings"][0]
    assert list(f) == ["code", "rule", "severity", "message", "path", "line", "column", "object", "related", "fix"]
    assert f["object"] == {"kind": "Deployment", "name": "web", "namespace": "default"}
    assert f["path"] == str(bad)


def test_relative_paths_stay_relative(bad: Path) -> None:
    proc = run_cli("check", "deploy.yaml", "--format", "json", cwd=bad.parent)
    assert {f["path"] for f in json.loads(proc.stdout)["findings"]} == {"deploy.yaml"}


def test_stdin() -> None:
    proc = run_cli("check", "-", "--format", "json", input=DEPLOYMENT)
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    assert {(f["path"], f["line"], f["column"]) for f in doc["findings"]} == {("-", 9, 17)}


def test_invalid_file_is_sl000_and_others_still_linted(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: [\n")
    (tmp_path / "b.yaml").write_text(DEPLOYMENT)
    proc = run_cli("check", str(tmp_path), "--format", "json")
    assert proc.returncode == 1
    codes = {(f["code"], Path(f["path"]).name) for f in json.loads(proc.stdout)["findings"]}
    assert ("SL000", "a.yaml") in codes and ("SL001", "b.yaml") in codes


def test_color_is_opt_in(bad: Path) -> None:
    assert "\x1b[" not in run_cli("check", str(bad)).stdout
    assert "\x1b[" in run_cli("check", str(bad), env={"FORCE_COLOR": "1"}).stdout
    assert "\x1b[" not in run_cli("check", str(bad), env={"FORCE_COLOR": "1", "NO_COLOR": "1"}).stdout


def test_github_format_chosen_on_actions(bad: Path) -> None:
    proc = run_cli("check", str(bad), env={"GITHUB_ACTIONS": "true"})
    assert proc.stdout.startswith(f"::error file={bad},line=9,col=17,title=SL001 missing-resource-limits::")


def test_rules_lists_every_rule() -> None:
    result = CliRunner().invoke(main, ["rules"])
    assert result.exit_code == 0
    codes = [line.split()[0] for line in result.output.splitlines()]
    assert codes == sorted(codes) and {"SL000", "SL001", "SL002", "SL003", "SL004"} <= set(codes)
    assert "SL001  missing-resource-limits" in result.output


def test_python_api(bad: Path) -> None:
    result = lint([str(bad)])
    assert [f.code for f in result.findings] == ["SL001", "SL011"]
    assert result.findings[0].line == 9


def test_explicit_non_manifest_gets_a_notice(tmp_path: Path) -> None:
    other = tmp_path / "ci.yaml"
    other.write_text("on: push\njobs: {}\n")
    proc = run_cli("check", str(other))
    assert proc.returncode == 0
    assert "not a compose file or Kubernetes manifest" in proc.stderr
    # met while walking a directory, the same file is ignored silently
    assert "not a compose file" not in run_cli("check", str(tmp_path)).stderr


def test_helm_template_notice(tmp_path: Path) -> None:
    (tmp_path / "deploy.yaml").write_text("apiVersion: apps/v1\nkind: Deployment\n{{- if .Values.x }}\n{{- end }}\n")
    proc = run_cli("check", str(tmp_path))
    assert proc.returncode == 0
    assert "deploy.yaml:3:1: notice: looks like a Helm template: render it first" in proc.stderr
