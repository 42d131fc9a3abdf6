"""Every rule's documented example (``example: {kind, bad, good}`` in rules/*.yaml) is a test.

``bad`` must produce at least one finding of that rule, ``good`` none of it,
each written as ``deploy.yaml`` (kubernetes) or ``compose.yaml`` (compose)
and linted with ``--select`` that rule. New rule files are picked up by
themselves.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT

from scalelint.check.registry import Rule, load_rules_dir
from scalelint.cli import main
from scalelint.output.docs import EXAMPLE_FILES

RULES = sorted(load_rules_dir(str(ROOT / "rules"), builtin=True), key=lambda r: r.code)


def _lint(tmp_path: Path, rule: Rule, text: str) -> list[dict]:
    (tmp_path / ".git").mkdir(exist_ok=True)
    target = tmp_path / EXAMPLE_FILES[rule.example_kind]
    target.write_text(text, encoding="utf-8")
    for name, content in rule.example_files.items():  # the application source an example needs
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(content, encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "--isolated", "--format", "json", "--select", rule.code, str(target)])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code in (0, 1), result.stderr
    return [f for f in json.loads(result.stdout)["findings"] if f["code"] == rule.code]


def test_every_rule_documents_an_example() -> None:
    for rule in RULES:
        assert rule.example_kind in EXAMPLE_FILES, f"{rule.code}: example.kind must be kubernetes or compose"
        assert rule.example_bad and rule.example_good, f"{rule.code}: example needs bad and good"


@pytest.mark.parametrize("rule", [r for r in RULES if r.example_bad and r.example_kind in EXAMPLE_FILES],
                         ids=lambda r: r.code)
def test_bad_example_is_reported(tmp_path: Path, rule: Rule) -> None:
    assert _lint(tmp_path, rule, rule.example_bad), f"{rule.code}: the bad example gives no {rule.code} finding"


@pytest.mark.parametrize("rule", [r for r in RULES if r.example_good and r.example_kind in EXAMPLE_FILES],
                         ids=lambda r: r.code)
def test_good_example_is_clean(tmp_path: Path, rule: Rule) -> None:
    found = _lint(tmp_path, rule, rule.example_good)
    assert not found, f"{rule.code}: the good example is reported: {found[0]['message']}"
