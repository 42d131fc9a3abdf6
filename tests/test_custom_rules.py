"""Custom checks without Python: rule YAML in a rules directory, over built-in templates and ``json-schema``."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from scalelint.cli import main

PROD_REPLICAS = """\
code: ACME001
name: prod-replicas
template: json-schema
severity: error
summary: Every Deployment in namespace prod runs at least 3 replicas.
params:
  scope: {kinds: [Deployment], namespaces: [prod]}
  schema:
    type: object
    required: [spec]
    properties:
      spec:
        type: object
        required: [replicas]
        properties:
          replicas: {type: integer, minimum: 3}
"""

DEPLOYMENTS = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: prod
spec:
  replicas: 1
  template:
    spec:
      containers:
        - name: api
          image: example/api:1.0
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
  namespace: prod
spec:
  template:
    spec:
      containers:
        - name: worker
          image: example/worker:1.0
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: staging-api
  namespace: staging
spec:
  replicas: 1
  template: {}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: big
  namespace: prod
spec:
  replicas: 5
  template: {}
"""


@pytest.fixture
def repo(repo: Path) -> Path:
    """The shared repository fixture, with a ``policies/`` directory for rule files."""
    (repo / "policies").mkdir()
    return repo


def check(*args: str) -> tuple[int, dict, str]:
    result = CliRunner().invoke(main, ["check", "--format", "json", *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, json.loads(result.stdout) if result.stdout else {}, result.stderr


def found(doc: dict) -> list[tuple[str, int, int, str, str]]:
    return [(f["code"], f["line"], f["column"], f["object"]["name"], f["message"]) for f in doc["findings"]]


def test_prod_deployments_need_three_replicas(repo: Path) -> None:
    (repo / "policies" / "replicas.yaml").write_text(PROD_REPLICAS)
    (repo / "deploy.yaml").write_text(DEPLOYMENTS)
    code, doc, _ = check("--rules-dir", "policies", "--select", "ACME001", "deploy.yaml")
    assert code == 1
    assert found(doc) == [
        ("ACME001", 7, 13, "api", "spec.replicas: 1 is less than the minimum of 3"),  # the value
        ("ACME001", 19, 1, "worker", "spec: 'replicas' is a required property"),  # the mapping that lacks it
    ]
    assert doc["findings"][0]["object"] == {"kind": "Deployment", "name": "api", "namespace": "prod"}


def test_sequence_items_and_nested_paths(repo: Path) -> None:
    (repo / "policies" / "images.yaml").write_text("""\
code: ACME002
name: pinned-images
template: json-schema
severity: warning
summary: Images are pinned by digest.
params:
  message: images must be pinned
  fix: use image@sha256:...
  scope: {kinds: [Deployment, StatefulSet]}
  schema:
    properties:
      spec:
        properties:
          template:
            properties:
              spec:
                properties:
                  containers:
                    items:
                      properties:
                        image: {type: string, pattern: "@sha256:"}
""")
    (repo / "deploy.yaml").write_text(DEPLOYMENTS)
    code, doc, _ = check("--rules-dir", "policies", "--select", "ACME002", "deploy.yaml")
    assert code == 0  # a warning
    assert [(f["line"], f["column"], f["object"]["name"]) for f in doc["findings"]] == [(12, 18, "api"), (24, 18, "worker")]
    first = doc["findings"][0]
    assert first["message"] == ("images must be pinned: spec.template.spec.containers[0].image: "
                                "'example/api:1.0' does not match '@sha256:'")
    assert first["fix"] == "use image@sha256:..." and first["severity"] == "warning"


def test_scope_by_api_version_and_name_and_all_kinds(repo: Path) -> None:
    (repo / "policies" / "labels.yaml").write_text("""\
code: ACME003
name: team-label
template: json-schema
summary: Objects carry a team label.
params:
  scope: {apiVersions: [v1], names: ["settings-*"]}
  schema: {required: [metadata], properties: {metadata: {required: [labels]}}}
""")
    (repo / "deploy.yaml").write_text(DEPLOYMENTS + "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings-a\n"
                                      "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\n"
                                      "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings-b\n"
                                      "  annotations: {scalelint.io/ignore: ACME003}\n")
    _code, doc, _ = check("--rules-dir", "policies", "--select", "ACME003", "deploy.yaml")
    assert [(f["object"]["kind"], f["object"]["name"], f["line"], f["message"]) for f in doc["findings"]] == [
        ("ConfigMap", "settings-a", 46, "metadata: 'labels' is a required property")]


def test_compose_services_in_scope_with_compose_types(repo: Path) -> None:
    (repo / "policies" / "web.yaml").write_text("""\
code: ACME004
name: web-replicated
template: json-schema
summary: web services run two replicas and have a healthcheck.
params:
  scope: {kinds: [service], names: ["web*"]}
  schema:
    required: [healthcheck]
    properties:
      deploy: {properties: {replicas: {type: integer, minimum: 2}}}
""")
    (repo / "compose.yaml").write_text("""\
services:
  web:
    image: example/web:1
    deploy:
      replicas: ${WEB_REPLICAS:-1}
  worker:
    image: example/worker:1
""")
    code, doc, _ = check("--rules-dir", "policies", "--select", "ACME004")
    assert code == 1
    assert [(f["line"], f["column"], f["message"]) for f in doc["findings"]] == [
        (2, 3, "'healthcheck' is a required property"),  # the service key
        (5, 17, "deploy.replicas: 1 is less than the minimum of 2"),  # interpolated, then typed as Compose does
    ]
    assert doc["findings"][0]["object"] == {"kind": "service", "name": "web", "namespace": None}


def test_kubernetes_only_scope_skips_compose(repo: Path) -> None:
    (repo / "policies" / "replicas.yaml").write_text(PROD_REPLICAS.replace("namespaces: [prod]", "names: [web]"))
    (repo / "compose.yaml").write_text("services:\n  web:\n    image: x\n")
    assert check("--rules-dir", "policies", "--select", "ACME001")[1]["findings"] == []


@pytest.mark.parametrize("schema_name, text", [
    ("replicas.json", json.dumps({"properties": {"spec": {"properties": {"replicas": {"minimum": 3}}}}})),
    ("replicas.yaml", "properties:\n  spec:\n    properties:\n      replicas: {minimum: 3}\n"),
])
def test_schema_file_is_relative_to_the_rule_file(repo: Path, monkeypatch: pytest.MonkeyPatch, schema_name: str,
                                                   text: str) -> None:
    (repo / "policies" / "schemas").mkdir()
    (repo / "policies" / "schemas" / schema_name).write_text(text)
    (repo / "policies" / "replicas.yaml").write_text(
        "code: ACME001\nname: prod-replicas\ntemplate: json-schema\nsummary: s\n"
        f"params:\n  scope: {{kinds: [Deployment]}}\n  schema-file: schemas/{schema_name}\n")
    (repo / "app").mkdir()
    (repo / "app" / "deploy.yaml").write_text(DEPLOYMENTS)
    monkeypatch.chdir(repo / "app")
    code, doc, err = check("--rules-dir", "../policies", "--select", "ACME001", "deploy.yaml")
    assert code == 1, err
    assert [f["object"]["name"] for f in doc["findings"]] == ["api", "staging-api"]


def test_config_params_for_a_custom_rule_resolve_against_the_config(repo: Path) -> None:
    (repo / "policies" / "replicas.yaml").write_text(PROD_REPLICAS)
    (repo / "conf").mkdir()
    (repo / "conf" / "min5.json").write_text(json.dumps({"properties": {"spec": {"properties": {
        "replicas": {"minimum": 5}}}}}))
    (repo / ".scalelint.yaml").write_text(
        "rules-dirs: [policies]\nselect: [ACME001]\nrules:\n  prod-replicas:\n    schema-file: conf/min5.json\n")
    (repo / "deploy.yaml").write_text(DEPLOYMENTS)
    code, doc, err = check("deploy.yaml")
    assert code == 2 and "set exactly one of `schema` and `schema-file`" in err  # the rule file sets `schema`
    (repo / "policies" / "replicas.yaml").write_text(PROD_REPLICAS.split("  schema:")[0])
    code, doc, err = check("deploy.yaml")
    assert code == 1, err
    assert [f["message"] for f in doc["findings"]] == ["spec.replicas: 1 is less than the minimum of 5"]


def test_reuse_a_builtin_template_with_other_params(repo: Path) -> None:
    (repo / "policies" / "mem.yaml").write_text(
        "code: ACME010\nname: memory-limits-only\ntemplate: resource-limits\nseverity: warning\n"
        "summary: containers set a memory limit\nparams: {require: [memory], include-init-containers: false}\n")
    (repo / "deploy.yaml").write_text(DEPLOYMENTS)
    code, doc, _ = check("--rules-dir", "policies", "--select", "ACME010", "deploy.yaml")
    assert code == 0
    assert {(f["code"], f["object"]["name"]) for f in doc["findings"]} == {("ACME010", "api"), ("ACME010", "worker")}
    assert all("sets no memory limit:" in f["message"] for f in doc["findings"])


def test_rules_dir_is_repeatable(repo: Path) -> None:
    (repo / "more").mkdir()
    (repo / "policies" / "replicas.yaml").write_text(PROD_REPLICAS)
    (repo / "more" / "mem.yaml").write_text(
        "code: ACME010\nname: memory-limits-only\ntemplate: resource-limits\nsummary: s\nparams: {require: [memory]}\n")
    (repo / "deploy.yaml").write_text(DEPLOYMENTS)
    _code, doc, _ = check("--rules-dir", "policies", "--rules-dir", "more", "--select", "ACME", "deploy.yaml")
    assert {f["code"] for f in doc["findings"]} == {"ACME001", "ACME010"}


@pytest.mark.parametrize("rule, expected", [
    ("code: ACME001\nname: x\ntemplate: resource-limits\nsummary: s\nparams: {requir: [memory]}\n",
     "policies/bad.yaml:5:10: params.requir: unknown key (did you mean 'require'?)"),
    ("code: ACME001\nname: x\ntemplate: resource-limits\nsummary: s\nparams:\n  require: memory\n",
     "policies/bad.yaml:6:12: params.require: expected a list, got 'memory'"),
    ("code: ACME001\nname: x\ntemplate: resource-limit\nsummary: s\n", "policies/bad.yaml: unknown template"),
    ("code: ACME001\nname: x\ntemplate: json-schema\nsummary: s\nparams: {scope: {kinds: [Deployment]}}\n",
     "policies/bad.yaml: ACME001 (x): set exactly one of `schema` and `schema-file`"),
    ("code: ACME001\nname: x\ntemplate: json-schema\nsummary: s\nparams: {schema: {type: integr}}\n",
     "policies/bad.yaml: ACME001 (x): invalid JSON Schema at type: "),
    ("code: ACME001\nname: x\ntemplate: json-schema\nsummary: s\nparams: {schema-file: nope.json}\n",
     "policies/bad.yaml: ACME001 (x): cannot read schema-file "),
    ("code: ACME001\nname: x\ntemplate: json-schema\nsummary: s\nparams: {scope: {kind: [Deployment]}, schema: {}}\n",
     "policies/bad.yaml:5:18: params.scope.kind: unknown key (did you mean 'kinds'?)"),
    ("code: ACME001\nname: x\ntemplate: json-schema\nsummary: s\nparams: [1]\n",
     "policies/bad.yaml: rule key 'params' must be a mapping"),
])
def test_bad_rule_files_exit_2_with_one_line(repo: Path, rule: str, expected: str) -> None:
    (repo / "policies" / "bad.yaml").write_text(rule)
    (repo / "deploy.yaml").write_text(DEPLOYMENTS)
    result = CliRunner().invoke(main, ["check", "--rules-dir", "policies", "deploy.yaml"])
    assert result.exit_code == 2, result.output
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("scalelint: error: " + expected), result.stderr


def test_missing_rules_dir_is_exit_2(repo: Path) -> None:
    result = CliRunner().invoke(main, ["check", "--rules-dir", "nope"])
    assert result.exit_code == 2
    assert result.stderr.startswith("scalelint: error: ")
    assert "nope" in result.stderr and len(result.stderr.strip().splitlines()) == 1
