"""The loader's composer is ruamel's C composer with a table resolver: same nodes, tags, marks and errors."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from scalelint.check import entrypoints
from scalelint.load import fastyaml

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "corpus"

pytestmark = pytest.mark.skipif(not fastyaml.AVAILABLE, reason="ruamel.yaml.clib is not installed")

CASES = [
    "%YAML 1.1\n---\na: yes\nb: 0777\nc: 1:20\n",
    "a: !!str 5\nb: !reset []\nc: !override x\n",
    "? [a, b]\n: c\n",
    "x: &a {k: 1}\ny: *a\nz:\n  <<: *a\n  m: 2\n",
    "- !!int '5'\n- !custom {a: 1}\n- ! 12\n- ~\n- ''\n- .inf\n- -.5e3\n- 0x1F\n- 0o17\n- '<<'\n- 2001-12-14\n- =\n",
    "%TAG !e! tag:example.com,2000:\n---\n- !e!foo bar\n",
    "a: 1\n---\n---\nb: [true, False, NULL, null, 1_000, +12, 1e3, 3.]\n",
    "key: |\n  literal\n  text\nfolded: >\n  a\n  b\n",
    "a: [1, 2\n",
    "a: b\n  c: d\n",
    "\t- tab\n",
    "a: 'unterminated\n",
]


def _ruamel(text: str) -> list[Any]:
    return list(YAML(typ="safe", pure=False).compose_all(text))


def _ours(text: str) -> list[Any]:
    return list(fastyaml.compose_all(text))


def _same(a: Any, b: Any, seen: set[tuple[int, int]] | None = None) -> None:
    """Node by node; an aliased node is compared once (an alias bomb is small as a graph)."""
    if a is None or b is None:
        assert a is b
        return
    seen = set() if seen is None else seen
    if (id(a), id(b)) in seen:
        return
    seen.add((id(a), id(b)))
    assert a.id == b.id
    assert fastyaml.tag_text(a) == b.tag
    assert (a.start_mark.line, a.start_mark.column) == (b.start_mark.line, b.start_mark.column)
    assert (a.end_mark.line, a.end_mark.column) == (b.end_mark.line, b.end_mark.column)
    if a.id == "scalar":
        assert (a.value, a.style) == (b.value, b.style)
    elif a.id == "sequence":
        assert len(a.value) == len(b.value)
        for x, y in zip(a.value, b.value):
            _same(x, y, seen)
    else:
        assert len(a.value) == len(b.value)
        for (k1, v1), (k2, v2) in zip(a.value, b.value):
            _same(k1, k2, seen)
            _same(v1, v2, seen)


def _compare(text: str) -> None:
    try:
        expected: Any = _ruamel(text)
    except Exception as exc:  # noqa: BLE001 - the error itself is what is compared
        expected = (type(exc), str(exc))
    try:
        got: Any = _ours(text)
    except Exception as exc:  # noqa: BLE001
        got = (type(exc), str(exc))
    if isinstance(expected, tuple) or isinstance(got, tuple):
        assert got == expected
        return
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        _same(a, b)


@pytest.mark.parametrize("text", CASES)
def test_same_as_ruamel(text: str) -> None:
    _compare(text)


def _files() -> list[Path]:
    roots = [ROOT / "tests" / "fixtures", ROOT / "examples", ROOT / "rules", SHARED]
    return sorted(p for r in roots if r.is_dir() for p in r.rglob("*") if p.suffix in (".yaml", ".yml", ".json"))


def test_same_as_ruamel_on_every_fixture_and_corpus_file() -> None:
    files = _files()
    assert len(files) > 50
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        _compare(text)


def test_entry_points_match_importlib() -> None:
    from importlib import metadata

    for group in ("scalelint.templates", "scalelint.rules"):
        ours = [(ep.name, ep.value) for ep in entrypoints.entry_points(group)]
        theirs = [(ep.name, ep.value) for ep in sorted(metadata.entry_points(group=group), key=lambda e: e.name)]
        assert ours == theirs and ours
    template = entrypoints.entry_points("scalelint.templates")[0].load()
    assert template.__name__[0].isupper()


def test_entry_points_file_format() -> None:
    groups: dict[str, list[entrypoints.EntryPoint]] = {}
    entrypoints._parse("# comment\n[scalelint.templates]\nmine = pkg.mod:Cls [extra]\n; also a comment\n"
                       "[console_scripts]\nx = y:z\n", groups)
    assert [(e.name, e.value) for e in groups["scalelint.templates"]] == [("mine", "pkg.mod:Cls [extra]")]
    ep = entrypoints.EntryPoint("dump", "json:dumps [fast]", "g")
    import json

    assert ep.load() is json.dumps
