"""The GitHub Action (``action.yml``, SPEC §7), run the way a runner runs a composite action.

Each step's ``run`` script goes through ``bash --noprofile --norc -eo pipefail``
(what ``shell: bash`` means on a runner) with ``GITHUB_ACTIONS=true``, a
temporary ``GITHUB_STEP_SUMMARY`` and ``GITHUB_OUTPUT``, ``GITHUB_ACTION_PATH``
at the repository root, and the step's ``env:`` with its ``${{ }}`` expressions
filled in from the inputs (defaults overridden per test), ``github.action_path``
and earlier steps' outputs. The install step runs against a stand-in ``python``
that records its arguments: scalelint is already installed in the test
environment, and a test must not reach a package index.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
ACTION = ROOT / "action.yml"
EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")

BAD = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 2
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      containers:
        - name: api
          image: registry.example.com/api:1.4.2
          command: ["gunicorn", "-w", "4", "app:app"]
"""

GOOD = BAD + """\
          resources:
            requests: {cpu: "2", memory: 2Gi}
            limits: {cpu: "2", memory: 2Gi}
"""

# 4 workers on 1 CPU: only SL005 workers-exceed-cpu (a warning)
WARN_ONLY = BAD + """\
          resources:
            requests: {cpu: "1", memory: 2Gi}
            limits: {cpu: "1", memory: 2Gi}
"""


def action() -> dict[str, Any]:
    with open(ACTION, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    assert isinstance(data, dict)
    return data


@dataclass
class Outcome:
    exit_code: int
    stdout: str
    summary: str
    pip_calls: list[str] = field(default_factory=list)
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)


def _evaluate(text: str, inputs: dict[str, str], outputs: dict[str, dict[str, str]]) -> str:
    """Fill in the few expressions the action may use; any other one fails the test."""

    def value(m: re.Match[str]) -> str:
        expr = m.group(1)
        if expr.startswith("inputs."):
            return inputs[expr[len("inputs."):]]
        if expr == "github.action_path":
            return str(ROOT)
        step = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expr)
        if step:
            return outputs.get(step.group(1), {}).get(step.group(2), "")
        raise AssertionError(f"action.yml uses an expression this test does not model: {expr}")

    return EXPR.sub(value, text)


def _fake_python(bin_dir: Path, log: Path) -> None:
    """A ``python`` that records ``-m pip install ...`` instead of installing anything."""
    bin_dir.mkdir()
    script = bin_dir / "python"
    script.write_text(f'#!/bin/sh\necho "$*" >>"{log}"\n', encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def run_action(workdir: Path, *, extra_bin: Path | None = None, **given: str) -> Outcome:
    """Run every step of the action in ``workdir``, stopping at the first failing step.

    ``extra_bin`` goes first on ``PATH``: a stand-in ``scalelint`` there replaces the real one.
    """
    spec = action()
    inputs = {name: str(meta.get("default", "")) for name, meta in spec["inputs"].items()}
    for key, val in given.items():
        name = key.replace("_", "-")
        assert name in inputs, f"unknown input {name}"
        inputs[name] = val
    scratch = Path(tempfile.mkdtemp(prefix="runner-", dir=workdir.parent))
    summary = scratch / "step_summary.md"
    summary.write_text("", encoding="utf-8")
    pip_log = scratch / "pip.log"
    pip_log.write_text("", encoding="utf-8")
    _fake_python(scratch / "bin", pip_log)
    scalelint_bin = os.path.dirname(sys.executable)  # the test environment's console scripts
    base_env = {
        **os.environ,
        "PATH": os.pathsep.join([*([str(extra_bin)] if extra_bin else []), str(scratch / "bin"), scalelint_bin,
                                 os.environ.get("PATH", "")]),
        "GITHUB_ACTIONS": "true",
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_ACTION_PATH": str(ROOT),
        "GITHUB_WORKSPACE": str(workdir),
        "NO_COLOR": "1",
    }
    base_env.pop("FORCE_COLOR", None)
    outputs: dict[str, dict[str, str]] = {}
    stdout = []
    code = 0
    for index, step in enumerate(spec["runs"]["steps"]):
        assert step.get("shell") == "bash"
        script = scratch / f"step{index}.sh"
        script.write_text(step["run"], encoding="utf-8")
        out_file = scratch / f"output{index}"
        out_file.write_text("", encoding="utf-8")
        env = {**base_env, "GITHUB_OUTPUT": str(out_file)}
        env.update({k: _evaluate(str(v), inputs, outputs) for k, v in (step.get("env") or {}).items()})
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], check=False,
                              cwd=workdir, env=env, capture_output=True, text=True, timeout=120)
        stdout.append(proc.stdout)
        if "id" in step:
            pairs = (line.split("=", 1) for line in out_file.read_text(encoding="utf-8").splitlines() if "=" in line)
            outputs[step["id"]] = dict(pairs)
        code = proc.returncode
        if code != 0:
            break
    return Outcome(code, "".join(stdout), summary.read_text(encoding="utf-8"),
                   pip_log.read_text(encoding="utf-8").splitlines(), outputs)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    work = tmp_path / "repo"
    work.mkdir()
    return work


