"""``scalelint explain`` and the README's generated rule table."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT

from scalelint.cli import main
from scalelint.output.docs import TABLE_END, TABLE_START, builtin_rules, readme_table, replace_table


def explain(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["explain", *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_explain_by_code_prints_every_section(repo: Path) -> None:
    code, out, _ = explain("SL001")
    assert code == 0
    assert out.startswith("# SL001 missing-resource-limits\n\nA container without a CPU or memory limit.\n")
    for heading in ("## What it does", "## Why is this bad", "## Example", "Use instead:", "## How to fix",
                    "## Params"):
        assert heading in out
    assert "Severity: error · on in this configuration" in out
    assert "- `require`: `[\"memory\", \"cpu\"]`" in out
    assert "- `section`: `\"limits\"` — one of limits, requests" in out
    assert "image: example/api:1.4" in out  # the bad and good examples
    assert "Documentation: https://" in out


def test_explain_by_name_equals_by_code(repo: Path) -> None:
    assert explain("missing-resource-limits")[1] == explain("sl001")[1]


def test_explain_shows_configured_values(repo: Path) -> None:
    (repo / ".scalelint.yaml").write_text("ignore: [SL001]\nrules:\n  SL001: {require: [memory]}\n")
    out = explain("SL001")[1]
    assert "- `require`: `[\"memory\"]` — from .scalelint.yaml" in out
    assert "off in this configuration" in out


def test_explain_internal_rule_has_no_params(repo: Path) -> None:
    code, out, _ = explain("SL000")
    assert code == 0 and "## Params" not in out and "template: internal" in out


def test_explain_custom_rule(repo: Path) -> None:
    (repo / "policies").mkdir()
    (repo / "policies" / "r.yaml").write_text(
        "code: ACME001\nname: prod-replicas\ntemplate: json-schema\nsummary: Prod runs three replicas.\n"
        "why: One pod is one outage.\nparams:\n  scope: {kinds: [Deployment]}\n  schema: {required: [spec]}\n")
    code, out, _ = explain("--rules-dir", "policies", "prod-replicas")
    assert code == 0
    assert out.startswith("# ACME001 prod-replicas\n")
    assert "One pod is one outage." in out
    assert '- `scope`: `{"kinds": ["Deployment"]}`' in out
    assert "Source: policies/r.yaml" in out


@pytest.mark.parametrize("name, hint", [
    ("SL0011", " (did you mean 'SL011'?)"),
    ("missing-resource-limit", " (did you mean 'missing-resource-limits'?)"),
    ("zzz", ""),
])
def test_unknown_rule_is_exit_2_with_did_you_mean(repo: Path, name: str, hint: str) -> None:
    code, out, err = explain(name)
    assert code == 2 and out == ""
    assert err == f"scalelint: error: unknown rule {name!r}{hint} (see `scalelint rules`)\n"


def test_every_builtin_rule_is_explained_with_its_examples(repo: Path) -> None:
    for rule in builtin_rules():
        code, out, _ = explain(rule.code)
        assert code == 0, rule.code
        assert rule.summary.strip() in out
        if rule.example_bad:
            assert rule.example_bad.rstrip("\n") in out


# --------------------------------------------------------------------------- README table


def test_readme_table_lists_every_builtin_rule() -> None:
    table = readme_table()
    lines = table.strip().splitlines()
    assert lines[0] == "| Code | Name | Severity | Default | What it reports |"
    assert len(lines) == 2 + len(list((ROOT / "rules").glob("*.yaml")))
    assert "| [SL001](rules/SL001.yaml) | `missing-resource-limits` | error | on |" in table


def test_readme_table_module_entry_point() -> None:
    proc = subprocess.run([sys.executable, "-m", "scalelint.output.docs", "--readme-table"], check=False, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0 and proc.stdout == readme_table()


def test_update_readme(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n{TABLE_START}\nold\n{TABLE_END}\n\nmore\n")
    proc = subprocess.run([sys.executable, "-m", "scalelint.output.docs", "--update-readme", str(readme)],
                          check=False, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0
    assert readme.read_text() == f"# x\n\n{TABLE_START}\n{readme_table()}{TABLE_END}\n\nmore\n"
    readme.write_text("no markers\n")
    proc = subprocess.run([sys.executable, "-m", "scalelint.output.docs", "--update-readme", str(readme)],
                          check=False, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "markers" in proc.stderr


def test_readme_rule_table_is_current() -> None:
    readme = ROOT / "README.md"
    if not readme.exists():
        pytest.skip("README.md not written yet")
    text = readme.read_text(encoding="utf-8")
    if TABLE_START not in text or TABLE_END not in text:
        pytest.skip("README.md has no rules-table markers yet")
    assert replace_table(text, readme_table()) == text, (
        "README rule table is stale: run `python -m scalelint.output.docs --update-readme README.md`")
