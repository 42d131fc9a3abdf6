"""The config file (SPEC §4): discovery, both file forms, every key's effect, errors, CLI precedence."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import invoke as cli

from scalelint.config import ExternalDatabase
from scalelint.config.file import find_config, load_config

NO_LIMITS = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 1
  template:
    spec:
      containers:
        - name: api
          image: example/api:1.0
"""
LIMITED = NO_LIMITS + """\
          resources:
            requests: {cpu: "1", memory: 1Gi}
            limits: {cpu: "1", memory: 1Gi}
"""


def json_check(*args: str) -> tuple[int, dict]:
    code, out, _ = cli("check", "--format", "json", *args)
    return code, json.loads(out)


def codes(doc: dict) -> list[str]:
    return [f["code"] for f in doc["findings"]]


# --------------------------------------------------------------------------- discovery


def test_found_from_a_subdirectory_upward(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / ".scalelint.yaml").write_text("select: [SL001]\n")
    (repo / "deploy").mkdir()
    (repo / "deploy" / "api.yaml").write_text(NO_LIMITS)
    monkeypatch.chdir(repo / "deploy")
    code, doc = json_check(".")
    assert code == 1
    assert codes(doc) == ["SL001"]


def test_search_stops_at_the_repository_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".scalelint.yaml").write_text("select: [SL001]\n")
    inner = tmp_path / "project"
    (inner / ".git").mkdir(parents=True)
    (inner / "sub").mkdir()
    assert find_config(str(inner / "sub")) is None
    assert find_config(str(tmp_path)) == str(tmp_path / ".scalelint.yaml")


def test_git_file_marks_a_root_too(tmp_path: Path) -> None:
    (tmp_path / ".scalelint.yaml").write_text("select: [SL001]\n")
    (tmp_path / "wt").mkdir()
    (tmp_path / "wt" / ".git").write_text("gitdir: /elsewhere\n")  # a worktree or submodule
    assert find_config(str(tmp_path / "wt")) is None


def test_yaml_beats_yml_beats_pyproject(repo: Path) -> None:
    (repo / "pyproject.toml").write_text("[tool.scalelint]\nselect = ['SL011']\n")
    assert find_config(str(repo)) == str(repo / "pyproject.toml")
    (repo / ".scalelint.yml").write_text("select: [SL004]\n")
    assert find_config(str(repo)) == str(repo / ".scalelint.yml")
    (repo / ".scalelint.yaml").write_text("select: [SL001]\n")
    assert find_config(str(repo)) == str(repo / ".scalelint.yaml")


def test_pyproject_without_our_table_is_skipped(repo: Path) -> None:
    (repo / ".scalelint.yaml").write_text("select: [SL001]\n")
    (repo / "sub").mkdir()
    (repo / "sub" / "pyproject.toml").write_text("[tool.black]\nline-length = 100\n[broken\n")
    assert find_config(str(repo / "sub")) == str(repo / ".scalelint.yaml")


def test_pyproject_form(repo: Path) -> None:
    (repo / "pyproject.toml").write_text(
        "[project]\nname = 'x'\n\n[tool.scalelint]\nselect = ['SL001']\nfail-on = 'warning'\n\n"
        "[tool.scalelint.rules.SL001]\nrequire = ['memory']\n")
    (repo / "api.yaml").write_text(NO_LIMITS)
    code, doc = json_check()
    assert code == 1
    assert codes(doc) == ["SL001"]
    assert "memory limit" in doc["findings"][0]["message"] and "CPU" not in doc["findings"][0]["message"]


def test_pyproject_errors_name_the_table_path(repo: Path) -> None:
    (repo / "pyproject.toml").write_text("[tool.scalelint]\nselct = ['SL001']\n")
    code, _, err = cli("check")
    assert code == 2
    assert err.strip() == ("scalelint: error: pyproject.toml: tool.scalelint.selct: unknown key "
                           "(did you mean 'select'?)")


def test_explicit_config_overrides_discovery(repo: Path) -> None:
    (repo / ".scalelint.yaml").write_text("select: [SL011]\n")
    (repo / "ci.yaml").write_text("select: [SL001]\n")
    (repo / "api.yaml").write_text(NO_LIMITS)
    assert codes(json_check("api.yaml")[1]) == ["SL011"]
    assert codes(json_check("--config", "ci.yaml", "api.yaml")[1]) == ["SL001"]
    assert sorted(set(codes(json_check("--isolated", "api.yaml")[1]))) == ["SL001", "SL011"]


