"""Tests of the CI formatters: SARIF, GitHub workflow commands, GitLab Code Quality.

The SARIF log is validated against the official OASIS schema kept in
``../shared/schemas/`` (never copied into the project); those tests skip when
the folder is absent.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scalelint.findings import (
    Finding,
    Notice,
    ObjectRef,
    Related,
    RuleInfo,
    RunResult,
    Severity,
)
from scalelint.output import github, gitlab, sarif

VERSION = "1.2.3"
SHARED = Path(__file__).resolve().parents[2] / "shared"
SCHEMA_PATH = SHARED / "schemas" / "sarif-schema-2.1.0.json"
SRC = "%SRCROOT%"
ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

RULES = {
    "SL001": RuleInfo(
        "SL001",
        "no-latest-tag",
        ERROR,
        "Images must be pinned.",
        help_uri="https://example.test/rules/SL001",
        doc="A moving tag makes replicas run different code.",
    ),
    "SL002": RuleInfo("SL002", "replicas-without-pdb", WARNING, "Add a PDB."),
    "SL003": RuleInfo("SL003", "missing-probe", INFO, "Add a probe.", enabled=False),
}


def finding(code: str, sev: Severity, where: str, msg: str, **kw: Any) -> Finding:
    """A finding at ``where`` ("path:line:column"), named after its rule."""
    path, line, column = where.rsplit(":", 2)
    rule = RULES[code].name if code in RULES else "plugin-rule"
    return Finding(code, rule, sev, msg, path, int(line), int(column), **kw)


RELATED = (
    Related("k8s/svc.yaml", 2, 1, "selected by this Service"),
    Related("k8s/hpa.yaml", 0, 0, "scaled by this HPA"),
)
DEPLOY = finding(
    "SL001",
    ERROR,
    "k8s/deploy.yaml:3:5",
    "Image nginx uses the latest tag",
    object=ObjectRef("Deployment", "web", "prod"),
    related=RELATED,
    fix="pin the image by digest",
)
SERVICE = finding(
    "SL002",
    WARNING,
    "compose dir/docker compose.yaml:0:0",
    "service api has 3 replicas",
    object=ObjectRef("service", "api"),
)
ODD = finding("SL003", INFO, "a,b:c.yaml:7:0", "50%\r\nnext")
UNKNOWN = finding("SL999", WARNING, "100%/x#y?.yaml:1:1", "from a plugin")
NOTICES = [
    Notice("no worker count known"),
    Notice("variable FOO is unset", "compose.yaml", 4, 2),
]


def make_result(*findings: Finding) -> RunResult:
    result = RunResult(
        findings=list(findings or (DEPLOY, SERVICE, ODD, UNKNOWN)),
        notices=list(NOTICES),
        rules=dict(RULES),
    )
    result.sort()
    return result


def sarif_log(result: RunResult) -> dict:
    return json.loads(sarif.render(result, tool_version=VERSION))


def result_for(log: dict, code: str) -> dict:
    return next(r for r in log["runs"][0]["results"] if r["ruleId"] == code)


def physical(code: str, log: dict | None = None) -> dict:
    location = result_for(log or sarif_log(make_result()), code)["locations"][0]
    return location["physicalLocation"]


# --- SARIF -------------------------------------------------------------------


@pytest.fixture(scope="module")
def sarif_validator() -> Any:
    if not SCHEMA_PATH.is_file():
        pytest.skip(f"SARIF schema not present at {SCHEMA_PATH}")
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    # The schema declares draft-04; validator_for honours its "$schema".
    cls = jsonschema.validators.validator_for(schema)
    assert cls is jsonschema.Draft4Validator
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


@pytest.mark.parametrize(
    "result",
    [make_result(), RunResult(), make_result(dataclasses.replace(DEPLOY, path=""))],
    ids=["full", "empty", "no-path"],
)
def test_sarif_validates_against_official_schema(
    sarif_validator: Any, result: RunResult
) -> None:
    errors = list(sarif_validator.iter_errors(sarif_log(result)))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]


def test_sarif_header_driver_and_levels() -> None:
    log = sarif_log(make_result())
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    assert run["columnKind"] == "unicodeCodePoints"
    driver = run["tool"]["driver"]
    assert driver["name"] == "scalelint"
    assert driver["version"] == VERSION
    assert driver["informationUri"] == "https://github.com/scalelint/scalelint"
    levels = {r["ruleId"]: r["level"] for r in run["results"]}
    assert levels["SL001"] == "error"
    assert levels["SL002"] == levels["SL999"] == "warning"
    assert levels["SL003"] == "note"


def test_sarif_rules_sorted_with_unknown_code_added() -> None:
    rules = sarif_log(make_result())["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["SL001", "SL002", "SL003", "SL999"]
    sl001, sl002, sl003, sl999 = rules
    assert sl001["name"] == "no-latest-tag"
    assert sl001["shortDescription"] == {"text": "Images must be pinned."}
    doc = {"text": "A moving tag makes replicas run different code."}
    assert sl001["fullDescription"] == sl001["help"] == doc
    assert sl001["helpUri"] == "https://example.test/rules/SL001"
    assert sl001["defaultConfiguration"] == {"level": "error"}
    assert sl001["properties"]["tags"] == ["scalelint"]
    assert sl002["help"] == {"text": "Add a PDB."}
    repo = "https://github.com/scalelint/scalelint"
    assert sl002["helpUri"] == f"{repo}/blob/main/rules/SL002.yaml"
    assert sl002["defaultConfiguration"] == {"level": "warning"}
    assert sl003["defaultConfiguration"] == {"level": "note", "enabled": False}
    assert sl999["name"] == "plugin-rule"
    assert sl999["defaultConfiguration"] == {"level": "warning"}


def test_sarif_rule_index_points_at_rule() -> None:
    run = sarif_log(make_result())["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert len(run["results"]) == 4
    for res in run["results"]:
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]


def test_sarif_regions_and_percent_encoded_uris() -> None:
    log = sarif_log(make_result())
    assert physical("SL001", log)["region"] == {"startLine": 3, "startColumn": 5}
    assert "region" not in physical("SL002", log)  # line 0: unknown, no region
    assert physical("SL003", log)["region"] == {"startLine": 7}  # column 0: unknown

    def artifact(code: str) -> dict:
        return physical(code, log)["artifactLocation"]

    assert artifact("SL001") == {"uri": "k8s/deploy.yaml", "uriBaseId": SRC}
    assert artifact("SL002")["uri"] == "compose%20dir/docker%20compose.yaml"
    assert artifact("SL003")["uri"] == "a,b%3Ac.yaml"
    assert artifact("SL999")["uri"] == "100%25/x%23y%3F.yaml"
    # RFC 3986 characters only: jsonschema cannot check "uri-reference" without
    # the optional rfc3987 package.
    uri_reference = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-F]{2})*")
    for code in ("SL001", "SL002", "SL003", "SL999"):
        assert uri_reference.fullmatch(artifact(code)["uri"])


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("./k8s/x.yaml", {"uri": "k8s/x.yaml", "uriBaseId": SRC}),
        ("k8s\\x.yaml", {"uri": "k8s/x.yaml", "uriBaseId": SRC}),
        ("/abs/my file.yaml", {"uri": "file:///abs/my%20file.yaml"}),
        ("C:\\work\\x.yaml", {"uri": "file:///C:/work/x.yaml"}),
        ("c:x.yaml", {"uri": "c%3Ax.yaml", "uriBaseId": SRC}),
        ("d\u00e9ploiement.yaml", {"uri": "d%C3%A9ploiement.yaml", "uriBaseId": SRC}),
        ("bad\udcff.yaml", {"uri": "bad%FF.yaml", "uriBaseId": SRC}),
    ],
)
def test_sarif_artifact_location(path: str, expected: dict) -> None:
    assert sarif.artifact_location(path) == expected


def test_sarif_logical_locations() -> None:
    log = sarif_log(make_result())
    assert result_for(log, "SL001")["locations"][0]["logicalLocations"] == [
        {"name": "web", "fullyQualifiedName": "prod/Deployment/web", "kind": "resource"}
    ]
    assert result_for(log, "SL002")["locations"][0]["logicalLocations"] == [
        {"name": "api", "fullyQualifiedName": "service/api", "kind": "object"}
    ]
    assert "logicalLocations" not in result_for(log, "SL003")["locations"][0]


def test_sarif_related_locations_message_and_fix() -> None:
    log = sarif_log(make_result())
    deploy = result_for(log, "SL001")
    first, second = deploy["relatedLocations"]
    assert first == {
        "id": 1,
        "physicalLocation": {
            "artifactLocation": {"uri": "k8s/svc.yaml", "uriBaseId": SRC},
            "region": {"startLine": 2, "startColumn": 1},
        },
        "message": {"text": "selected by this Service"},
    }
    assert second["id"] == 2
    hpa = {"uri": "k8s/hpa.yaml", "uriBaseId": SRC}
    assert second["physicalLocation"] == {"artifactLocation": hpa}
    assert second["message"] == {"text": "scaled by this HPA"}
    assert deploy["message"] == {"text": "Image nginx uses the latest tag"}
    assert deploy["properties"] == {"fix": "pin the image by digest"}
    assert result_for(log, "SL003")["message"] == {"text": "50%\r\nnext"}
    assert "relatedLocations" not in result_for(log, "SL002")
    assert "properties" not in result_for(log, "SL002")


def test_sarif_finding_without_path_or_object_has_no_locations() -> None:
    bare = dataclasses.replace(ODD, path="", object=None)
    assert "locations" not in sarif_log(make_result(bare))["runs"][0]["results"][0]


def fingerprint(result: RunResult, code: str, index: int = 0) -> str:
    results = sarif_log(result)["runs"][0]["results"]
    matching = [r for r in results if r["ruleId"] == code]
    return matching[index]["partialFingerprints"]["scalelintFinding/v1"]


def test_sarif_fingerprints() -> None:
    base = fingerprint(make_result(), "SL001")
    assert re.fullmatch(r"[0-9a-f]{64}", base)
    # Stable when only the position or the spelling of the path changes...
    moved = dataclasses.replace(DEPLOY, line=40, column=9)
    assert fingerprint(make_result(moved, SERVICE, ODD, UNKNOWN), "SL001") == base
    dotted = dataclasses.replace(DEPLOY, path="./k8s/deploy.yaml")
    assert fingerprint(make_result(dotted), "SL001") == base
    # ... different for another object or file ...
    staging = dataclasses.replace(DEPLOY, object=ObjectRef("Deployment", "web", "s"))
    assert fingerprint(make_result(staging), "SL001") != base
    other_path = dataclasses.replace(DEPLOY, path="k8s/other.yaml")
    assert fingerprint(make_result(other_path), "SL001") != base
    # ... and unique even for duplicates.
    twins = make_result(DEPLOY, dataclasses.replace(DEPLOY, line=9))
    assert fingerprint(twins, "SL001", 0) != fingerprint(twins, "SL001", 1)


def test_sarif_notices_are_tool_execution_notifications() -> None:
    (invocation,) = sarif_log(make_result())["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is True
    bare, located = invocation["toolExecutionNotifications"]
    assert bare == {"level": "note", "message": {"text": "no worker count known"}}
    assert located["level"] == "note"
    assert located["message"] == {"text": "variable FOO is unset"}
    (location,) = located["locations"]
    compose = {"uri": "compose.yaml", "uriBaseId": SRC}
    assert location["physicalLocation"]["artifactLocation"] == compose
    assert location["physicalLocation"]["region"] == {"startLine": 4, "startColumn": 2}


def test_sarif_empty_result() -> None:
    run = sarif_log(RunResult())["runs"][0]
    assert run["results"] == []
    assert run["tool"]["driver"]["rules"] == []
    assert run["invocations"] == [{"executionSuccessful": True}]


# --- GitHub ------------------------------------------------------------------


def test_github_exact_lines() -> None:
    out = github.render(make_result(), tool_version=VERSION)
    assert out.splitlines() == [
        "::warning file=100%25/x#y?.yaml,line=1,col=1,title=SL999 plugin-rule"
        + "::from a plugin",
        "::notice file=a%2Cb%3Ac.yaml,line=7,title=SL003 missing-probe"
        + "::50%25%0D%0Anext",
        "::warning file=compose dir/docker compose.yaml"
        + ",title=SL002 replicas-without-pdb::service api has 3 replicas",
        "::error file=k8s/deploy.yaml,line=3,col=5,title=SL001 no-latest-tag"
        + "::Image nginx uses the latest tag%0AFix: pin the image by digest",
        "::notice::no worker count known",
        "::notice file=compose.yaml,line=4,col=2::variable FOO is unset",
    ]
    assert out.endswith("\n")


@pytest.mark.parametrize(
    ("severity", "command"),
    [(ERROR, "::error"), (WARNING, "::warning"), (INFO, "::notice")],
)
def test_github_levels(severity: Severity, command: str) -> None:
    result = RunResult(findings=[dataclasses.replace(ODD, severity=severity)])
    assert github.render(result, tool_version="").split(" ", 1)[0] == command


def test_github_escaping() -> None:
    assert github.escape_data("50%\r\nnext") == "50%25%0D%0Anext"
    assert github.escape_data("a:b,c") == "a:b,c"
    assert github.escape_property("a,b:c.yaml") == "a%2Cb%3Ac.yaml"
    assert github.escape_property("%3A") == "%253A"
    odd_rule = dataclasses.replace(ODD, rule="a:b,c", message="m")
    out = github.render(RunResult(findings=[odd_rule]), tool_version="")
    assert out == "::notice file=a%2Cb%3Ac.yaml,line=7,title=SL003 a%3Ab%2Cc::m\n"
    assert github.render(RunResult(), tool_version="") == ""


# The runner's unescape tables (ActionCommand.cs), in its order: "%25" last.
DATA_UNESCAPES = (("%0D", "\r"), ("%0A", "\n"), ("%25", "%"))
PROPERTY_UNESCAPES = (("%3A", ":"), ("%2C", ","), *DATA_UNESCAPES)


def parse_like_runner(line: str) -> tuple[str, dict[str, str], str]:
    """Parse as actions/runner's ActionCommand.TryParseV2 does, for round trips."""
    assert line.startswith("::")
    end = line.index("::", 2)
    info, data = line[2:end], line[end + 2 :]
    name, _, props_text = info.partition(" ")
    props = {}
    for prop in filter(None, props_text.strip().split(",")):
        key, _, value = prop.partition("=")
        for token, text in PROPERTY_UNESCAPES:
            value = value.replace(token, text)
        props[key] = value
    for token, text in DATA_UNESCAPES:
        data = data.replace(token, text)
    return name, props, data


