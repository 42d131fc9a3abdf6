"""SPEC §6: hostile or broken input never produces a traceback.

Every case puts a hostile file next to a good manifest with a known finding
(SL001 at good.yaml:10:17) and checks that
- the hostile file gets a one-line SL000 finding or notice (with a position where one exists),
  or is linted without a crash when it is valid YAML of the wrong shape;
- the good manifest is still linted;
- the command line exits 0 or 1, never 2, never with a traceback.
"""
from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml as pyyaml
from conftest import lint_paths

from scalelint.analyze.capacity import group_report
from scalelint.findings import RunResult
from scalelint.output import jsonfmt
from scalelint.output import report as fmt_report
from scalelint.output import text as fmt_text

GOOD = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: good
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: app
          image: nginx
"""
GOOD_LOC = (10, 17)


def lint(paths: list[str] | str, **opts) -> RunResult:
    return lint_paths(paths, **opts).result


def write(tmp_path: Path, files: dict[str, str | bytes], good: bool = True) -> Path:
    if good:
        (tmp_path / "good.yaml").write_text(GOOD)
    for name, content in files.items():
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content)
    return tmp_path


def good_reported(result: RunResult, tmp_path: Path) -> bool:
    want = str(tmp_path / "good.yaml")
    return any(f.code == "SL001" and f.path == want and (f.line, f.column) == GOOD_LOC for f in result.findings)


def sl000(result: RunResult, path: Path) -> list:
    return [f for f in result.findings if f.code == "SL000" and f.path == str(path)]


def notices(result: RunResult, path: Path) -> list:
    return [n for n in result.notices if n.path == str(path)]


def cli(*args: str, timeout: float = 60, cwd: str | None = None, stdin: bytes | None = None
        ) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "SCALELINT_DEBUG")}
    proc = subprocess.run([sys.executable, "-m", "scalelint", "check", "--isolated", *args],
                          check=False, capture_output=True, timeout=timeout, cwd=cwd, env=env, input=stdin)
    return proc


def assert_clean_exit(proc: subprocess.CompletedProcess) -> None:
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode in (0, 1), err
    assert "Traceback" not in err, err
    assert "internal error" not in err, err


def assert_one_line(result: RunResult) -> None:
    for f in result.findings:
        assert "\n" not in f.message and "\r" not in f.message, f
    for n in result.notices:
        assert "\n" not in n.message and "\r" not in n.message, n


# --------------------------------------------------------------------------------------------
# Broken bytes and broken YAML: SL000 with a position
# --------------------------------------------------------------------------------------------

BROKEN = {
    "invalid-yaml": ("bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x\ndata:\n  a: b\n", (4, 5)),
    "invalid-yaml-indent": ("bad.yaml", "a:\n  b: 1\n c: 2\n", None),
    "tab-indent": ("bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: x\n", None),
    "invalid-utf8": ("bad.yaml", b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \xff\xfe\xfa\n", (4, 9)),
    "latin1": ("bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caf\u00e9\n".encode("latin-1"),
               (4, 12)),
    "binary-nul": ("bad.yaml", b"\x7fELF\x02\x01\x01\x00\x00\x00" + bytes(range(256)) * 4, (1, 8)),
    "binary-no-nul": ("bad.yaml", bytes(range(1, 256)) * 8, None),
    "control-char": ("bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\x07b\n", None),
    "duplicate-keys": ("dup.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  name: y\n", (5, 3)),
    "duplicate-keys-compose": ("compose.yaml",
                               "services:\n  web:\n    image: a\n  web:\n    image: b\n", (4, 3)),
    "unterminated-string": ("bad.yaml", 'apiVersion: v1\nkind: "ConfigMap\n', None),
    "unclosed-flow": ("bad.yaml", "[" * 3 + "1, 2\n", None),
    "bad-anchor": ("bad.yaml", "a: *nope\n", (1, 4)),
    "merge-scalar": ("bad.yaml", "a: &x 1\nb:\n  <<: *x\n", None),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_input_is_one_sl000(tmp_path: Path, case: str) -> None:
    name, content, pos = BROKEN[case]
    write(tmp_path, {name: content})
    result = lint(str(tmp_path))
    bad = sl000(result, tmp_path / name)
    assert len(bad) == 1, (result.findings, result.notices)
    assert bad[0].severity.label == "error"
    assert bad[0].line >= 1 and bad[0].column >= 1
    if pos is not None:
        assert (bad[0].line, bad[0].column) == pos, bad[0]
    assert_one_line(result)
    assert good_reported(result, tmp_path)


# --------------------------------------------------------------------------------------------
# Nothing to lint: empty, comments only, scalars and lists at the top
# --------------------------------------------------------------------------------------------

NOTHING = {
    "empty": "",
    "whitespace": "   \n\n  \n",
    "comment-only": "# just a comment\n# and another\n",
    "document-markers": "---\n---\n...\n",
    "scalar": "hello\n",
    "int": "42\n",
    "null": "null\n",
    "list": "- a\n- b\n- {apiVersion: v1}\n",
    "list-of-objects": "- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: x}\n",
    "nested-empty": "{}\n---\n[]\n---\n''\n",
}


@pytest.mark.parametrize("case", sorted(NOTHING))
def test_nothing_to_lint(tmp_path: Path, case: str) -> None:
    write(tmp_path, {"x.yaml": NOTHING[case]})
    result = lint(str(tmp_path))
    assert not sl000(result, tmp_path / "x.yaml")
    assert good_reported(result, tmp_path)
    # named on the command line it gets a notice (SPEC §1)
    named = lint([str(tmp_path / "x.yaml"), str(tmp_path / "good.yaml")], group_context=False)
    assert not sl000(named, tmp_path / "x.yaml")
    assert len(notices(named, tmp_path / "x.yaml")) == 1, named.notices
    assert good_reported(named, tmp_path)
    assert_one_line(named)


# --------------------------------------------------------------------------------------------
# Wrong types at every place the models read
# --------------------------------------------------------------------------------------------




#: the good manifest of the wrong-type matrix lives in its own namespace, so that a mutated
#: LimitRange (namespace: null → default) can never satisfy its limits
GOOD_NS = GOOD.replace("  name: good\n", "  name: good\n  namespace: good-ns\n")
GOOD_NS_LOC = (11, 17)

CONTAINER = {
    "name": "api", "image": "python:3.12",
    "command": ["gunicorn", "-w", "4", "app:app"], "args": ["--bind", "0.0.0.0:8000"],
    "env": [{"name": "DB_POOL_SIZE", "value": "10"},
            {"name": "DATABASE_URL", "value": "postgresql://u:p@db:5432/app"},
            {"name": "WORKERS", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "workers"}}},
            {"name": "SECRET", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
            {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
    "envFrom": [{"configMapRef": {"name": "cfg"}, "prefix": "APP_"}, {"secretRef": {"name": "s"}}],
    "resources": {"limits": {"cpu": "500m", "memory": "512Mi"}, "requests": {"cpu": "100m", "memory": "128Mi"}},
    "volumeMounts": [{"name": "conf", "mountPath": "/etc/postgresql"}],
}
POD_SPEC = {
    "containers": [CONTAINER],
    "initContainers": [{"name": "init", "image": "busybox", "command": ["sh", "-c", "true"]}],
    "volumes": [{"name": "conf", "configMap": {"name": "pgconf"}},
                {"name": "proj", "projected": {"sources": [{"configMap": {"name": "cfg"}}]}}],
    "topologySpreadConstraints": [{"topologyKey": "kubernetes.io/hostname", "maxSkew": 1}],
    "affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 1, "podAffinityTerm": {"topologyKey": "topology.kubernetes.io/zone"}}]}},
}
META = {"name": "api", "namespace": "prod",
        "labels": {"app": "api", "scalelint.io/ha-required": "true"},
        "annotations": {"scalelint.io/ignore": "SL014"}}
TEMPLATE = {"metadata": {"labels": {"app": "api"}}, "spec": POD_SPEC}

BASES: dict[str, dict] = {
    "Deployment": {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": META,
                   "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "api"}}, "template": TEMPLATE}},
    "StatefulSet": {"apiVersion": "apps/v1", "kind": "StatefulSet",
                    "metadata": {"name": "db", "namespace": "prod"},
                    "spec": {"replicas": 1, "template": {"metadata": {"labels": {"app": "db"}}, "spec": {
                        "containers": [{"name": "postgres", "image": "postgres:16",
                                        "args": ["-c", "max_connections=200"],
                                        "env": [{"name": "POSTGRESQL_MAX_CONNECTIONS", "value": "150"}],
                                        "volumeMounts": [{"name": "conf", "mountPath": "/etc/postgresql"}]}],
                        "volumes": [{"name": "conf", "configMap": {"name": "pgconf"}}]}}}},
    "CronJob": {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "job", "namespace": "prod"},
                "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"parallelism": 2, "template": TEMPLATE}}}},
    "DaemonSet": {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "ds", "namespace": "prod"},
                  "spec": {"template": TEMPLATE}},
    "Pod": {"apiVersion": "v1", "kind": "Pod", "metadata": META, "spec": POD_SPEC},
    "HorizontalPodAutoscaler": {
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "api", "namespace": "prod"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api"},
                 "minReplicas": 2, "maxReplicas": 10}},
    "PodDisruptionBudget": {
        "apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "api", "namespace": "prod"},
        "spec": {"minAvailable": 1, "selector": {
            "matchLabels": {"app": "api"},
            "matchExpressions": [{"key": "app", "operator": "In", "values": ["api"]}]}}},
    "Service": {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "db", "namespace": "prod"},
                "spec": {"selector": {"app": "db"}, "ports": [{"port": 5432}]}},
    "ConfigMap": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "pgconf", "namespace": "prod"},
                  "data": {"postgresql.conf": "max_connections = 300\n", "workers": "4"}},
    "LimitRange": {"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "lr", "namespace": "lr-ns"},
                   "spec": {"limits": [{"type": "Container", "default": {"cpu": "1", "memory": "1Gi"},
                                        "defaultRequest": {"cpu": "100m", "memory": "128Mi"}}]}},
    "List": {"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "prod"},
         "data": {"workers": "4"}}]},
    "Cluster": {"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster",
                "metadata": {"name": "pg", "namespace": "prod"},
                "spec": {"instances": 3, "postgresql": {"parameters": {"max_connections": "200"}}}},
    "postgresql": {"apiVersion": "acid.zalan.do/v1", "kind": "postgresql",
                   "metadata": {"name": "zpg", "namespace": "prod"},
                   "spec": {"postgresql": {"parameters": {"max_connections": "200"}}}},
}

COMPOSE_BASE = {
    "x-common": {"restart": "always"},
    "services": {
        "api": {
            "image": "python:3.12", "build": {"context": "."},
            "command": "gunicorn -w ${WORKERS:-4} app:app", "entrypoint": ["sh", "-c"],
            "environment": {"DB_POOL_SIZE": "10", "DATABASE_URL": "postgresql://u:p@db/app", "WORKERS": None},
            "env_file": [".env.api", {"path": "missing.env", "required": False}],
            "deploy": {"replicas": 3, "mode": "replicated",
                       "resources": {"limits": {"cpus": "0.5", "memory": "512M"},
                                     "reservations": {"cpus": "0.25", "memory": "128M"}},
                       "placement": {"max_replicas_per_node": 1}},
            "scale": 2, "cpus": 1.5, "mem_limit": "1g",
            "labels": ["scalelint.ha-required=true"],
            "x-scalelint": {"ignore": ["SL014"], "ha-required": True},
            "networks": {"default": {"aliases": ["api-alias"]}},
            "container_name": "the-api", "hostname": "api-host",
        },
        "db": {"image": "postgres:16", "command": ["postgres", "-c", "max_connections=200"],
               "environment": ["POSTGRES_PASSWORD=x", "POSTGRESQL_MAX_CONNECTIONS=150"]},
    },
}

HOSTILE_VALUES = [None, "abc", "three", 42, -1, 1.5, True, [], [None], {}, {"a": None}, "", "${", "1e400"]


def _paths(node, prefix=()):
    """Every (path) in a plain tree: dict keys and list indices, depth first."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield prefix + (k,)
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield prefix + (i,)
            yield from _paths(v, prefix + (i,))