def test_missing_explicit_config_is_exit_2(repo: Path) -> None:
    code, _, err = cli("check", "--config", "nope.yaml")
    assert code == 2
    assert err.strip() == "scalelint: error: nope.yaml: config file not found"


def test_empty_config_file_is_fine(repo: Path) -> None:
    (repo / ".scalelint.yaml").write_text("# nothing yet\n")
    (repo / "api.yaml").write_text(LIMITED)
    assert cli("check")[0] == 0


# --------------------------------------------------------------------------- errors: one line, exit 2


@pytest.mark.parametrize("text, expected", [
    ("selct: [SL001]\n", ".scalelint.yaml:1:1: selct: unknown key (did you mean 'select'?)"),
    ("select: SL001\n", ".scalelint.yaml:1:9: select: expected a list, got 'SL001'"),
    ("fail-on: errors\n", (".scalelint.yaml:1:10: fail-on: expected one of error, warning, info, got 'errors' "
                          "(did you mean 'error'?)")),
    ("max-workers-per-pod: many\n", ".scalelint.yaml:1:22: max-workers-per-pod: expected an integer, got 'many'"),
    ("max-workers-per-pod: 0\n", ".scalelint.yaml:1:22: max-workers-per-pod: must be at least 1, got 0"),
    ("memory-per-worker: lots\n", (".scalelint.yaml:1:20: memory-per-worker: expected a memory quantity such as "
                                  "'512Mi', got 'lots'")),
    ("databases:\n  - name: rds\n    hosts: [db.internal]\n    max_connections: 50\n",
     ".scalelint.yaml:4:5: databases[0].max_connections: unknown key (did you mean 'max-connections'?)"),
    ("databases:\n  - name: rds\n", ".scalelint.yaml:2:5: databases[0]: missing required key 'hosts'"),
    ("pool-env: {sise: [X]}\n", ".scalelint.yaml:1:12: pool-env.sise: unknown key (did you mean 'size'?)"),
    ("helm: {value: [v.yaml]}\n", ".scalelint.yaml:1:8: helm.value: unknown key (did you mean 'values'?)"),
    ("severity: {SL001: fatal}\n", (".scalelint.yaml:1:19: severity.SL001: expected one of error, warning, info, "
                                   "got 'fatal'")),
    ("rules:\n  SL001:\n    requir: [memory]\n",
     ".scalelint.yaml:3:5: rules.SL001.requir: unknown key (did you mean 'require'?)"),
    ("rules:\n  SL001:\n    require: [disk]\n",
     ".scalelint.yaml:3:5: rules.SL001.require[0]: expected one of cpu, memory, got 'disk'"),
    ("rules:\n  missing-resource-limit: {require: [memory]}\n",
     ".scalelint.yaml:2:3: rules.missing-resource-limit: unknown rule (did you mean 'missing-resource-limits'?)"),
    ("rules:\n  SL000: {strict: true}\n", ".scalelint.yaml:2:3: rules.SL000: rule SL000 takes no params"),
    ("select: [SL001, missing-resource-limit]\n",
     (".scalelint.yaml:1:17: select[1]: unknown rule 'missing-resource-limit' "
     "(did you mean 'missing-resource-limits'?)")),
    ("ignore: [SLX]\n", ".scalelint.yaml:1:10: ignore[0]: unknown rule 'SLX'"),
    ("severity: {ha-no-sprad: info}\n",
     ".scalelint.yaml:1:12: severity.ha-no-sprad: unknown rule 'ha-no-sprad' (did you mean 'ha-no-spread'?)"),
    ("- select\n", ".scalelint.yaml:1:1: (top level): expected a mapping of settings"),
    ("select: [SL001\n", ".scalelint.yaml:2:1: invalid YAML: "),
])
def test_bad_config_is_one_line_and_exit_2(repo: Path, text: str, expected: str) -> None:
    (repo / ".scalelint.yaml").write_text(text)
    code, out, err = cli("check")
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("scalelint: error: " + expected), err