@given(
    path=st.text(min_size=1).filter(lambda p: not p.startswith("=")),
    message=st.text(min_size=1),
    # The runner trims the property list: a title's trailing blanks do not survive.
    rule=st.text().map(str.strip),
)
def test_github_round_trips_through_runner_parser(
    path: str, message: str, rule: str
) -> None:
    item = dataclasses.replace(ODD, path=path, message=message, rule=rule)
    line = github.render(RunResult(findings=[item]), tool_version="").removesuffix("\n")
    assert "\r" not in line
    assert "\n" not in line
    name, props, data = parse_like_runner(line)
    assert name == "notice"
    assert props == {
        "file": path,
        "line": "7",
        "title": f"SL003 {rule}" if rule else "SL003",
    }
    assert data == message


# --- GitLab ------------------------------------------------------------------


def gitlab_issues(result: RunResult) -> list[dict]:
    return json.loads(gitlab.render(result, tool_version=VERSION))


def test_gitlab_shape_and_severities() -> None:
    out = gitlab.render(make_result(), tool_version=VERSION)
    assert out.startswith('[\n  {\n    "description": ')
    assert out.endswith("]\n")
    issues = {i["check_name"]: i for i in json.loads(out)}
    keys = {"description", "check_name", "fingerprint", "severity", "location"}
    for issue in issues.values():
        assert set(issue) == keys
        assert set(issue["location"]) == {"path", "lines"}
        assert isinstance(issue["location"]["lines"]["begin"], int)
        assert issue["location"]["lines"]["begin"] >= 1
        assert re.fullmatch(r"[0-9a-f]{32}", issue["fingerprint"])
    severities = {code: issue["severity"] for code, issue in issues.items()}
    expected = {"SL001": "major", "SL002": "minor", "SL003": "info", "SL999": "minor"}
    assert severities == expected
    deploy, service = issues["SL001"], issues["SL002"]
    fixed = "Image nginx uses the latest tag Fix: pin the image by digest"
    assert deploy["description"] == fixed
    assert deploy["location"] == {"path": "k8s/deploy.yaml", "lines": {"begin": 3}}
    assert service["location"]["path"] == "compose dir/docker compose.yaml"
    assert service["location"]["lines"] == {"begin": 1}