def _mutated(base, path, value):
    tree = copy.deepcopy(base)
    node = tree
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return tree


def _mutants(base, values=HOSTILE_VALUES):
    """The base itself replaced whole, and every place in it replaced by every hostile value."""
    for value in values:
        yield ("<root>",), value
    for path in _paths(base):
        for value in values:
            yield path, _mutated(base, path, value)


def _dump(tree) -> str:
    return pyyaml.safe_dump(tree, sort_keys=False, default_flow_style=False)


def _run_all_formatters(r) -> None:
    result = r.result
    fmt_text.render(result)
    jsonfmt.render(result, tool_version="0")
    for g, f in zip(r.groups, r.facts):
        rep = group_report(g, f)
        fmt_report.render_text([rep])
        fmt_report.render_json([rep], "0")
        fmt_report.render_markdown([rep])


def _lint_full(paths: list[str]):
    return lint_paths(paths, group_context=False)


@pytest.mark.parametrize("kind", sorted(BASES))
def test_wrong_types_in_kubernetes_objects(tmp_path: Path, kind: str) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(GOOD_NS)
    mutant = tmp_path / "mutant.yaml"
    count = 0
    for path, tree in _mutants(BASES[kind]):
        # the mutant alone, and next to the rest of a plausible graph (ConfigMaps, Services, HPAs)
        mutant.write_text(_dump(tree))
        try:
            r = _lint_full([str(mutant), str(good)])
            _run_all_formatters(r)
        except Exception as exc:  # pragma: no cover - the message names the mutation
            raise AssertionError(f"{kind}: {'.'.join(map(str, path))} = {tree if path == ('<root>',) else '...'}"
                                 f": {type(exc).__name__}: {exc}") from exc
        assert any(f.code == "SL001" and f.path == str(good) and (f.line, f.column) == GOOD_NS_LOC
                   for f in r.result.findings), (kind, path)
        assert not [f for f in r.result.findings if f.code == "SL000"], (kind, path)
        assert_one_line(r.result)
        count += 1
    assert count > len(HOSTILE_VALUES)