def write(repo: Path, name: str, text: str) -> Path:
    path = repo / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --- the file itself ---------------------------------------------------------------------------


def test_action_is_composite_with_the_documented_inputs() -> None:
    spec = action()
    assert spec["runs"]["using"] == "composite"
    assert {"paths", "config", "fail-on", "sarif-file", "version", "plan-summary"} <= set(spec["inputs"])
    assert spec["inputs"]["paths"]["default"] == "."
    assert spec["inputs"]["fail-on"]["default"] == "error"
    assert spec["inputs"]["sarif-file"]["default"] == ""
    assert spec["inputs"]["plan-summary"]["default"] == "false"
    assert all(meta.get("description") for meta in spec["inputs"].values())
    assert "exit-code" in spec["outputs"]


def test_inputs_reach_scripts_only_through_env() -> None:
    """``${{ inputs.x }}`` inside ``run:`` is pasted into the script before bash sees it: injection."""
    for step in action()["runs"]["steps"]:
        assert "${{" not in step["run"], step.get("name")
        assert step.get("shell") == "bash"


# --- running it --------------------------------------------------------------------------------


def test_bad_manifest_fails_with_annotations_summary_and_sarif(repo: Path) -> None:
    write(repo, "k8s/deploy.yaml", BAD)
    out = run_action(repo, paths="k8s", sarif_file="results/scalelint.sarif")
    assert out.exit_code == 1
    assert out.outputs["check"]["exit-code"] == "1"
    assert re.search(r"^::error file=k8s/deploy\.yaml,line=\d+,col=\d+,title=SL001 ", out.stdout, re.MULTILINE)
    assert out.summary.startswith("## scalelint capacity report")
    sarif = json.loads((repo / "results" / "scalelint.sarif").read_text(encoding="utf-8"))
    assert sarif["version"] == "2.1.0"
    assert "SL001" in {r["ruleId"] for r in sarif["runs"][0]["results"]}


def test_good_manifest_passes(repo: Path) -> None:
    write(repo, "k8s/deploy.yaml", GOOD)
    out = run_action(repo, paths="k8s", sarif_file="scalelint.sarif")
    assert out.exit_code == 0
    assert "::error" not in out.stdout
    assert "## scalelint capacity report" in out.summary
    sarif = json.loads((repo / "scalelint.sarif").read_text(encoding="utf-8"))
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"] == []


def test_without_sarif_file_only_annotations(repo: Path) -> None:
    write(repo, "deploy.yaml", BAD)
    out = run_action(repo)  # paths "." by default
    assert out.exit_code == 1
    assert "::error file=deploy.yaml," in out.stdout
    assert not list(repo.glob("*.sarif"))


def test_fail_on_lowers_the_threshold(repo: Path) -> None:
    write(repo, "deploy.yaml", WARN_ONLY)
    assert run_action(repo, paths="deploy.yaml").exit_code == 0
    lowered = run_action(repo, paths="deploy.yaml", fail_on="warning")
    assert lowered.exit_code == 1
    assert "::warning file=deploy.yaml," in lowered.stdout


def test_config_input_is_used(repo: Path) -> None:
    write(repo, "deploy.yaml", BAD)
    write(repo, "ci/scalelint.yaml", "ignore: [SL001, SL011]\n")
    out = run_action(repo, paths="deploy.yaml", config="ci/scalelint.yaml")
    assert out.exit_code == 0, out.stdout
    assert "## scalelint capacity report" in out.summary


def test_several_paths_on_separate_lines(repo: Path) -> None:
    write(repo, "a/deploy.yaml", GOOD)
    write(repo, "b/deploy.yaml", BAD)
    out = run_action(repo, paths="a\nb\n")
    assert out.exit_code == 1
    assert "file=b/deploy.yaml" in out.stdout and "file=a/deploy.yaml" not in out.stdout


def test_install_step_installs_the_action_checkout_or_the_given_version(repo: Path) -> None:
    write(repo, "deploy.yaml", GOOD)
    out = run_action(repo)
    assert out.pip_calls == [f"-m pip install --disable-pip-version-check {ROOT}"]
    pinned = run_action(repo, version="scalelint==0.1.0")
    assert pinned.pip_calls == ["-m pip install --disable-pip-version-check scalelint==0.1.0"]