def test_gitlab_fingerprints() -> None:
    issues = gitlab_issues(make_result(DEPLOY, DEPLOY, SERVICE, SERVICE, ODD))
    fingerprints = [i["fingerprint"] for i in issues]
    assert len(set(fingerprints)) == len(fingerprints) == 5

    def deploy_fp(item: Finding) -> str:
        issues = gitlab_issues(make_result(item, SERVICE))
        return next(i["fingerprint"] for i in issues if i["check_name"] == "SL001")

    assert deploy_fp(DEPLOY) == deploy_fp(dataclasses.replace(DEPLOY, line=99))
    assert deploy_fp(DEPLOY) != deploy_fp(dataclasses.replace(DEPLOY, message="x"))


def test_gitlab_paths_normalized_and_empty_report() -> None:
    backslashed = dataclasses.replace(DEPLOY, path=".\\k8s\\d.yaml")
    issue = gitlab_issues(make_result(backslashed))[0]
    assert issue["location"]["path"] == "k8s/d.yaml"
    assert gitlab.render(RunResult(), tool_version="") == "[]\n"


# --- determinism -------------------------------------------------------------


@pytest.mark.parametrize("formatter", [sarif, github, gitlab], ids=lambda m: m.__name__)
def test_render_is_deterministic(formatter: ModuleType) -> None:
    result = make_result()
    first = formatter.render(result, tool_version=VERSION)
    assert formatter.render(result, tool_version=VERSION) == first
    assert formatter.render(make_result(), tool_version=VERSION) == first