def test_wrong_types_in_kubernetes_graph(tmp_path: Path) -> None:
    """Every object of a connected graph mutated in turn, the rest intact (cross-object analysis)."""
    good = tmp_path / "good.yaml"
    good.write_text(GOOD_NS)
    others = {k: v for k, v in BASES.items() if k not in ("Pod", "DaemonSet", "CronJob")}
    mutant = tmp_path / "graph.yaml"
    for kind, base in others.items():
        rest = [_dump(v) for k, v in others.items() if k != kind]
        for path, tree in _mutants(base, [None, "abc", 42, [], {}]):
            mutant.write_text("---\n".join(rest + [_dump(tree)]))
            try:
                r = _lint_full([str(mutant), str(good)])
                _run_all_formatters(r)
            except Exception as exc:  # pragma: no cover
                raise AssertionError(f"{kind}: {'.'.join(map(str, path))}: {type(exc).__name__}: {exc}") from exc
            assert not [f for f in r.result.findings if f.code == "SL000"], (kind, path)


def test_wrong_types_in_compose(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(GOOD_NS)
    project = tmp_path / "proj"
    project.mkdir()
    (project / ".env.api").write_text("WORKERS=4\n")
    compose = project / "compose.yaml"
    for path, tree in _mutants(COMPOSE_BASE):
        compose.write_text(_dump(tree))
        try:
            r = _lint_full([str(compose), str(good)])
            _run_all_formatters(r)
        except Exception as exc:  # pragma: no cover
            raise AssertionError(f"compose: {'.'.join(map(str, path))}: {type(exc).__name__}: {exc}") from exc
        assert any(f.code == "SL001" and f.path == str(good) for f in r.result.findings), path
        assert not [f for f in r.result.findings if f.code == "SL000"], path
        assert_one_line(r.result)


NAMED_WRONG_TYPES = {
    # the cases the issue names, as a user would write them
    "replicas-three": ("k.yaml", ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec:\n"
                                 "  replicas: three\n  template:\n    spec:\n      containers: [{name: c, image: x}]\n")),
    "containers-null": ("k.yaml", ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec:\n"
                                  "  template:\n    spec:\n      containers: null\n")),
    "resources-abc": ("k.yaml", ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec:\n  template:\n"
                                "    spec:\n      containers: [{name: c, image: x, resources: \"abc\"}]\n")),
    "env-mapping": ("k.yaml", ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec:\n  template:\n"
                              "    spec:\n      containers: [{name: c, image: x, env: {WORKERS: '9'}}]\n")),
    "command-42": ("k.yaml", ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec:\n  template:\n"
                             "    spec:\n      containers: [{name: c, image: x, command: 42}]\n")),
    "limits-list": ("k.yaml", ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec:\n  template:\n"
                              "    spec:\n      containers: [{name: c, image: x, resources: {limits: []}}]\n")),
    "metadata-list": ("k.yaml", ("apiVersion: apps/v1\nkind: Deployment\nmetadata: [a, b]\nspec:\n  template:\n"
                                "    spec:\n      containers: [{name: c, image: x}]\n")),
    "cronjob-jobtemplate-null": ("k.yaml", ("apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: a}\n"
                                           "spec: {jobTemplate: null}\n")),
    "hpa-max-abc": ("k.yaml", ("apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: a}\n"
                              "spec: {scaleTargetRef: 5, minReplicas: [], maxReplicas: abc}\n")),
    "pdb-selector-str": ("k.yaml", ("apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: a}\n"
                                   "spec: {selector: {matchExpressions: [5, {key: [], operator: {}}]}}\n")),
    "service-selector-list": ("k.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {selector: [a]}\n"),
    "configmap-data-list": ("k.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: [1, 2]\n"),
    "configmap-int-keys": ("k.yaml", ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"
                                     "data: {1: 2, true: x, null: y, 1.5: z}\n")),
    "limitrange-limits-map": ("k.yaml", ("apiVersion: v1\nkind: LimitRange\nmetadata: {name: a}\n"
                                        "spec: {limits: {type: Container}}\n")),
    "kind-int": ("k.yaml", "apiVersion: v1\nkind: 5\nmetadata: {name: a}\n"),
    "list-items-null": ("k.yaml", "apiVersion: v1\nkind: List\nitems: null\n"),
    "list-items-scalars": ("k.yaml", "apiVersion: v1\nkind: List\nitems: [1, null, [], {kind: x}]\n"),
    "deploy-3": ("compose.yaml", "services:\n  web:\n    image: x\n    deploy: 3\n"),
    "environment-5": ("compose.yaml", "services:\n  web:\n    image: x\n    environment: 5\n"),
    "command-mapping": ("compose.yaml", "services:\n  web:\n    image: x\n    command: {}\n"),
    "services-list": ("compose.yaml", "services: []\n"),
    "services-null": ("compose.yaml", "services:\n"),
    "service-null": ("compose.yaml", "services:\n  web:\n"),
    "compose-top-list": ("compose.yaml", "- services\n"),
    "compose-int-service": ("compose.yaml", "services:\n  1: {image: x}\n  true: {image: y}\n"),
    "compose-env-list-junk": ("compose.yaml", "services:\n  web:\n    image: x\n    environment: [1, null, [a], =x]\n"),
    "compose-x-scalelint-junk": ("compose.yaml", ("services:\n  web:\n    image: x\n"
                                                 "    x-scalelint: {ignore: {a: 1}, ha-required: [1]}\n")),
}


