"""Compose interpolation and .env parsing, checked against compose-go's own cases."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scalelint.model.interpolate import (
    Interpolated,
    has_interpolation,
    interpolate,
    parse_env_file,
)

# compose-go's template_test.go mapping: FOO set, BAR set but empty.
ENV = {"FOO": "first", "BAR": ""}


def _bad(text: str) -> str:
    return f"invalid interpolation format for '{text}'"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # plain references
        ("$FOO", "first"),
        ("${FOO}", "first"),
        ("This $FOO var", "This first var"),
        ("This ${FOO} var", "This first var"),
        ("$FOO-bar", "first-bar"),  # unbraced name stops at '-'
        ("${FOO}${FOO}", "firstfirst"),
        ("$FOO$FOO", "firstfirst"),
        ("pre${FOO}post", "prefirstpost"),
        ("${BAR}", ""),
        ("no dollars here", "no dollars here"),
        ("", ""),
        # :- default when unset or empty
        ("${UNSET:-def}", "def"),
        ("${BAR:-def}", "def"),
        ("${FOO:-def}", "first"),
        ("${UNSET:-}", ""),
        # - default only when unset
        ("${UNSET-def}", "def"),
        ("${BAR-def}", ""),
        ("${FOO-def}", "first"),
        # :+ alternative when set and non-empty
        ("${FOO:+alt}", "alt"),
        ("${BAR:+alt}", ""),
        ("${UNSET:+alt}", ""),
        # + alternative when set
        ("${FOO+alt}", "alt"),
        ("${BAR+alt}", "alt"),
        ("${UNSET+alt}", ""),
        # ? / :? succeed when the variable qualifies
        ("${FOO:?err}", "first"),
        ("${FOO?err}", "first"),
        ("${BAR?err}", ""),
        # operand text is taken verbatim up to the matching brace
        ("${BAR:-/non:-alphanumeric}", "/non:-alphanumeric"),
        ("${UNSET-myerror?msg}", "myerror?msg"),
        ("${UNSET:-a b  c}", "a b  c"),
        ("${UNSET:-{x}}", "{x}"),
        ("${FOO:-{x}}", "first"),  # bare braces nest, so the whole {x} is skipped
        ("${FOO:-a{b{c}}d}e", "firste"),
        ("${UNSET:-x}}", "x}"),
        # outer text never changes which operator applies
        ("-ok ${BAR:-defaultValue}", "-ok defaultValue"),
        (":-ok ${UNSET-defaultValue}", ":-ok defaultValue"),
        (":?ok ${BAR-defaultValue}", ":?ok "),
        ("+ok ${BAR-defaultValue}", "+ok "),
        # nesting
        ("${UNSET:-${FOO}}", "first"),
        ("${UNSET:-$FOO}", "first"),
        ("${UNSET-${FOO} ${FOO}}", "first first"),
        ("${BAR+$FOO ${FOO:+second}}", "first second"),
        ("${UNSET:-${BAR-defaultValue}}", ""),
        ("${UNSET:-${ALSO_UNSET:-deep}}", "deep"),
        ("${UNSET:-${ALSO_UNSET:-${FOO}}}", "first"),
        ("${FOO:+[${FOO}]}", "[first]"),
        # escapes
        ("$$", "$"),
        ("$$FOO", "$FOO"),
        ("$${FOO}", "${FOO}"),
        ("$$$FOO", "$first"),
        ("$$$$", "$$"),
        ("${UNSET:-$$x}", "$x"),
        ("${UNSET:-$${x}}", "${x}"),
        # a $ that starts nothing stays literal (compose-go TestUnescaped)
        ("$", "$"),
        ("a $ string", "a $ string"),
        ("^REGEX$", "^REGEX$"),
        ("$}", "$}"),
        ("$1", "$1"),
        ("price: $5", "price: $5"),
        ("$-x", "$-x"),
        # names: ASCII letters, digits, underscore, either case
        ("$_u1", ""),
        ("$foo_BAR9", ""),
        ("$FOOé", "firsté"),
    ],
)
def test_values(text: str, expected: str) -> None:
    assert interpolate(text, ENV).value == expected


@pytest.mark.parametrize(
    ("text", "unset"),
    [
        ("${MISSING}", ("MISSING",)),
        ("$MISSING and ${MISSING}", ("MISSING",)),
        ("$B $A $B", ("B", "A")),
        ("${BAR}", ()),  # empty is set
        ("${MISSING:-d}", ()),  # a default counts as a value
        ("${MISSING-d}", ()),
        ("${MISSING:+a}", ()),
        ("${MISSING+a}", ()),
        ("${MISSING:?e}", ()),  # reported as an error instead
        ("${MISSING:-$INNER}", ("INNER",)),
        # compose-go interpolates the default before looking at the variable,
        # so it warns about INNER even though FOO is set.
        ("${FOO:-$INNER}", ("INNER",)),
        ("$$MISSING", ()),
    ],
)
def test_unset(text: str, unset: tuple[str, ...]) -> None:
    assert interpolate(text, ENV).unset == unset


@pytest.mark.parametrize(
    ("text", "used"),
    [
        ("plain", ()),
        ("$FOO", ("FOO",)),
        ("${B} ${A} $B", ("B", "A")),
        ("${A:-${B:-$C}}", ("A", "B", "C")),
        ("${FOO:+$BAR}", ("FOO", "BAR")),
        ("$${NOT_A_LOOKUP}", ()),
        ("${1bad}", ()),
    ],
)
def test_used_in_order_and_deduplicated(text: str, used: tuple[str, ...]) -> None:
    assert interpolate(text, ENV).used == used


@pytest.mark.parametrize(
    ("text", "value", "errors"),
    [
        (
            "not ok ${UNSET:?Mandatory Variable Unset}",
            "not ok ",
            ("UNSET: Mandatory Variable Unset",),
        ),
        (
            "not ok ${BAR:?Mandatory Variable Empty}",
            "not ok ",
            ("BAR: Mandatory Variable Empty",),
        ),
        (
            "not ok ${UNSET:?}",
            "not ok ",
            ("required variable UNSET is missing a value",),
        ),
        (
            "not ok ${UNSET?Mandatory Variable Unset}",
            "not ok ",
            ("UNSET: Mandatory Variable Unset",),
        ),
        (
            "not ok ${UNSET?}",
            "not ok ",
            ("required variable UNSET is missing a value",),
        ),
        ("${UNSET?bar-baz}", "", ("UNSET: bar-baz",)),
        ("${UNSET:?need ${FOO}}", "", ("UNSET: need first",)),
        ("${UNSET?need ${FOO}}", "", ("UNSET: need first",)),
        # processing continues after a failure
        ("a${UNSET:?x}b${FOO}c", "abfirstc", ("UNSET: x",)),
        ("${U1:?one} ${U2?two}", " ", ("U1: one", "U2: two")),
        ("${U1:?one} ${U1:?one}", " ", ("U1: one",)),  # deduplicated
        # the operand is evaluated even when the variable is set (compose-go)
        ("${FOO:-${UNSET:?boom}}", "first", ("UNSET: boom",)),
        # unterminated / malformed ${ is kept literally
        ("${", "${", (_bad("${"),)),
        ("${}", "${}", (_bad("${}"),)),
        ("${ }", "${ }", (_bad("${ }"),)),
        ("${ foo}", "${ foo}", (_bad("${ foo}"),)),
        ("${foo }", "${foo }", (_bad("${foo }"),)),
        ("${foo!}", "${foo!}", (_bad("${foo!}"),)),
        ("${1abc}", "${1abc}", (_bad("${1abc}"),)),
        ("${FOO", "${FOO", (_bad("${FOO"),)),
        ("${FOO:x}", "${FOO:x}", (_bad("${FOO:x}"),)),
        ("${A:-x", "${A:-x", (_bad("${A:-x"),)),
        ("x ${ y $FOO", "x ${ y first", (_bad("x ${ y $FOO"),)),
        ("${A:-${FOO}", "${A:-first", (_bad("${A:-${FOO}"),)),
        ("${UNSET:-${1}}", "${1}", (_bad("${UNSET:-${1}}"),)),
    ],
)
def test_errors(text: str, value: str, errors: tuple[str, ...]) -> None:
    result = interpolate(text, ENV)
    assert result.value == value
    assert result.errors == errors


@pytest.mark.parametrize("text", ["plain text", "", "$", "a $ b", "$1", "x$"])
def test_unchanged_without_dollar_syntax(text: str) -> None:
    result = interpolate(text, ENV)
    assert result.changed is False
    assert result.value == text


@pytest.mark.parametrize("text", ["$$", "$FOO", "${FOO}", "${MISSING}", "${", "a$$b"])
def test_changed_by_dollar_syntax(text: str) -> None:
    assert interpolate(text, ENV).changed is True


def test_full_result_object() -> None:
    result = interpolate("${FOO}/${MISSING}:${TAG:-latest}", {"FOO": "reg"})
    assert result == Interpolated(
        value="reg/:latest",
        unset=("MISSING",),
        errors=(),
        used=("FOO", "MISSING", "TAG"),
        changed=True,
    )


def test_no_dollar_is_untouched() -> None:
    assert interpolate("abc", {}) == Interpolated("abc", (), (), (), False)


def test_deep_nesting_does_not_recurse() -> None:
    depth = 5000
    text = "${A:-" * depth + "x" + "}" * depth
    result = interpolate(text, {})
    assert result.value == "x"
    assert result.errors == ()
    assert result.used == ("A",)


def test_deep_unterminated_nesting() -> None:
    text = "${A:-" * 5000 + "x"
    result = interpolate(text, {})
    assert result.value == text
    assert result.errors == (_bad(text),)


def test_long_input_is_fast() -> None:
    text = "${FOO} $$ $1 ${BAR:-x} " * 20000
    result = interpolate(text, ENV)
    assert result.value == "first $ $1 x " * 20000


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", False), ("plain", False), ("$", True), ("a$b", True), ("$$", True)],
)
def test_has_interpolation(text: str, expected: bool) -> None:
    assert has_interpolation(text) is expected


# --------------------------------------------------------------------------
# .env parsing
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("", {}),
        ("\n\n   \n", {}),
        ("A=1", {"A": "1"}),
        ("A=1\nB=2\n", {"A": "1", "B": "2"}),
        ("A=1\r\nB=2\r\n", {"A": "1", "B": "2"}),
        ("# comment\nA=1\n  # indented comment", {"A": "1"}),
        ("export A=1", {"A": "1"}),
        ("export\tA=1", {"A": "1"}),
        ("exportA=1", {"exportA": "1"}),
        ("export=1", {"export": "1"}),
        ("  A = spaced  ", {"A": "spaced"}),
        ("A: yaml style", {"A": "yaml style"}),
        ("A=", {"A": ""}),
        ("A=a=b=c", {"A": "a=b=c"}),
        ("A.B-C_D=1", {"A.B-C_D": "1"}),
        # unquoted: " #" starts a comment, a bare # does not
        ("A=value # comment", {"A": "value"}),
        ("A=value#hash", {"A": "value#hash"}),
        ("A=#hash", {"A": "#hash"}),
        ("A=value\t#tab", {"A": "value\t#tab"}),
        # single quotes: literal
        ("A='x $HOME \\n y'", {"A": "x $HOME \\n y"}),
        ("A='with # hash'", {"A": "with # hash"}),
        ("A=''", {"A": ""}),
        # double quotes: escapes, then interpolation
        ('A="line1\\nline2"', {"A": "line1\nline2"}),
        ('A="tab\\there"', {"A": "tab\there"}),
        ('A="say \\"hi\\""', {"A": 'say "hi"'}),
        ('A="back\\\\"', {"A": "back\\"}),
        ('A="\\$NOT"', {"A": "$NOT"}),
        ('A="\\0101"', {"A": "A"}),
        ('A="\\q"', {"A": "\\q"}),
        ('A="with # hash" # comment', {"A": "with # hash"}),
        ('A=""', {"A": ""}),
        ('A="multi\nline"\nB=2', {"A": "multi\nline", "B": "2"}),
        # bare KEY inherits from the environment, which we cannot see
        ("A", {}),
        ("export A", {}),
        ("A\nB=2", {"B": "2"}),
        # later values interpolate earlier ones
        ("A=1\nB=${A}2", {"A": "1", "B": "12"}),
        ("A=1\nB=$A-x", {"A": "1", "B": "1-x"}),
        ('A=1\nB="<$A>"', {"A": "1", "B": "<1>"}),
        ("A=1\nB='$A'", {"A": "1", "B": "$A"}),
        ("B=${A:-dflt}\nA=1", {"B": "dflt", "A": "1"}),
        ("A=$$literal", {"A": "$literal"}),
        ("A=1\nA=2", {"A": "2"}),
    ],
)
def test_env_values(text: str, values: dict[str, str]) -> None:
    parsed, problems = parse_env_file(text)
    assert parsed == values
    assert problems == []


@pytest.mark.parametrize(
    ("text", "values", "problems"),
    [
        (
            "A=1\nbad key=2\nC=3",
            {"A": "1", "C": "3"},
            [(2, "key cannot contain a space")],
        ),
        ("A B", {}, [(1, "key cannot contain a space")]),
        ("A=1\n\nB$=2", {"A": "1"}, [(3, "unexpected character '$' in variable name")]),
        ("=value", {}, [(1, "missing variable name before '='")]),
        ("A # not a comment", {}, [(1, "unexpected character '#' in variable name")]),
        (
            'A=1\nB="open\nC=3',
            {"A": "1", "C": "3"},
            [(2, 'unterminated quoted value "open')],
        ),
        ("A='open", {}, [(1, "unterminated quoted value 'open")]),
        ('A="x" junk', {"A": "x"}, [(1, "unexpected text after quoted value: 'junk'")]),
        ("A=${NEED:?set it}", {"A": ""}, [(1, "NEED: set it")]),
        (
            'X=1\nA="${NEED?}"',
            {"X": "1", "A": ""},
            [(2, "required variable NEED is missing a value")],
        ),
        ("A=${", {"A": "${"}, [(1, "invalid interpolation format for '${'")]),
        # the line number is where the statement starts, after multi-line values
        (
            'A="l1\nl2\nl3"\nbad key=1',
            {"A": "l1\nl2\nl3"},
            [(4, "key cannot contain a space")],
        ),
    ],
)
def test_env_problems(text: str, values: dict[str, str], problems: list[tuple[int, str]]) -> None:
    assert parse_env_file(text) == (values, problems)


# --------------------------------------------------------------------------
# never raises
# --------------------------------------------------------------------------

_TEMPLATE_TEXT = st.text(alphabet=st.sampled_from(list("${}:-?+_aZ9 \n'\"#=\\x")), max_size=60)


@settings(max_examples=200, deadline=None)
@given(
    text=st.one_of(st.text(), _TEMPLATE_TEXT),
    env=st.dictionaries(st.sampled_from(["a", "Z", "x", "_"]), st.text(max_size=5)),
)
def test_interpolate_never_raises(text: str, env: dict[str, str]) -> None:
    result = interpolate(text, env)
    assert isinstance(result.value, str)
    assert set(result.unset) <= set(result.used)
    if "$" not in text:
        assert result.value == text and not result.changed


@settings(max_examples=200, deadline=None)
@given(text=st.one_of(st.text(), _TEMPLATE_TEXT))
def test_has_interpolation_never_raises(text: str) -> None:
    assert has_interpolation(text) is ("$" in text)


@settings(max_examples=200, deadline=None)
@given(text=st.one_of(st.text(), _TEMPLATE_TEXT))
def test_parse_env_file_never_raises(text: str) -> None:
    values, problems = parse_env_file(text)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in values.items())
    line_count = text.count("\n") + 1
    assert all(1 <= line <= line_count for line, _ in problems)