def test_bad_config_in_a_real_process_has_no_traceback(repo: Path) -> None:
    (repo / ".scalelint.yaml").write_text("selct: [SL001]\nrules: {SL001: 3}\n")
    proc = subprocess.run([sys.executable, "-m", "scalelint", "check"], check=False, capture_output=True, text=True,
                          cwd=repo, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_bad_toml_is_one_line(repo: Path) -> None:
    (repo / "cfg.toml").write_text("[tool.scalelint\n")
    code, _, err = cli("check", "--config", "cfg.toml")
    assert code == 2
    assert err.startswith("scalelint: error: cfg.toml: invalid TOML: ")


def test_cli_select_gets_did_you_mean(repo: Path) -> None:
    code, _, err = cli("check", "--select", "too-many-worker")
    assert code == 2
    assert err.strip() == "scalelint: error: --select: unknown rule 'too-many-worker' (did you mean 'too-many-workers'?)"


# --------------------------------------------------------------------------- CLI overrides the file


def test_cli_overrides_file(repo: Path) -> None:
    (repo / ".scalelint.yaml").write_text("select: [SL011]\nfail-on: info\n")
    (repo / "api.yaml").write_text(NO_LIMITS)
    code, doc = json_check()
    assert codes(doc) == ["SL011"] and code == 1  # fail-on: info makes the warning fail
    code, doc = json_check("--select", "SL001", "--fail-on", "error")
    assert codes(doc) == ["SL001"] and code == 1
    code, doc = json_check("--fail-on", "error")
    assert codes(doc) == ["SL011"] and code == 0


def test_cli_select_replaces_a_bad_file_select(repo: Path) -> None:
    """A file value the command line replaces is not checked against the registry (flake8: CLI wins)."""
    (repo / ".scalelint.yaml").write_text("select: [SL9]\n")
    (repo / "api.yaml").write_text(LIMITED)
    assert cli("check", "--select", "SL001")[0] == 0


# --------------------------------------------------------------------------- every key has an effect

COMPOSE_API = """\
services:
  api:
    image: example/api:1.0
    command: uvicorn app.main:app --workers ${{WORKERS:-2}}
    environment:
      DATABASE_URL: postgresql://app:secret@db.example.com:5432/app
{env}    deploy:
      resources:
        limits: {{cpus: "4", memory: 2G}}
"""


def test_select_ignore_extend_select(repo: Path) -> None:
    (repo / "api.yaml").write_text(NO_LIMITS)
    (repo / ".scalelint.yaml").write_text("select: [SL001]\n")
    assert codes(json_check()[1]) == ["SL001"]
    (repo / ".scalelint.yaml").write_text("select: [SL001]\nextend-select: [missing-resource-requests]\n")
    assert codes(json_check()[1]) == ["SL001", "SL011"]
    (repo / ".scalelint.yaml").write_text("ignore: [SL011, SL004]\n")
    assert codes(json_check()[1]) == ["SL001"]


def test_severity_and_fail_on(repo: Path) -> None:
    (repo / "api.yaml").write_text(NO_LIMITS)
    (repo / ".scalelint.yaml").write_text("select: [SL001]\nseverity: {missing-resource-limits: warning}\n")
    code, doc = json_check()
    assert code == 0 and doc["findings"][0]["severity"] == "warning"
    (repo / ".scalelint.yaml").write_text("select: [SL001]\nseverity: {SL001: warning}\nfail-on: warning\n")
    assert json_check()[0] == 1


def test_exclude_globs_are_relative_to_the_config(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / ".scalelint.yaml").write_text("select: [SL001]\nexclude: [deploy/legacy, '*.generated.yaml']\n")
    for rel in ("deploy/legacy/old.yaml", "deploy/new.yaml", "deploy/x.generated.yaml", "other/legacy/keep.yaml"):
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(NO_LIMITS.replace("name: api", f"name: {Path(rel).stem.replace('.', '-')}"))
    paths = {f["path"] for f in json_check()[1]["findings"]}
    assert paths == {"deploy/new.yaml", "other/legacy/keep.yaml"}
    monkeypatch.chdir(repo / "deploy")
    assert {f["path"] for f in json_check(".")[1]["findings"]} == {"new.yaml"}
    assert {f["path"] for f in json_check(str(repo / "deploy"))[1]["findings"]} == {str(repo / "deploy/new.yaml")}


def test_rule_params(repo: Path) -> None:
    (repo / "api.yaml").write_text(NO_LIMITS)
    (repo / ".scalelint.yaml").write_text("select: [SL001]\nrules:\n  missing-resource-limits: {require: [memory]}\n")
    [finding] = json_check()[1]["findings"]
    assert "sets no memory limit:" in finding["message"]


def test_ha_required(repo: Path) -> None:
    (repo / "api.yaml").write_text(LIMITED)
    assert json_check("--select", "SL004")[0] == 0
    (repo / ".scalelint.yaml").write_text("ha-required: ['ap*']\n")
    code, doc = json_check("--select", "SL004")
    assert code == 1 and "config ha-required: 'ap*'" in doc["findings"][0]["message"]


def test_env_file_relative_to_the_config(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / "deploy").mkdir()
    (repo / "deploy" / "compose.yaml").write_text(COMPOSE_API.format(env=""))
    (repo / "env").mkdir()
    (repo / "env" / "prod.env").write_text("WORKERS=12\n")
    assert json_check("--select", "SL002", "deploy")[0] == 0
    (repo / ".scalelint.yaml").write_text("env-file: env/prod.env\n")
    monkeypatch.chdir(repo / "deploy")
    code, doc = json_check("--select", "SL002", ".")
    assert code == 1 and "12" in doc["findings"][0]["message"]


def test_workers_env_and_max_workers_per_pod(repo: Path) -> None:
    text = COMPOSE_API.replace("    command: uvicorn app.main:app --workers ${{WORKERS:-2}}\n", "").format(
        env="      APP_PROCS: \"6\"\n")  # no command: the image's entrypoint reads the env
    (repo / "compose.yaml").write_text(text)
    assert json_check("--select", "SL002")[0] == 0
    (repo / ".scalelint.yaml").write_text("workers-env: [APP_PROCS]\nmax-workers-per-pod: 4\n")
    code, doc = json_check("--select", "SL002")
    assert code == 1
    assert "6" in doc["findings"][0]["message"] and "4" in doc["findings"][0]["message"]


def test_memory_per_worker(repo: Path) -> None:
    (repo / "compose.yaml").write_text(COMPOSE_API.format(env=""))
    assert json_check("--select", "SL006")[1]["findings"] == []
    (repo / ".scalelint.yaml").write_text("memory-per-worker: 1.5Gi\n")
    assert codes(json_check("--select", "SL006")[1]) == ["SL006"]


def test_databases_and_pool_env(repo: Path) -> None:
    (repo / "compose.yaml").write_text(COMPOSE_API.format(env="      MY_POOL: \"20\"\n"))
    assert json_check("--select", "SL003")[1]["findings"] == []
    (repo / ".scalelint.yaml").write_text(
        "databases:\n  - {name: managed, hosts: [db.example.com], max-connections: 20}\n")
    # MY_POOL looks like a pool size scalelint does not read: the pool is unknown, not SQLAlchemy's 5 + 10
    _, doc = json_check("--select", "SL003")
    assert doc["findings"] == []
    assert any("MY_POOL=20 looks like a pool setting scalelint does not read: name it in pool-env" in n["message"]
               for n in doc["notices"])
    (repo / ".scalelint.yaml").write_text(
        "databases:\n  - {name: managed, hosts: [db.example.com], max-connections: 20}\npool-env: {size: [MY_POOL]}\n")
    [finding] = json_check("--select", "SL003")[1]["findings"]
    assert finding["message"].startswith("managed: demand 60 > 17 available") and "20 pool" in finding["message"]


def test_nodes_sizes_daemonsets(repo: Path) -> None:
    (repo / "ds.yaml").write_text("""\
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  template:
    spec:
      containers:
        - name: agent
          image: example/agent:1
          command: ["python", "-m", "agent"]
          env:
            - {name: DATABASE_URL, value: "postgresql://u:p@db.example.com/app"}
            - {name: DB_POOL_SIZE, value: "10"}
            - {name: DB_MAX_OVERFLOW, value: "0"}
""")
    base = "databases:\n  - {name: managed, hosts: [db.example.com], max-connections: 53}\n"
    (repo / ".scalelint.yaml").write_text(base)
    assert json_check("--select", "SL003")[1]["findings"] == []
    (repo / ".scalelint.yaml").write_text(base + "nodes: 6\n")
    [finding] = json_check("--select", "SL003")[1]["findings"]
    assert "60" in finding["message"]


def test_rules_dirs_relative_to_the_config(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / "policy").mkdir()
    (repo / "policy" / "mem.yaml").write_text(
        "code: ACME001\nname: memory-limit-only\ntemplate: resource-limits\nseverity: warning\n"
        "summary: memory limits, our way\nparams: {require: [memory]}\n")
    (repo / ".scalelint.yaml").write_text("rules-dirs: [policy]\nselect: [ACME001]\n")
    (repo / "sub").mkdir()
    (repo / "sub" / "api.yaml").write_text(NO_LIMITS)
    monkeypatch.chdir(repo / "sub")
    code, doc = json_check(".")
    assert code == 0 and codes(doc) == ["ACME001"] and doc["findings"][0]["severity"] == "warning"


def test_every_key_lands_in_config(repo: Path) -> None:
    """Keys without a rule of their own yet (helm) and the exact values of the others."""
    (repo / "conf").mkdir()
    (repo / "conf" / ".scalelint.yaml").write_text("""\
select: [SL001]
extend-select: [SL011]
ignore: [SL004]
severity: {SL001: warning}
fail-on: warning
exclude: [vendor, deploy/old/]
rules: {SL001: {require: [memory]}}
ha-required: ["*"]
databases:
  - {name: rds, hosts: [a.example.com, b.example.com], max-connections: 500, reserved: 5, engine: postgres}
  - {name: maria, hosts: [m.example.com], engine: mariadb}
env-file: [prod.env, /abs/other.env]
workers-env: [PROCS]
pool-env: {size: [POOL], overflow: [OVER]}
memory-per-worker: 256Mi
max-workers-per-pod: 6
nodes: 12
rules-dirs: [policies]
helm: {values: [values.yaml, values-prod.yaml]}
""")
    c = load_config("conf/.scalelint.yaml", str(repo))
    assert (c.select, c.extend_select, c.ignore) == (["SL001"], ["SL011"], ["SL004"])
    assert c.severity["SL001"].label == "warning" and c.fail_on.label == "warning"
    assert c.exclude == ["vendor", "conf/deploy/old/", f"{repo}/conf/deploy/old/"]
    assert c.rule_params == {"SL001": {"require": ["memory"]}}
    assert c.ha_required == ["*"]
    assert c.databases == [ExternalDatabase("rds", ("a.example.com", "b.example.com"), 500, 5, "postgresql"),
                           ExternalDatabase("maria", ("m.example.com",), 151, 0, "mariadb")]
    assert c.env_files == [os.path.join("conf", "prod.env"), "/abs/other.env"]
    assert (c.workers_env, c.pool_size_env, c.max_overflow_env) == (["PROCS"], ["POOL"], ["OVER"])
    assert c.memory_per_worker == 256 * 1024 * 1024 and c.max_workers_per_pod == 6 and c.nodes == 12
    assert c.rules_dirs == [os.path.join("conf", "policies")]
    assert c.helm_values == [os.path.join("conf", "values.yaml"), os.path.join("conf", "values-prod.yaml")]
    assert c.source == "conf/.scalelint.yaml"


def test_schema_is_shipped_and_covers_spec_keys() -> None:
    import jsonschema

    from scalelint.config.file import config_schema

    jsonschema.Draft202012Validator.check_schema(config_schema())
    keys = set(config_schema()["properties"])
    assert {"select", "ignore", "severity", "fail-on", "exclude", "rules", "ha-required", "databases", "env-file",
            "workers-env", "pool-env", "memory-per-worker", "max-workers-per-pod"} <= keys


def test_no_config_file_never_imports_jsonschema(repo: Path) -> None:
    (repo / "api.yaml").write_text(LIMITED)
    code = ("import sys, scalelint.cli as c\n"
            "try:\n    c.main(['check', 'api.yaml'])\nexcept SystemExit:\n    pass\n"
            "print('jsonschema' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, cwd=repo, timeout=120)
    assert proc.stdout.strip().splitlines()[-1] == "False"


@pytest.mark.parametrize("args, expected", [
    (["check", "--format", "bogus"], "scalelint: error: Invalid value for '--format': 'bogus' is not one of "),
    (["check", "--config", "."], "scalelint: error: Invalid value for '--config': "),
    (["check", "--zzz"], "scalelint: error: No such option '--zzz'. (see `scalelint check --help`)"),
    (["chek"], "scalelint: error: No such command 'chek'. Did you mean 'check'?"),
    (["explain"], "scalelint: error: Missing argument 'RULE'. (see `scalelint explain --help`)"),
])
def test_bad_arguments_are_one_line_exit_2(repo: Path, args: list[str], expected: str) -> None:
    code, out, err = cli(*args)
    assert code == 2 and out == ""
    assert err.startswith(expected) and len(err.strip().splitlines()) == 1, err