#: the one-line notice each wrong type gets: (line, column of the value, start of the message)
WRONG_TYPE_NOTICES = {
    "replicas-three": (5, 13, "wrong type: spec.replicas is a string ('three'), expected a whole number"),
    "containers-null": (7, 19, "wrong type: spec.template.spec.containers is null"),
    "resources-abc": (7, 51, "wrong type: spec.template.spec.containers[0].resources is a string ('abc')"),
    "env-mapping": (7, 45, "wrong type: spec.template.spec.containers[0].env is a mapping, expected a list"),
    "command-42": (7, 49, "wrong type: spec.template.spec.containers[0].command is a number (42)"),
    "limits-list": (7, 60, "wrong type: spec.template.spec.containers[0].resources.limits is a list"),
    "metadata-list": (3, 11, "wrong type: metadata is a list, expected a mapping"),
    "cronjob-jobtemplate-null": (4, 21, "wrong type: spec.jobTemplate is null"),
    "hpa-max-abc": (4, 57, "wrong type: spec.maxReplicas is a string ('abc')"),
    "pdb-selector-str": (4, 38, "wrong type: spec.selector.matchExpressions[0] is a number (5)"),
    "service-selector-list": (4, 18, "wrong type: spec.selector is a list"),
    "configmap-data-list": (4, 7, "wrong type: data is a list"),
    "limitrange-limits-map": (4, 16, "wrong type: spec.limits is a mapping, expected a list"),
    "list-items-null": (3, 8, "wrong type: items is null"),
    "list-items-scalars": (3, 9, "wrong type: items[0] is a number (1)"),
    "deploy-3": (4, 13, "wrong type: services.web.deploy is a number (3), expected a mapping"),
    "environment-5": (4, 18, "wrong type: services.web.environment is a number (5)"),
    "command-mapping": (4, 14, "wrong type: services.web.command is a mapping"),
    "services-list": (1, 11, "wrong type: services is a list, expected a mapping"),
    "services-null": (1, 10, "wrong type: services is null"),
    "service-null": (2, 7, "wrong type: services.web is null"),
    "compose-env-list-junk": (4, 28, "wrong type: services.web.environment[2] is a list"),
    "compose-x-scalelint-junk": (4, 27, "wrong type: services.web.x-scalelint.ignore is a mapping"),
}


@pytest.mark.parametrize("case", sorted(NAMED_WRONG_TYPES))
def test_named_wrong_types(tmp_path: Path, case: str) -> None:
    name, content = NAMED_WRONG_TYPES[case]
    write(tmp_path, {name: content})
    r = _lint_full([str(tmp_path)])
    _run_all_formatters(r)
    assert not sl000(r.result, tmp_path / name), r.result.findings
    assert good_reported(r.result, tmp_path)
    assert_one_line(r.result)
    if case in WRONG_TYPE_NOTICES:
        line, col, start = WRONG_TYPE_NOTICES[case]
        assert [n for n in notices(r.result, tmp_path / name)
                if (n.line, n.column) == (line, col) and n.message.startswith(start)], r.result.notices
    proc = cli(str(tmp_path))
    assert_clean_exit(proc)
    if case in WRONG_TYPE_NOTICES:
        assert f"{name}:{line}:{col}: notice: {start}".encode() in proc.stderr, proc.stderr


def test_right_types_get_no_wrong_type_notice(tmp_path: Path) -> None:
    """The examples and a plausible graph of every kind the models read: no false alarm."""
    good = tmp_path / "graph.yaml"
    good.write_text("---\n".join(_dump(v) for v in BASES.values()))
    compose = tmp_path / "p" / "compose.yaml"
    compose.parent.mkdir()
    compose.write_text(_dump(COMPOSE_BASE))
    examples = Path(__file__).resolve().parents[1] / "examples"
    r = lint([str(tmp_path), str(examples)])
    assert not [n for n in r.notices if n.message.startswith("wrong type")], r.notices


# --------------------------------------------------------------------------------------------
# Tags: nothing is constructed or executed
# --------------------------------------------------------------------------------------------



def _python_tag_payloads(marker: str) -> dict[str, str]:
    cmd = f"touch {marker}"
    return {
        "apply": f'apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: p}}\ndata:\n'
                 f'  x: !!python/object/apply:os.system ["{cmd}"]\n',
        "apply-top": f'!!python/object/apply:os.system ["{cmd}"]\n',
        "new": f'apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: p}}\ndata:\n'
               f'  x: !!python/object/new:subprocess.check_output [["sh", "-c", "{cmd}"]]\n',
        "name": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: p}\ndata:\n  x: !!python/name:os.system\n",
        "module": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: p}\ndata:\n  x: !!python/module:os\n",
        "compose-command": f'services:\n  web:\n    image: x\n'
                           f'    command: !!python/object/apply:os.system ["{cmd}"]\n',
        "key": f'apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: p}}\ndata:\n'
               f'  ? !!python/object/apply:os.system ["{cmd}"]\n  : v\n',
    }


@pytest.mark.parametrize("case", ["apply", "apply-top", "new", "name", "module", "compose-command", "key"])
def test_python_tags_are_not_executed(tmp_path: Path, case: str) -> None:
    marker = Path(f"/tmp/pwned-{uuid.uuid4().hex}")
    content = _python_tag_payloads(str(marker))[case]
    name = "compose.yaml" if case.startswith("compose") else "tag.yaml"
    write(tmp_path, {name: content})
    r = _lint_full([str(tmp_path)])
    _run_all_formatters(r)
    assert good_reported(r.result, tmp_path)
    proc = cli(str(tmp_path))
    assert_clean_exit(proc)
    assert not marker.exists(), "a !!python tag was executed"


UNKNOWN_TAGS = {
    "cfn": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: !Ref Name}\ndata: !GetAtt [a, b]\n",
    "custom-on-map": "apiVersion: v1\nkind: !Kind ConfigMap\nmetadata: !meta {name: x}\n",
    "standard-odd": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  a: !!binary aGVsbG8=\n"
                    "  b: !!timestamp 2001-12-14\n  c: !!set {x, y}\n  d: !!omap [{a: 1}]\n  e: !!str 5\n"
                    "  f: !!int abc\n  g: !!float x\n  h: !!bool maybe\n  i: !!null notnull\n",
    "tag-directive": "%TAG !e! tag:example.com,2000:\n---\napiVersion: v1\nkind: ConfigMap\n"
                     "metadata: {name: !e!thing x}\n",
    "verbatim": "apiVersion: !<tag:yaml.org,2002:python/none> v1\nkind: ConfigMap\nmetadata: {name: x}\n",
    "compose-reset": "services:\n  web:\n    image: x\n    command: !reset null\n    environment: !override {A: 1}\n"
                     "    deploy: !reset {}\n",
    "yaml-directive": "%YAML 1.1\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
}


@pytest.mark.parametrize("case", sorted(UNKNOWN_TAGS))
def test_unknown_tags(tmp_path: Path, case: str) -> None:
    name = "compose.yaml" if case.startswith("compose") else "tag.yaml"
    write(tmp_path, {name: UNKNOWN_TAGS[case]})
    r = _lint_full([str(tmp_path)])
    _run_all_formatters(r)
    assert good_reported(r.result, tmp_path)
    assert_one_line(r.result)
    for f in sl000(r.result, tmp_path / name):  # refused is fine, with a position
        assert f.line >= 1 and f.column >= 1


