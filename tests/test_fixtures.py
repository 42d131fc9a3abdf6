"""Every rule against real-looking manifests: ``tests/fixtures/<CODE>/{bad,good}/<case>``.

Layout and conventions
----------------------
- A *case* is one direct child of ``tests/fixtures/<CODE>/bad/`` or ``.../good/``:
  a single file (``*.yaml``, ``*.yml``, ``*.json``), or a directory. A directory
  is linted as a whole, the way ``scalelint check DIR`` walks it: a compose
  project (``compose.yaml``, maybe ``compose.override.yaml`` and ``.env``),
  or several Kubernetes files that form one graph.
- Expectations are comments in the case's files, one per finding, in the file
  the finding points to (for a compose project, the file holding the service
  or value that is reported)::

      # expect: SL003 12:7          code and 1-based line:column
      # expect-notice: <substring>  some notice of the run contains it

  Expect comments are ordinary YAML comments; they may sit anywhere in the
  file, also inside a block scalar whose content is itself commented
  (a ``postgresql.conf``). A file that is not valid UTF-8 is scanned with
  replacement characters, so it can still say what it expects.
- Only the rule under test is selected (``Config(select=[CODE])``), so a
  ``bad`` case lists every finding of that rule and nothing else; the test
  compares the *sets* of ``(file, code, line, column)``, both ways. Two
  exceptions: ``SL000`` is produced by the loader whatever the selection, so
  SL000 cases run with the default selection and only SL000 findings are
  compared; ``SL013`` cases also select ``SL003``, because the two rules
  split one sum at the database's limit: a tight budget must be SL013 and
  never SL003, an overflowing one SL003 and never SL013. Expectations of
  every selected code are compared.
- A directory case may hold a ``.scalelint.yaml``: it is loaded as the
  run's configuration (rule params, ``ha-required``, ``databases``...), and
  the selection above replaces its ``select``/``ignore``. Hidden files are
  never linted, so it may also carry expectations (a finding located in it).
- A ``good`` case passes when the run has no finding of the rule under test.
  It may still state expectations (e.g. an SL013 good case that overflows
  expects its SL003); those are compared exactly as for ``bad`` cases.
- A ``bad`` case must state at least one expectation of its own code.
- A case that shows a product bug keeps asserting the behaviour SPEC §3
  promises; it is listed in ``KNOWN_BUGS`` (fixture path → reason) and runs
  as ``xfail(strict=True)``, so fixing the bug turns the run red until the
  entry is removed.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from scalelint.check.registry import Registry
from scalelint.config import Config
from scalelint.pipeline import Options, Run, run

FIXTURES = Path(__file__).parent / "fixtures"
CASE_SUFFIXES = (".yaml", ".yml", ".json")
CONFIG_NAME = ".scalelint.yaml"
_EXPECT = re.compile(r"#\s*expect:\s*([A-Z]+[0-9]+)\s+(\d+):(\d+)\b")
_EXPECT_NOTICE = re.compile(r"#\s*expect-notice:\s*(.+?)\s*$")

_IN_STRING = ("a setting inside a one-line string or a script is located at the start of the string, not at "
              "the argument that sets it")
#: fixture path (relative to tests/fixtures) → why it fails today. Each one is a
#: product bug against SPEC §3; the fixture asserts what SPEC promises.
KNOWN_BUGS: dict[str, str] = {
}


@dataclass(frozen=True)
class Case:
    code: str
    kind: str  # "bad" | "good"
    path: Path

    @property
    def id(self) -> str:
        return self.path.relative_to(FIXTURES).as_posix()

    def files(self) -> list[Path]:
        if self.path.is_file():
            return [self.path]
        return sorted(p for p in self.path.rglob("*") if p.is_file())


def _cases() -> list[Case]:
    out: list[Case] = []
    for code_dir in sorted(p for p in FIXTURES.iterdir() if p.is_dir()):
        for kind in ("bad", "good"):
            root = code_dir / kind
            if not root.is_dir():
                continue
            for child in sorted(root.iterdir()):
                if child.is_dir() or child.suffix in CASE_SUFFIXES:
                    out.append(Case(code_dir.name, kind, child))
    return out


CASES = _cases()


def _expectations(case: Case) -> tuple[set[tuple[str, str, int, int]], list[str]]:
    findings: set[tuple[str, str, int, int]] = set()
    notices: list[str] = []
    for file in case.files():
        rel = file.relative_to(case.path).as_posix() if case.path.is_dir() else file.name
        text = file.read_bytes().decode("utf-8", errors="replace")
        for line in text.splitlines():
            for m in _EXPECT.finditer(line):
                findings.add((rel, m.group(1), int(m.group(2)), int(m.group(3))))
            n = _EXPECT_NOTICE.search(line)
            if n:
                notices.append(n.group(1))
    return findings, notices


def _selected(code: str) -> list[str]:
    return ["SL013", "SL003"] if code == "SL013" else [code]


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.load()


def _options(case: Case) -> Options:
    opts = Options(paths=[str(case.path)])
    # a file case is that file alone: its sibling cases are not its deployment
    if hasattr(opts, "group_context"):
        opts.group_context = False
    return opts


def _config(case: Case) -> Config:
    """The case's own ``.scalelint.yaml`` (directory cases only), then the selection on top."""
    config_file = case.path / CONFIG_NAME if case.path.is_dir() else None
    if config_file is not None and config_file.is_file():
        from scalelint.config.file import load_config

        config = load_config(str(config_file), str(case.path))
    else:
        config = Config()
    if case.code != "SL000":
        config.select = _selected(case.code)
        config.extend_select = []
        config.ignore = []
    return config