def test_a_usage_error_fails_the_action_with_exit_2(repo: Path) -> None:
    write(repo, "deploy.yaml", GOOD)
    out = run_action(repo, config="no-such-config.yaml")
    assert out.exit_code == 2
    assert out.outputs["check"]["exit-code"] == "2"


# --- the scaling plan in the job summary (input plan-summary) -------------------------------------

PLAN_HEADING = "## scalelint plan"


def _failing_plan(tmp_path: Path) -> Path:
    """A ``scalelint`` that fails ``plan`` after printing half a plan, and runs the real one otherwise."""
    bin_dir = tmp_path / "failing-plan-bin"
    bin_dir.mkdir()
    real = Path(sys.executable).with_name("scalelint")
    script = bin_dir / "scalelint"
    script.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = plan ]; then echo "## scalelint plan"; echo "half a tab" ; echo "plan broke" >&2; exit 3; fi\n'
        f'exec "{real}" "$@"\n', encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return bin_dir


@pytest.mark.parametrize("value", [None, "false", ""])
def test_plan_summary_is_off_unless_asked(repo: Path, value: str | None) -> None:
    write(repo, "k8s/deploy.yaml", BAD)
    out = run_action(repo, paths="k8s") if value is None else run_action(repo, paths="k8s", plan_summary=value)
    assert out.exit_code == 1
    assert out.summary.startswith("## scalelint capacity report")
    assert PLAN_HEADING not in out.summary
    assert "plan-summary" not in out.stdout


def test_plan_summary_appends_the_plan_after_the_report(repo: Path) -> None:
    write(repo, "k8s/deploy.yaml", GOOD)
    plain = run_action(repo, paths="k8s")
    out = run_action(repo, paths="k8s", plan_summary="true")
    assert out.exit_code == 0 and out.outputs["check"]["exit-code"] == "0"
    assert "::warning" not in out.stdout
    assert out.summary.startswith(plain.summary)  # the report as before, then the plan
    plan = out.summary[len(plain.summary):]
    assert plan.lstrip("\n").startswith(PLAN_HEADING + "\n")
    assert "`default/api`" in plan
    assert plan.endswith("\n")


def test_plan_summary_uses_the_config(repo: Path) -> None:
    write(repo, "deploy.yaml", GOOD)
    write(repo, "ci/scalelint.yaml", "max-workers-per-pod: 6\n")
    out = run_action(repo, paths="deploy.yaml", config="ci/scalelint.yaml", plan_summary="true")
    assert out.exit_code == 0, out.stdout
    assert PLAN_HEADING in out.summary
    assert "max-workers-per-pod is 6" in out.summary  # not the default 8


@pytest.mark.parametrize(("manifest", "code"), [(GOOD, 0), (BAD, 1)])
def test_a_failing_plan_is_a_warning_and_changes_nothing_else(tmp_path: Path, repo: Path, manifest: str,
                                                             code: int) -> None:
    write(repo, "k8s/deploy.yaml", manifest)
    plain = run_action(repo, paths="k8s")
    out = run_action(repo, extra_bin=_failing_plan(tmp_path), paths="k8s", plan_summary="true")
    assert out.exit_code == plain.exit_code == code
    assert out.outputs["check"] == plain.outputs["check"] == {"exit-code": str(code)}
    assert re.search(r"^::warning title=scalelint::the scaling plan could not be written", out.stdout, re.MULTILINE)
    assert out.summary == plain.summary  # the report only: no half-written plan
    assert PLAN_HEADING not in out.summary


def test_a_plan_that_cannot_be_appended_is_a_warning(repo: Path) -> None:
    """The summary file vanishing under the step (an unwritable summary) still leaves the check's result."""
    write(repo, "k8s/deploy.yaml", BAD)
    spec = action()
    step = next(s for s in spec["runs"]["steps"] if "plan" in s["name"].lower())
    env = {k: _evaluate(str(v), {"paths": "k8s", "config": "", "plan-summary": "true"}, {})
           for k, v in step["env"].items()}
    missing = repo.parent / "no-such-dir" / "summary.md"
    proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], check=False,
                          cwd=repo, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PATH": os.pathsep.join([os.path.dirname(sys.executable),
                                                                     os.environ.get("PATH", "")]),
                               "GITHUB_STEP_SUMMARY": str(missing), **env})
    assert proc.returncode == 0, proc.stderr
    assert "::warning title=scalelint::the scaling plan could not be written" in proc.stdout


def test_an_unknown_plan_summary_value_is_a_warning(repo: Path) -> None:
    write(repo, "k8s/deploy.yaml", GOOD)
    out = run_action(repo, paths="k8s", plan_summary="yes")
    assert out.exit_code == 0
    assert "::warning title=scalelint::plan-summary must be" in out.stdout
    assert PLAN_HEADING not in out.summary