# --------------------------------------------------------------------------------------------
# Alias bombs (billion laughs): refused, not expanded
# --------------------------------------------------------------------------------------------

def _bomb(indent: str, levels: int = 9, width: int = 9) -> str:
    lols = ", ".join(['"lol"'] * width)
    lines = [f"{indent}a0: &a0 [{lols}]"]
    for i in range(1, levels):
        refs = ", ".join([f"*a{i - 1}"] * width)
        lines.append(f"{indent}a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + "\n"


BOMBS = {
    "configmap-data": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n" + _bomb("  "),
    "deployment-env": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: bomb}\nx-bomb:\n" + _bomb("  ")
                      + "spec:\n  template:\n    spec:\n      containers:\n        - name: c\n          image: x\n"
                        "          command: *a8\n          env: *a8\n",
    "compose-command": "x-bomb:\n" + _bomb("  ") + "services:\n  web:\n    image: x\n    command: *a8\n",
    "compose-environment": "x-bomb:\n" + _bomb("  ") + "services:\n  web:\n    image: x\n"
                           "    environment: {X: *a8}\n",
    "merge-keys": "x-a: &a {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9}\n"
                  + "".join(f"x-{n}: &{n} {{<<: [{', '.join(['*' + p] * 1)}], {n}{k}: 1}}\n"
                            for k, (n, p) in enumerate(zip("bcdefghij", "abcdefghi"))) + "services: {}\n",
}


@pytest.mark.parametrize("case", sorted(BOMBS))
def test_alias_bombs(tmp_path: Path, case: str) -> None:
    name = "compose.yaml" if case.startswith(("compose", "merge")) else "bomb.yaml"
    write(tmp_path, {name: BOMBS[case]})
    proc = cli(str(tmp_path), timeout=60)
    assert_clean_exit(proc)
    r = _lint_full([str(tmp_path)])
    _run_all_formatters(r)
    assert good_reported(r.result, tmp_path)
    assert_one_line(r.result)
    if case != "merge-keys":
        bad = sl000(r.result, tmp_path / name)
        assert len(bad) == 1 and "alias" in bad[0].message, r.result.findings
        assert bad[0].line > 1


def test_alias_fan_out_below_the_limit_is_linted(tmp_path: Path) -> None:
    """Four levels of nine (6,561 leaves), used three times, is under the alias limit: it is linted."""
    text = ("x-bomb:\n" + _bomb("  ", levels=4) + "services:\n  web:\n    image: x\n    command: *a3\n"
            "    environment: {X: *a3}\n    labels: *a3\n")
    write(tmp_path, {"compose.yaml": text})
    r = _lint_full([str(tmp_path)])
    _run_all_formatters(r)
    assert good_reported(r.result, tmp_path)
    assert any(f.code == "SL001" and f.path.endswith("compose.yaml") for f in r.result.findings)


# --------------------------------------------------------------------------------------------
# Deep nesting, large files, long lines
# --------------------------------------------------------------------------------------------

DEEP = {
    "flow-seq-10k": "a: " + "[" * 10_000 + "]" * 10_000 + "\n",
    "flow-map-10k": "a: " + "{a: " * 10_000 + "1" + "}" * 10_000 + "\n",
    "block-seq-10k": "a:\n  " + "- " * 10_000 + "x\n",
    "block-map-3k": "".join(" " * i + "a:\n" for i in range(3000)) + " " * 3000 + "b: 1\n",
    "flow-seq-100k": "a: " + "[" * 100_000 + "]" * 100_000 + "\n",
    "flow-unclosed-1m": "[" * 1_000_000,
    "block-seq-100k": "- " * 100_000 + "x\n",
    "in-manifest": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata:\n  a: "
                   + "[" * 10_000 + "]" * 10_000 + "\n",
}


@pytest.mark.parametrize("case", sorted(DEEP))
def test_deep_nesting(tmp_path: Path, case: str) -> None:
    write(tmp_path, {"deep.yaml": DEEP[case]})
    proc = cli(str(tmp_path), timeout=120)  # a stack overflow in C would kill the process: SIGSEGV
    assert_clean_exit(proc)
    assert b"deep.yaml:" in proc.stdout and b"SL000" in proc.stdout, proc.stdout[-2000:]
    r = _lint_full([str(tmp_path)])
    bad = sl000(r.result, tmp_path / "deep.yaml")
    assert len(bad) == 1, r.result.findings
    assert bad[0].line >= 1 and bad[0].column > 1
    assert good_reported(r.result, tmp_path)


def test_nesting_under_the_limit_is_fine(tmp_path: Path) -> None:
    write(tmp_path, {"deep.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d}\ndata:\n  a: "
                                  + "[" * 200 + "]" * 200 + "\n"})
    r = _lint_full([str(tmp_path)])
    assert not sl000(r.result, tmp_path / "deep.yaml")
    assert good_reported(r.result, tmp_path)


# --------------------------------------------------------------------------------------------
# Size: a 40 MB file of valid manifests, a 5 MB single line, long lists merged by compose
# --------------------------------------------------------------------------------------------


BIG_DOC = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{i}
  namespace: ns-{n}
  labels: {{app: app-{i}}}
spec:
  replicas: 2
  template:
    metadata:
      labels:
        app: app-{i}
    spec:
      containers:
        - name: web
          image: "registry.example.com/app:{i}"
          command: ["gunicorn", "-w", "4", "app:app"]
          env:
            - name: DB_POOL_SIZE
              value: "5"
          resources:
            limits: {{cpu: "1", memory: 1Gi}}
            requests: {{cpu: 100m, memory: 256Mi}}
