"""The positioned loader: positions, merge keys, tags, and the guards that make hostile YAML cheap."""
from __future__ import annotations

import time

import pytest

from scalelint.load.parse import MAX_DEPTH, LoadError, compose_documents
from scalelint.load.read import decode, load_text, scan_suppressions


def test_positions_are_one_based_for_keys_and_values() -> None:
    (doc,) = compose_documents("a: 1\nb:\n  c: [x, y]\n", "f.yaml")
    root = doc.root
    assert root.key_pos("a") == (1, 1) and root.value_pos("a") == (1, 4)
    assert root["b"].key_pos("c") == (3, 3)
    assert root["b"]["c"].item_pos(1) == (3, 10)
    assert root.path == "f.yaml" and root["b"]["c"].path == "f.yaml"


def test_multi_document_stream_skips_empty_documents() -> None:
    docs = compose_documents("---\na: 1\n---\n---\n- 2\n")
    assert [d.root for d in docs] == [{"a": 1}, [2]]


@pytest.mark.parametrize("text, expected", [
    ("base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3\n", {"x": 1, "y": 3}),
    ("a: &a {x: 1}\nb: &b {x: 2, z: 2}\nm:\n  <<: [*a, *b]\n", {"x": 1, "z": 2}),
])
def test_merge_keys(text: str, expected: dict) -> None:
    (doc,) = compose_documents(text)
    assert dict(doc.root["m"]) == expected


def test_merged_values_keep_their_own_position() -> None:
    (doc,) = compose_documents("base: &b {x: 1}\nm:\n  <<: *b\n")
    assert doc.root["m"].value_pos("x") == (1, 14)


def test_custom_tags_are_recorded_not_constructed() -> None:
    (doc,) = compose_documents("a: !reset []\nb: !override {x: 1}\nc: !!python/object/apply:os.system [ls]\n")
    assert doc.root.tag("a") == "!reset" and doc.root.tag("b") == "!override"
    assert doc.root["c"] == ["ls"]


@pytest.mark.parametrize("text, message, pos", [
    ("a: 1\nb: 2\na: 3\n", "duplicate key 'a' (first defined at line 1)", (3, 1)),
    ("a: [1\n", "did not find expected", (2, 1)),
    ("a:\n\tb: 1\n", "cannot start any token", (2, 1)),
    ("a: \x07\n", "control characters are not allowed", (1, 4)),
])
def test_invalid_yaml_is_positioned(text: str, message: str, pos: tuple[int, int]) -> None:
    with pytest.raises(LoadError) as exc:
        compose_documents(text)
    assert message in exc.value.message and exc.value.pos == pos


def test_flow_sequence_with_colon_accepted() -> None:
    # libyaml refuses [host:80]; YAML 1.2 and the pure parser accept it
    (doc,) = compose_documents("params:\n  target: [frontend:80]\n")
    assert doc.root["params"]["target"] == ["frontend:80"]


def test_alias_bomb_is_refused_quickly() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 9)}]")
    start = time.perf_counter()
    with pytest.raises(LoadError) as exc:
        compose_documents("\n".join(lines) + "\n")
    assert time.perf_counter() - start < 2
    assert "possible alias bomb" in exc.value.message


def test_moderate_alias_reuse_is_fine() -> None:
    text = "x: &x {a: 1, b: 2}\n" + "".join(f"k{i}: *x\n" for i in range(1000))
    (doc,) = compose_documents(text)
    assert doc.root["k999"] == {"a": 1, "b": 2}


def test_deep_nesting_is_refused() -> None:
    with pytest.raises(LoadError) as exc:
        compose_documents("[" * 10000 + "]" * 10000)
    assert f"nesting deeper than {MAX_DEPTH}" in exc.value.message


@pytest.mark.parametrize("data, message, pos", [
    (b"a: 1\nb: \xe9t\xe9\n", "not valid UTF-8: byte 0xe9 at line 2, column 4", (2, 4)),
    (b"a: 1\n\x00\x01", "binary file (NUL byte at line 2, column 1)", (2, 1)),
])
def test_decode_errors(data: bytes, message: str, pos: tuple[int, int]) -> None:
    with pytest.raises(LoadError) as exc:
        decode(data)
    assert exc.value.message == message and exc.value.pos == pos


def test_bom_and_utf16() -> None:
    assert decode(b"\xef\xbb\xbfa: 1\n") == "a: 1\n"
    assert decode("a: é\n".encode("utf-16")) == "a: é\n"


def test_helm_template_detected_but_braces_in_strings_are_not() -> None:
    assert load_text("t.yaml", "kind: x\n{{- if .Values.a }}\n").skip_reason == "helm"
    assert load_text("t.yaml", "msg: '{{ $labels.instance }} down'\n").skip_reason is None


def test_suppression_comments() -> None:
    sup = scan_suppressions("a: 1  # scalelint: disable=SL001\n# scalelint: disable=SL004,single-replica-ha\nb: 2\n")
    assert sup.covers(1, "SL001", "missing-resource-limits")
    assert not sup.covers(1, "SL004", "single-replica-ha")
    assert sup.covers(3, "SL004", "x") and sup.covers(2, "SL004", "x")
    # a trailing directive covers only its own line, not the next one
    assert not sup.covers(2, "SL001", "missing-resource-limits")
    assert scan_suppressions("# scalelint: disable-file\n").covers(99, "SL003", "x")
