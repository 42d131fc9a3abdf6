"""A third-party plugin: a template and a rules directory registered through entry points, as flake8 does.

The test builds a tiny package in tmp_path, pip-installs it into the running
venv (offline: ``--no-deps --no-build-isolation``), runs ``scalelint`` in a
subprocess, and uninstalls it again. Its rule ships disabled (``enabled:
false``) so that other test runs sharing the venv meanwhile see no extra
findings; the test selects it explicitly.
"""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

DIST = "scalelint-plugin-acme-demo"
MODULE = "acme_scalelint_demo"

PYPROJECT = f"""\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "{DIST}"
version = "0.0.1"

[project.entry-points."scalelint.templates"]
acme-image-tag = "{MODULE}:ImageTag"

[project.entry-points."scalelint.rules"]
acme = "{MODULE}:rules_dir"

[tool.setuptools]
packages = ["{MODULE}"]

[tool.setuptools.package-data]
"{MODULE}" = ["rules/*.yaml"]
"""

MODULE_SOURCE = '''\
"""ACME's checks for scalelint: images must not use a floating tag."""
from __future__ import annotations

import os

from scalelint.templates.base import BoundRule, Context, Template  # the pre-0.2 path: still works


def rules_dir() -> str:
    return os.path.join(os.path.dirname(__file__), "rules")


class ImageTag(Template):
    name = "acme-image-tag"
    description = "container images must not use a floating tag"
    params_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"forbidden": {"type": "array", "items": {"type": "string"}}},
    }
    defaults = {"forbidden": ["latest"]}

    def check(self, ctx: Context, rule: BoundRule):
        for wl in ctx.group.workloads:
            for c in wl.containers:
                tag = (c.image or "").rpartition(":")[2]
                if tag in rule.params["forbidden"]:
                    yield rule.finding(f"container {c.name} uses the floating tag {tag!r}", c.loc, wl.ref,
                                       fix="pin a version or a digest")
'''

RULE = """\
code: ACME100
name: floating-image-tag
template: acme-image-tag
severity: warning
enabled: false
summary: A container image uses a floating tag such as latest.
params:
  forbidden: [latest, stable]
why: The same manifest deploys different code on every pull.
"""

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
      containers:
        - name: api
          image: example/api:stable
"""


def _pip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pip", *args], check=False, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INDEX": "1"})


@pytest.fixture
def plugin(tmp_path: Path) -> Iterator[Path]:
    if importlib.util.find_spec("setuptools") is None:
        pytest.skip("setuptools is not importable: --no-build-isolation cannot build the plugin offline")
    pkg = tmp_path / "plugin"
    (pkg / MODULE / "rules").mkdir(parents=True)
    (pkg / "pyproject.toml").write_text(PYPROJECT)
    (pkg / MODULE / "__init__.py").write_text(MODULE_SOURCE)
    (pkg / MODULE / "rules" / "ACME100.yaml").write_text(RULE)
    proc = _pip("install", "--no-deps", "--no-build-isolation", "-q", str(pkg))
    if proc.returncode != 0:
        pytest.skip(f"pip cannot install the plugin offline: {proc.stderr.strip().splitlines()[-1:]}")
    try:
        yield pkg
    finally:
        _pip("uninstall", "-y", "-q", DIST)


def _scalelint(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "FORCE_COLOR")}
    return subprocess.run([sys.executable, "-m", "scalelint", *args], check=False, capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=120)


def test_plugin_template_and_rules_load_through_entry_points(plugin: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    (work / ".git").mkdir(parents=True)
    (work / "deploy.yaml").write_text(DEPLOYMENT)

    proc = _scalelint("check", "--select", "ACME100", "--format", "json", ".", cwd=work)
    assert proc.returncode == 0, proc.stderr  # a warning
    [finding] = json.loads(proc.stdout)["findings"]
    assert (finding["code"], finding["rule"], finding["line"], finding["column"]) == (
        "ACME100", "floating-image-tag", 9, 17)
    assert finding["message"] == "container api uses the floating tag 'stable'"

    rules = _scalelint("rules", cwd=work)
    assert "ACME100  floating-image-tag" in rules.stdout and " off " in rules.stdout.split("ACME100")[1]

    # config params reach the plugin's template, validated against its params_schema
    (work / ".scalelint.yaml").write_text("extend-select: [ACME100]\nrules:\n  ACME100: {forbidden: [latest]}\n")
    assert json.loads(_scalelint("check", "--format", "json", "--select", "ACME100", cwd=work).stdout)["findings"] == []
    (work / ".scalelint.yaml").write_text("rules:\n  ACME100: {forbiden: [latest]}\n")
    bad = _scalelint("check", cwd=work)
    assert bad.returncode == 2
    assert bad.stderr == ("scalelint: error: .scalelint.yaml:2:13: rules.ACME100.forbiden: unknown key "
                          "(did you mean 'forbidden'?)\n")

    # a user's rules-dir reuses the plugin's template with other params
    (work / ".scalelint.yaml").unlink()
    (work / "policies").mkdir()
    (work / "policies" / "own.yaml").write_text(
        "code: OWN001\nname: no-stable\ntemplate: acme-image-tag\nsummary: s\nparams: {forbidden: [stable]}\n")
    own = _scalelint("check", "--rules-dir", "policies", "--select", "OWN001", "--format", "json", "deploy.yaml",
                     cwd=work)
    assert own.returncode == 1 and json.loads(own.stdout)["findings"][0]["code"] == "OWN001"

    explain = _scalelint("explain", "floating-image-tag", cwd=work)
    assert explain.returncode == 0 and "The same manifest deploys different code" in explain.stdout