---
"""

#: measured bounds of the hostile cases, for the record (printed with -s / in the failure message)
MEASURED: dict[str, str] = {}


def _measured_cli(args: list[str], timeout: float) -> tuple[subprocess.CompletedProcess, float, int]:
    """Run the CLI in a child of a fresh interpreter: its wall time and peak RSS (KiB) are its own."""
    probe = (
        "import json, resource, subprocess, sys, time\n"
        "t = time.monotonic()\n"
        "p = subprocess.run(sys.argv[1:], check=False, capture_output=True)\n"
        "wall = time.monotonic() - t\n"
        "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "sys.stdout.buffer.write(json.dumps([p.returncode, wall, rss]).encode() + b'\\n' + p.stdout)\n"
        "sys.stderr.buffer.write(p.stderr)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "SCALELINT_DEBUG")}
    proc = subprocess.run([sys.executable, "-c", probe, sys.executable, "-m", "scalelint", "check", "--isolated",
                           *args], check=False, capture_output=True, timeout=timeout, env=env)
    head, _, out = proc.stdout.partition(b"\n")
    rc, wall, rss = json.loads(head)
    return subprocess.CompletedProcess(proc.args, rc, out, proc.stderr), wall, rss


def test_forty_megabytes_of_manifests(tmp_path: Path) -> None:
    write(tmp_path, {})
    big = tmp_path / "big.yaml"
    with open(big, "w") as fh:
        size = i = 0
        while size < 40 * 1024 * 1024:
            doc = BIG_DOC.format(i=i, n=i % 50)
            fh.write(doc)
            size += len(doc)
            i += 1
    proc, wall, rss = _measured_cli(["--format", "json", "--only-given", str(big), str(tmp_path / "good.yaml")],
                                    timeout=400)
    MEASURED["40 MB file"] = f"{wall:.1f} s, {rss // 1024} MB peak RSS, {i} objects"
    print(f"\n40 MB file ({i} objects): {wall:.1f} s, {rss // 1024} MB peak RSS")
    assert_clean_exit(proc)
    out = json.loads(proc.stdout)
    assert out["summary"]["objects"] == i + 1
    assert not [f for f in out["findings"] if f["code"] == "SL000"]
    assert any(f["code"] == "SL001" and f["path"].endswith("good.yaml") and (f["line"], f["column"]) == GOOD_LOC
               for f in out["findings"])
    assert wall < 300, MEASURED
    assert rss < 6 * 1024 * 1024, MEASURED  # KiB


def test_over_the_size_limit_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from scalelint.load import read as loader

    monkeypatch.setattr(loader, "MAX_FILE_BYTES", 1000)
    write(tmp_path, {"big.yaml": "a: " + "x" * 2000 + "\n"})
    r = lint(str(tmp_path))
    bad = sl000(r, tmp_path / "big.yaml")
    assert len(bad) == 1 and "limit" in bad[0].message
    assert good_reported(r, tmp_path)


LONG_LINES = {
    # a 5 MB value on one line
    "long-value": lambda: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: long}\ndata:\n  big: \""
                          + "x" * (5 * 1024 * 1024) + "\"\n",
    # a whole manifest stream in flow style on one 5 MB line
    "flow-line": lambda: "{apiVersion: v1, kind: ConfigMap, metadata: {name: long}, data: {"
                         + ", ".join(f"k{i}: v{i}" for i in range(400_000)) + "}}\n",
    # 5 MB of plain text, no newline at all
    "no-newline": lambda: "x" * (5 * 1024 * 1024),
    # 5 MB single line command
    "long-command": lambda: "services:\n  web:\n    image: x\n    command: gunicorn -w 4 "
                            + "--opt " * (900_000) + "\n",
}


@pytest.mark.parametrize("case", sorted(LONG_LINES))
def test_five_megabyte_line(tmp_path: Path, case: str) -> None:
    name = "compose.yaml" if case == "long-command" else "long.yaml"
    write(tmp_path, {name: LONG_LINES[case]()})
    proc, wall, rss = _measured_cli([str(tmp_path)], timeout=120)
    MEASURED[f"5 MB line ({case})"] = f"{wall:.1f} s, {rss // 1024} MB"
    print(f"\n5 MB line ({case}): {wall:.1f} s, {rss // 1024} MB peak RSS")
    assert_clean_exit(proc)
    assert b"good.yaml:10:17: SL001" in proc.stdout
    r = lint(str(tmp_path))
    assert not sl000(r, tmp_path / name), r.findings
    assert good_reported(r, tmp_path)


def test_long_lists_merged_by_an_override(tmp_path: Path) -> None:
    """compose.override.yaml appends list items not already there: linear, not quadratic."""
    items = "".join(f"      - /data/v{i}:/v{i}\n" for i in range(100_000))
    over = "".join(f"      - /data/w{i}:/w{i}\n" for i in range(100_000))
    write(tmp_path, {"compose.yaml": "services:\n  web:\n    image: x\n    volumes:\n" + items,
                     "compose.override.yaml": "services:\n  web:\n    volumes:\n" + over})
    proc = cli(str(tmp_path), timeout=60)
    assert_clean_exit(proc)
    assert b"good.yaml:10:17: SL001" in proc.stdout


# --------------------------------------------------------------------------------------------
# Line endings and byte order marks
# --------------------------------------------------------------------------------------------

def test_crlf_positions_match_lf(tmp_path: Path) -> None:
    (tmp_path / "lf").mkdir()
    (tmp_path / "crlf").mkdir()
    (tmp_path / "lf" / "good.yaml").write_bytes(GOOD.encode())
    (tmp_path / "crlf" / "good.yaml").write_bytes(GOOD.replace("\n", "\r\n").encode())
    compose = "services:\r\n  web:\r\n    image: x\r\n    command: gunicorn -w 12 app:app\r\n"
    (tmp_path / "crlf" / "compose.yaml").write_bytes(compose.encode())
    (tmp_path / "lf" / "compose.yaml").write_bytes(compose.replace("\r\n", "\n").encode())
    a = lint(str(tmp_path / "lf"))
    b = lint(str(tmp_path / "crlf"))
    key = [(os.path.basename(f.path), f.line, f.column, f.code, f.message) for f in a.findings]
    assert key == [(os.path.basename(f.path), f.line, f.column, f.code, f.message) for f in b.findings]
    assert any(k[3] == "SL002" for k in key)
    assert_one_line(b)


def test_lone_cr_line_endings(tmp_path: Path) -> None:
    write(tmp_path, {"cr.yaml": GOOD.replace("\n", "\r").replace("name: good", "name: cr")})
    r = lint(str(tmp_path))
    assert good_reported(r, tmp_path)
    assert_one_line(r)


BOMS = {
    "utf8-bom": b"\xef\xbb\xbf" + GOOD.replace("good", "bom").encode(),
    "utf16-le": b"\xff\xfe" + GOOD.replace("good", "bom").encode("utf-16-le"),
    "utf16-be": b"\xfe\xff" + GOOD.replace("good", "bom").encode("utf-16-be"),
    "bom-in-middle": (GOOD.replace("good", "bom") + "---\n\ufeffapiVersion: v1\nkind: ConfigMap\n"
                      "metadata: {name: x}\n").encode(),
    "bom-crlf": b"\xef\xbb\xbf" + GOOD.replace("good", "bom").replace("\n", "\r\n").encode(),
    "utf16-odd-bytes": b"\xff\xfe" + GOOD.encode("utf-16-le") + b"\x00",
    "utf32": b"\xff\xfe\x00\x00" + GOOD.encode("utf-32-le"),
}


@pytest.mark.parametrize("case", sorted(BOMS))
def test_byte_order_marks(tmp_path: Path, case: str) -> None:
    write(tmp_path, {"bom.yaml": BOMS[case]})
    r = lint(str(tmp_path))
    assert good_reported(r, tmp_path)
    assert_one_line(r)
    bad = sl000(r, tmp_path / "bom.yaml")
    if case in ("utf8-bom", "utf16-le", "utf16-be", "bom-crlf"):
        # linted like the same file without a BOM: SL001 at the container name, same line and column
        assert not bad, r.findings
        assert any(f.code == "SL001" and f.path == str(tmp_path / "bom.yaml") and (f.line, f.column) == GOOD_LOC
                   for f in r.findings), r.findings
    elif case in ("utf16-odd-bytes", "utf32"):
        assert len(bad) == 1
    for f in bad:
        assert f.line >= 1 and f.column >= 1


# --------------------------------------------------------------------------------------------
# The file system: symlink loops, FIFOs, devices, directories named *.yaml, unreadable files
# --------------------------------------------------------------------------------------------

def test_symlink_loops(tmp_path: Path) -> None:
    write(tmp_path, {})
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "loop").symlink_to(tmp_path, target_is_directory=True)  # a directory cycle
    (sub / "self").symlink_to(sub, target_is_directory=True)
    (sub / "dirlink.yaml").symlink_to(sub, target_is_directory=True)
    (tmp_path / "a.yaml").symlink_to(tmp_path / "b.yaml")  # a file-link cycle
    (tmp_path / "b.yaml").symlink_to(tmp_path / "a.yaml")
    (tmp_path / "dangling.yaml").symlink_to(tmp_path / "nowhere.yaml")
    proc = cli(str(tmp_path), timeout=60)
    assert_clean_exit(proc)
    r = lint(str(tmp_path))
    assert good_reported(r, tmp_path)
    for name in ("a.yaml", "b.yaml", "dangling.yaml"):
        bad = sl000(r, tmp_path / name)
        assert len(bad) == 1 and "cannot read file" in bad[0].message, (name, r.findings)
    assert len(sl000(r, sub / "dirlink.yaml")) == 1
    rel = [os.path.relpath(f.path, tmp_path) for f in r.findings]
    assert all(not p.startswith(("sub/loop/", "sub/self/")) for p in rel), rel
    assert_one_line(r)
    # named on the command line, and through the loop
    named = lint([str(tmp_path / "a.yaml"), str(sub / "loop" / "good.yaml"), str(sub / "loop")])
    assert len(sl000(named, tmp_path / "a.yaml")) == 1
    assert any(f.code == "SL001" for f in named.findings)


def test_fifo_and_device_named_yaml(tmp_path: Path) -> None:
    write(tmp_path, {})
    os.mkfifo(tmp_path / "fifo.yaml")
    (tmp_path / "zero.yaml").symlink_to("/dev/zero")
    (tmp_path / "random.yml").symlink_to("/dev/urandom")
    (tmp_path / "zero.json").symlink_to("/dev/zero")
    # a directory walk, the files named explicitly, and the group context of a named manifest
    named = [str(tmp_path / "fifo.yaml"), str(tmp_path / "zero.yaml"), str(tmp_path / "good.yaml")]
    for args in ([str(tmp_path)], named,
                 [str(tmp_path / "good.yaml")]):
        proc = cli(*args, timeout=30)  # a FIFO opened for reading would block here forever
        assert_clean_exit(proc)
        assert b"good.yaml:10:17: SL001" in proc.stdout
    r = lint(str(tmp_path))
    assert good_reported(r, tmp_path)
    for name in ("fifo.yaml", "zero.yaml", "random.yml", "zero.json"):
        bad = sl000(r, tmp_path / name)
        assert len(bad) == 1 and "not a regular file" in bad[0].message, (name, r.findings)
    assert_one_line(r)


def test_env_file_that_is_a_fifo_or_device(tmp_path: Path) -> None:
    """A compose env_file (or --env-file) naming a FIFO or /dev/zero must not block or read forever."""
    write(tmp_path, {"compose.yaml": "services:\n  web:\n    image: x\n    env_file: [fifo.env, zero.env]\n"})
    os.mkfifo(tmp_path / "fifo.env")
    (tmp_path / "zero.env").symlink_to("/dev/zero")
    proc = cli(str(tmp_path), timeout=30)
    assert_clean_exit(proc)
    assert b"good.yaml:10:17: SL001" in proc.stdout
    assert b"fifo.env cannot be read" in proc.stderr
    proc = cli("--env-file", str(tmp_path / "fifo.env"), str(tmp_path), timeout=30)
    assert_clean_exit(proc)


def test_stdin_that_never_ends(tmp_path: Path) -> None:
    with open("/dev/zero", "rb") as zero:
        env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "SCALELINT_DEBUG")}
        proc = subprocess.run([sys.executable, "-m", "scalelint", "check", "--isolated", "-"], stdin=zero,
                              check=False, capture_output=True, timeout=60, env=env)
    assert_clean_exit(proc)
    assert b"-:1:1: SL000" in proc.stdout


def test_directory_named_yaml(tmp_path: Path) -> None:
    write(tmp_path, {"x.yaml/inner.yaml": GOOD.replace("name: good", "name: inner"), "y.yml/.keep": ""})
    proc = cli(str(tmp_path), timeout=30)
    assert_clean_exit(proc)
    r = lint(str(tmp_path))
    assert good_reported(r, tmp_path)
    assert not [f for f in r.findings if f.code == "SL000"]
    assert any(f.path == str(tmp_path / "x.yaml" / "inner.yaml") for f in r.findings)
    named = lint([str(tmp_path / "x.yaml"), str(tmp_path / "y.yml"), str(tmp_path / "good.yaml")])
    assert not [f for f in named.findings if f.code == "SL000"]
    assert good_reported(named, tmp_path)


@pytest.mark.parametrize("where", ["open", "stat"])
def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    """Tests run as root (chmod 000 stops nothing): the refusal is simulated where the loader asks."""
    import builtins

    write(tmp_path, {"secret.yaml": GOOD.replace("name: good", "name: secret")})
    target = str(tmp_path / "secret.yaml")
    if where == "open":
        real_open = builtins.open

        def fake_open(file, *args, **kwargs):
            if str(file) == target:
                raise PermissionError(13, "Permission denied", str(file))
            return real_open(file, *args, **kwargs)

        monkeypatch.setattr(builtins, "open", fake_open)
    else:
        real_stat = os.stat

        def fake_stat(path, *args, **kwargs):
            if os.fspath(path) == target:
                raise PermissionError(13, "Permission denied", os.fspath(path))
            return real_stat(path, *args, **kwargs)

        monkeypatch.setattr(os, "stat", fake_stat)
    for paths in ([str(tmp_path)], [target, str(tmp_path / "good.yaml")]):
        r = lint(paths)
        bad = sl000(r, tmp_path / "secret.yaml")
        assert len(bad) == 1, r.findings
        assert bad[0].message == "cannot read file: Permission denied"
        assert "\n" not in bad[0].message
        assert good_reported(r, tmp_path)


def test_unreadable_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"locked/x.yaml": GOOD})
    real_scandir = os.scandir
    locked = str(tmp_path / "locked")

    def fake_scandir(path="."):
        if os.fspath(path) == locked:
            raise PermissionError(13, "Permission denied", locked)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", fake_scandir)
    r = lint(str(tmp_path))
    assert good_reported(r, tmp_path)
    assert [n for n in r.notices if n.path == locked and "cannot read directory" in n.message]


# --------------------------------------------------------------------------------------------
# Interpolation that cannot succeed
# --------------------------------------------------------------------------------------------

INTERPOLATION = {
    "unterminated": ("services:\n  web:\n    image: x\n    command: \"gunicorn -w ${WORKERS\"\n", (4, 14)),
    "unterminated-env": ("services:\n  web:\n    image: x\n    environment:\n      A: ${\n", (5, 10)),
    "required-colon": ("services:\n  web:\n    image: x\n    environment:\n      A: ${NOPE:?set NOPE please}\n",
                       (5, 10)),
    "required": ("services:\n  web:\n    image: x\n    command: echo ${NOPE?missing}\n", (4, 14)),
    "nested-bad": ("services:\n  web:\n    image: x\n    command: echo ${A:-${B:-${C\n", (4, 14)),
    "bad-name": ("services:\n  web:\n    image: x\n    command: echo ${1abc} ${-} ${:-x}\n", (4, 14)),
    "in-key": ("services:\n  web:\n    image: x\n    environment:\n      ${K: v\n", None),
    "dollar-end": ("services:\n  web:\n    image: x\n    command: echo $\n", None),
}


@pytest.mark.parametrize("case", sorted(INTERPOLATION))
def test_failing_interpolation(tmp_path: Path, case: str) -> None:
    text, pos = INTERPOLATION[case]
    write(tmp_path, {"compose.yaml": text})
    proc = cli(str(tmp_path), timeout=30)
    assert_clean_exit(proc)
    r = _lint_full([str(tmp_path)])
    _run_all_formatters(r)
    res = r.result
    assert good_reported(res, tmp_path)
    assert any(f.code == "SL001" and f.path == str(tmp_path / "compose.yaml") for f in res.findings)
    assert_one_line(res)
    mine = notices(res, tmp_path / "compose.yaml")
    if pos is not None:
        assert [n for n in mine if n.message.startswith("interpolation:") and (n.line, n.column) == pos], mine


# --------------------------------------------------------------------------------------------
# Everything at once through the command line: exit 0 or 1, never 2, never a traceback
# --------------------------------------------------------------------------------------------

def test_everything_at_once_through_the_cli(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {}
    for case, (name, content, _) in BROKEN.items():
        files[f"broken/{case}/{name}"] = content
    for case, content in NOTHING.items():
        files[f"nothing/{case}.yaml"] = content
    for case, (name, content) in NAMED_WRONG_TYPES.items():
        files[f"types/{case}/{name}"] = content
    for case, content in UNKNOWN_TAGS.items():
        files[f"tags/{case}/{'compose.yaml' if case.startswith('compose') else 't.yaml'}"] = content
    for case, content in BOMBS.items():
        files[f"bombs/{case}/{'compose.yaml' if case.startswith(('compose', 'merge')) else 'b.yaml'}"] = content
    for case, content in DEEP.items():
        if "1m" not in case:
            files[f"deep/{case}.yaml"] = content
    for case, content in BOMS.items():
        files[f"boms/{case}.yaml"] = content
    for case, (content, _) in INTERPOLATION.items():
        files[f"interp/{case}/compose.yaml"] = content
    write(tmp_path, files)
    os.mkfifo(tmp_path / "fifo.yaml")
    (tmp_path / "zero.yaml").symlink_to("/dev/zero")
    (tmp_path / "loop").symlink_to(tmp_path, target_is_directory=True)
    for fmt in ("text", "json", "sarif", "github", "gitlab"):
        for jobs in ("1", "2"):
            proc = cli("--format", fmt, "--jobs", jobs, str(tmp_path), timeout=120)
            assert_clean_exit(proc)
            assert proc.returncode == 1
    for fmt in ("text", "json", "markdown"):
        env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "SCALELINT_DEBUG")}
        proc = subprocess.run([sys.executable, "-m", "scalelint", "report", "--isolated", "--format", fmt,
                               str(tmp_path)], check=False, capture_output=True, timeout=120, env=env)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert b"Traceback" not in proc.stderr


# --------------------------------------------------------------------------------------------
# Beyond the list: file names that are not UTF-8 (or hold a newline), on a strict stdout
# --------------------------------------------------------------------------------------------

def test_file_names_that_are_not_utf8(tmp_path: Path) -> None:
    write(tmp_path, {})
    os.makedirs(os.fsencode(tmp_path) + b"/d\xe9j\xe0", exist_ok=True)
    for raw in (b"\xff\xfe.yaml", b"d\xe9j\xe0/caf\xe9.yml", b"new\nline.yaml", b"colon:1:2.yaml"):
        with open(os.fsencode(tmp_path) + b"/" + raw, "w") as fh:
            fh.write(GOOD.replace("name: good", f"name: n{len(raw)}"))
    out = tmp_path.parent / f"{tmp_path.name}-out.json"
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "SCALELINT_DEBUG")}
    env["PYTHONIOENCODING"] = "utf-8:strict"  # what a UTF-8 locale gives: no surrogate escapes on stdout
    for args in (["--format", "text"], ["--format", "json"], ["--format", "sarif"], ["--format", "github"],
                 ["--format", "gitlab"], ["--output", str(out)]):
        proc = subprocess.run([sys.executable, "-m", "scalelint", "check", "--isolated", *args, str(tmp_path)],
                              check=False, capture_output=True, timeout=60, env=env)
        assert_clean_exit(proc)
        assert b"good.yaml:10:17: SL001" in proc.stdout or args[0] != "--format" or args[1] != "text"
        if args[-1] in ("json", "sarif", "gitlab"):
            json.loads(proc.stdout.decode("utf-8"))  # valid UTF-8, valid JSON
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert len({f["path"] for f in doc["findings"] if f["code"] == "SL001"}) == 5
    for fmt in ("text", "json", "markdown"):
        proc = subprocess.run([sys.executable, "-m", "scalelint", "report", "--isolated", "--format", fmt,
                               str(tmp_path)], check=False, capture_output=True, timeout=60, env=env)
        assert proc.returncode == 0 and b"Traceback" not in proc.stderr, proc.stderr
    r = lint(str(tmp_path))
    _ = fmt_text.render(r), jsonfmt.render(r, tool_version="0")
    assert good_reported(r, tmp_path)