def _run(case: Case, registry: Registry) -> Run:
    return run(_options(case), _config(case), registry)


def _rel(case: Case, path: str) -> str:
    """A finding's file as the expectations name it: relative to a directory case, else the file name."""
    if case.path.is_file():
        return os.path.basename(path)
    try:
        return Path(path).resolve().relative_to(case.path.resolve()).as_posix()
    except ValueError:  # outside the case: keep it visible in the failure message
        return path


def _params() -> list[Any]:
    params = []
    for case in CASES:
        marks = []
        if case.id in KNOWN_BUGS:
            marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[case.id]))
        params.append(pytest.param(case, id=case.id, marks=marks))
    return params


@pytest.mark.parametrize("case", _params())
def test_fixture(case: Case, registry: Registry) -> None:
    expected, expected_notices = _expectations(case)
    codes = set(_selected(case.code))
    if case.kind == "bad":
        assert any(code == case.code for _, code, _, _ in expected), (
            f"{case.id}: a bad case must state `# expect: {case.code} LINE:COL`")
    else:
        assert not any(code == case.code for _, code, _, _ in expected), (
            f"{case.id}: a good case must not expect its own rule")
    assert {code for _, code, _, _ in expected} <= codes, f"{case.id}: expects a rule that is not selected"

    result = _run(case, registry).result
    actual = {(_rel(case, f.path), f.code, f.line, f.column) for f in result.findings if f.code in codes}
    shown = "\n".join(f"  {_rel(case, f.path)}:{f.line}:{f.column}: {f.code} {f.message}"
                      for f in result.findings if f.code in codes)
    assert actual == expected, (
        f"{case.id}\n missing:    {sorted(expected - actual)}\n unexpected: {sorted(actual - expected)}\n"
        f" findings:\n{shown}")
    messages = [n.message for n in result.notices]
    for wanted in expected_notices:
        assert any(wanted in m for m in messages), f"{case.id}: no notice contains {wanted!r}; notices: {messages}"


def test_every_rule_has_fixtures_and_docs(registry: Registry) -> None:
    """Each built-in rule: a bad and a good case here, and ruff-style docs in ``rules/<CODE>.yaml``."""
    problems = []
    by_code: dict[str, set[str]] = {}
    for case in CASES:
        by_code.setdefault(case.code, set()).add(case.kind)
    builtin = {code: rule for code, rule in registry.rules.items() if rule.builtin}
    for code, rule in sorted(builtin.items()):
        kinds = by_code.get(code, set())
        for kind in ("bad", "good"):
            if kind not in kinds:
                problems.append(f"{code}: no {kind} fixture under tests/fixtures/{code}/{kind}/")
        for attr in ("summary", "what", "why", "fix", "example_bad", "example_good", "example_kind"):
            if not str(getattr(rule, attr) or "").strip():
                problems.append(f"{code}: rules/{code}.yaml has no {attr.replace('example_', 'example.')}")
        if rule.example_kind and rule.example_kind not in ("kubernetes", "compose"):
            problems.append(f"{code}: example.kind {rule.example_kind!r} is neither kubernetes nor compose")
    unknown = sorted(set(by_code) - set(builtin))
    problems += [f"tests/fixtures/{code}: no such rule in the registry" for code in unknown]
    assert not problems, "\n".join(problems)
