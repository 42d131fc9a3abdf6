"""Property tests: structurally plausible compose files and Kubernetes objects (real key names) with
random types and values in random places go through the whole pipeline and every formatter
without an exception escaping (SPEC §6)."""
from __future__ import annotations

import json
import os
import tempfile

import yaml as pyyaml
from conftest import lint_paths
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from scalelint.analyze.capacity import group_report
from scalelint.findings import RunResult
from scalelint.load import parse as loader
from scalelint.output import github, gitlab, jsonfmt, sarif, text
from scalelint.output import report as fmt_report
from scalelint.pipeline import Run

#: SCALELINT_PROPERTY_EXAMPLES=2000 for a longer hunt; 60 keeps the suite fast
SETTINGS = settings(max_examples=int(os.environ.get("SCALELINT_PROPERTY_EXAMPLES", "60")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

# ------------------------------------------------------------------------------------------ values

#: strings that mean something to some stage: numbers, quantities, commands, URLs, interpolation
MEANINGFUL = [
    "", "0", "1", "-1", "3", "three", "1e400", "nan", "0x10", "500m", "1.5", "512Mi", "1Gi", "2G", "abc",
    "gunicorn -w 12 app:app", "uvicorn app:app --workers 9", "sh -c 'exec gunicorn --workers=$(nproc)'",
    "celery -A x worker -c 16", "postgresql://u:p@db:5432/app?pool_size=30", "mysql://db/app",
    "postgres", "postgres:16", "bitnami/postgresql", "-c", "max_connections=20", "--max_connections=5",
    "${WORKERS}", "${WORKERS:-4}", "${NOPE:?boom}", "${", "$$", "$(WORKERS)", "{{ .Values.x }}",
    "true", "false", "null", "~", "Container", "default", "kubernetes.io/hostname", "SL001,SL004", "all",
    "DB_POOL_SIZE", "WEB_CONCURRENCY", "GUNICORN_CMD_ARGS", "--workers 20", "\u00e9\u00fc\u4e2d", "a\tb",
    "line1\nline2", "# scalelint: disable=SL001", "\x7f", "x" * 300,
]
scalars = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-(2 ** 70), max_value=2 ** 70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(MEANINGFUL),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30),
)
junk = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.one_of(st.sampled_from(MEANINGFUL[:20]), st.integers(), st.booleans()),
                                            inner, max_size=4)),
    max_leaves=12,
)

# ------------------------------------------------------------------------------------------ templates

CONTAINER = {
    "name": "api", "image": "python:3.12",
    "command": ["gunicorn", "-w", "4", "app:app"], "args": ["--bind", "0.0.0.0:8000", "--workers", "$(WORKERS)"],
    "env": [{"name": "DB_POOL_SIZE", "value": "10"}, {"name": "DB_MAX_OVERFLOW", "value": "5"},
            {"name": "WORKERS", "value": "4"}, {"name": "WEB_CONCURRENCY", "value": "3"},
            {"name": "DATABASE_URL", "value": "postgresql://u:p@db:5432/app"},
            {"name": "GUNICORN_CMD_ARGS", "value": "--workers 3"},
            {"name": "X", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "workers"}}},
            {"name": "S", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
            {"name": "F", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "R", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}}],
    "envFrom": [{"configMapRef": {"name": "cfg"}, "prefix": "APP_"}, {"secretRef": {"name": "s", "optional": True}}],
    "resources": {"limits": {"cpu": "500m", "memory": "512Mi"}, "requests": {"cpu": "100m", "memory": "128Mi"}},
    "volumeMounts": [{"name": "conf", "mountPath": "/etc/postgresql"}],
}
POD = {
    "containers": [CONTAINER, {"name": "db", "image": "postgres:16", "args": ["-c", "max_connections=50"]}],
    "initContainers": [{"name": "init", "image": "busybox", "command": ["sh", "-c", "true"]}],
    "volumes": [{"name": "conf", "configMap": {"name": "pgconf"}},
                {"name": "p", "projected": {"sources": [{"configMap": {"name": "cfg"}}]}}],
    "topologySpreadConstraints": [{"topologyKey": "kubernetes.io/hostname"}],
    "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"topologyKey": "topology.kubernetes.io/zone"}]}},
}
META = {"name": "api", "namespace": "prod", "labels": {"app": "api", "scalelint.io/ha-required": "true"},
        "annotations": {"scalelint.io/ignore": "SL014", "config.kubernetes.io/origin": "path: x.yaml"}}
TEMPLATE = {"metadata": {"labels": {"app": "api"}}, "spec": POD}
KUBE = [
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": META,
     "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "api"}}, "template": TEMPLATE}},
    {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db", "namespace": "prod"},
     "spec": {"replicas": 1, "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [
         {"name": "postgres", "image": "postgres:16", "command": ["postgres", "-N", "40"],
          "env": [{"name": "POSTGRESQL_MAX_CONNECTIONS", "value": "150"}]}]}}}},
    {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "ds"}, "spec": {"template": TEMPLATE}},
    {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "cj", "namespace": "prod"},
     "spec": {"jobTemplate": {"spec": {"parallelism": 2, "template": TEMPLATE}}}},
    {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "job"}, "spec": {"template": TEMPLATE}},
    {"apiVersion": "v1", "kind": "Pod", "metadata": META, "spec": POD},
    {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
     "metadata": {"name": "api", "namespace": "prod"},
     "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "api"}, "minReplicas": 1, "maxReplicas": 10}},
    {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "api", "namespace": "prod"},
     "spec": {"selector": {"matchLabels": {"app": "api"},
                           "matchExpressions": [{"key": "app", "operator": "In", "values": ["api"]}]}}},
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "db", "namespace": "prod"},
     "spec": {"selector": {"app": "db"}}},
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "prod"},
     "data": {"workers": "12", "DB_POOL_SIZE": "40", "postgresql.conf": "max_connections = 30\n"}},
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "pgconf", "namespace": "prod"},
     "data": {"postgresql.conf": "max_connections = 30\nsuperuser_reserved_connections = 5\n"}},
    {"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "lr", "namespace": "prod"},
     "spec": {"limits": [{"type": "Container", "default": {"cpu": "1", "memory": "1Gi"}}]}},
    {"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster", "metadata": {"name": "pg", "namespace": "prod"},
     "spec": {"instances": 3, "postgresql": {"parameters": {"max_connections": "60"}}}},
    {"apiVersion": "acid.zalan.do/v1", "kind": "postgresql", "metadata": {"name": "zpg", "namespace": "prod"},
     "spec": {"postgresql": {"parameters": {"max_connections": "60"}}}},
    {"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "ConfigMap",
                                                     "metadata": {"name": "in-list"}, "data": {"a": "b"}}]},
]
SERVICE = {
    "image": "python:3.12", "build": {"context": "."},
    "command": "gunicorn -w ${WORKERS:-4} app:app", "entrypoint": ["sh", "-c"],
    "environment": {"DB_POOL_SIZE": "10", "DATABASE_URL": "postgresql://u:p@db/app", "WORKERS": None,
                    "WEB_CONCURRENCY": "${CONC:-2}"},
    "env_file": [".env.api", {"path": "missing.env", "required": False}],
    "deploy": {"replicas": 3, "mode": "replicated",
               "resources": {"limits": {"cpus": "0.5", "memory": "512M"},
                             "reservations": {"cpus": "0.25", "memory": "128M"}},
               "placement": {"max_replicas_per_node": 1}},
    "scale": 2, "cpus": 1.5, "mem_limit": "1g",
    "labels": ["scalelint.ha-required=true"], "x-scalelint": {"ignore": ["SL014"], "ha-required": True},
    "networks": {"default": {"aliases": ["api-alias"]}}, "container_name": "the-api", "hostname": "api-host",
    "volumes": ["./a:/a"], "ports": ["8000:8000"],
}
COMPOSE = {
    "x-common": {"restart": "always"},
    "services": {
        "api": SERVICE,
        "worker": {"image": "python:3.12", "command": ["celery", "-A", "app", "worker", "-c", "16"],
                   "environment": ["DB_HOST=db", "DB_POOL_SIZE=20", "BARE"]},
        "db": {"image": "postgres:16", "command": "postgres -c max_connections=${MAXC:-50}",
               "environment": {"POSTGRESQL_MAX_CONNECTIONS": 150}},
    },
    "networks": {"default": {}},
}
COMPOSE_KEYS = sorted(SERVICE) + ["healthcheck", "depends_on", "extends", "profiles", "restart"]
KUBE_KEYS = ["apiVersion", "kind", "metadata", "spec", "data", "items", "replicas", "template", "containers",
             "resources", "limits", "requests", "env", "envFrom", "command", "args", "selector", "matchLabels"]


@st.composite
def mutated(draw, node, keys=KUBE_KEYS, depth=0):
    """``node`` with some places replaced by junk, some keys dropped or added, some lists reshaped."""
    roll = draw(st.integers(0, 99))
    if roll < 6:
        return draw(junk)
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if draw(st.integers(0, 99)) < 4:
                continue  # dropped
            out[k] = draw(mutated(v, keys, depth + 1))
        if draw(st.integers(0, 99)) < 10:
            out[draw(st.sampled_from(keys))] = draw(junk)
        return out
    if isinstance(node, list):
        items = [draw(mutated(v, keys, depth + 1)) for v in node]
        if items and draw(st.integers(0, 99)) < 10:
            items = items + items  # the same item twice
        if draw(st.integers(0, 99)) < 8:
            items.append(draw(junk))
        return items
    return node


def dump(docs: list, style: str) -> str:
    if style == "json":
        return "\n".join(json.dumps(d, default=str) for d in docs[:1])  # JSON holds one document
    flow = style == "flow"
    return "---\n".join(pyyaml.safe_dump(d, default_flow_style=flow, allow_unicode=True, sort_keys=False)
                        for d in docs)


@st.composite
def text_damage(draw, source: str) -> str:
    """Sometimes damage the text itself: cut it, or splice in a hostile fragment."""
    roll = draw(st.integers(0, 99))
    if roll < 75 or not source:
        return source
    at = draw(st.integers(0, len(source)))
    if roll < 85:
        return source[:at]
    fragment = draw(st.sampled_from([
        "{{ .Values.x }}", "\t", "\ufeff", "\r\n", "&a [*a]", "*nope", "!!python/object:os.system x", "<<: 5",
        ": :", "- - -", "[", "}", "'", '"', "%YAML 1.1\n", "---\n", "...\n", "? [a]\n: b\n", "\x85", "\u2028",
        "# scalelint: disable-file\n", "# scalelint: disable=SL001\n",
    ]))
    return source[:at] + fragment + source[at:]


# ------------------------------------------------------------------------------------------ checks

def every_output(r: Run) -> None:
    result: RunResult = r.result
    text.render(result)
    text.render(result, color=True)
    text.render_notices(result)
    text.summary(result)
    json.loads(jsonfmt.render(result, tool_version="0"))
    json.loads(sarif.render(result, tool_version="0"))
    github.render(result, tool_version="0")
    json.loads(gitlab.render(result, tool_version="0"))
    reports = [group_report(g, f) for g, f in zip(r.groups, r.facts)]
    fmt_report.render_text(reports)
    fmt_report.render_markdown(reports)
    json.loads(fmt_report.render_json(reports, "0"))
    for f in result.findings:
        assert "\n" not in f.message, f
        assert f.line >= 0 and f.column >= 0


def lint_stdin(data: bytes) -> Run:
    return lint_paths("-", stdin=lambda: data)


# ------------------------------------------------------------------------------------------ properties

@SETTINGS
@given(data=st.data(), style=st.sampled_from(["block", "flow", "json"]))
def test_kubernetes_objects(data: st.DataObject, style: str) -> None:
    picked = data.draw(st.lists(st.sampled_from(range(len(KUBE))), min_size=1, max_size=6))
    docs = [data.draw(mutated(KUBE[i])) for i in picked]
    source = data.draw(text_damage(dump(docs, style)))
    r = lint_stdin(source.encode("utf-8", "surrogatepass"))
    every_output(r)


@SETTINGS
@given(data=st.data(), style=st.sampled_from(["block", "flow"]), override=st.booleans())
def test_compose_projects(data: st.DataObject, style: str, override: bool) -> None:
    main = data.draw(mutated(COMPOSE, COMPOSE_KEYS))
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "compose.yaml"), "w", encoding="utf-8") as fh:
            fh.write(data.draw(text_damage(dump([main], style))))
        if override:
            over = data.draw(mutated({"services": {"api": {"deploy": {"replicas": 5}, "environment": ["A=1"],
                                                           "command": ["x"], "volumes": ["./b:/b"]}}},
                                     COMPOSE_KEYS))
            with open(os.path.join(tmp, "compose.override.yaml"), "w", encoding="utf-8") as fh:
                fh.write(dump([over], style))
        with open(os.path.join(tmp, ".env.api"), "w", encoding="utf-8") as fh:
            fh.write(data.draw(st.sampled_from(["WORKERS=12\n", "WORKERS\n", "=\n", "export X='a\n", ""])))
        with open(os.path.join(tmp, ".env"), "w", encoding="utf-8") as fh:
            fh.write(data.draw(st.sampled_from(["CONC=9\nMAXC=20\n", "MAXC=abc\n", "", "CONC=${CONC}\n"])))
        r = lint_paths(tmp)
        every_output(r)


@SETTINGS
@given(docs=st.lists(junk, min_size=1, max_size=3), style=st.sampled_from(["block", "flow"]))
def test_any_yaml_at_all(docs: list, style: str) -> None:
    """Top-level junk of any shape: scalars, lists, mappings with non-string keys."""
    r = lint_stdin(dump(docs, style).encode("utf-8", "surrogatepass"))
    every_output(r)


@SETTINGS
@given(raw=st.binary(max_size=400))
def test_any_bytes(raw: bytes) -> None:
    r = lint_stdin(raw)
    every_output(r)
    assert len([f for f in r.result.findings if f.code == "SL000"]) <= 1


# ------------------------------------------------------------------------------------------ the depth guard

def _real_depth(text_: str) -> int:
    """The deepest nesting libyaml's parser reaches before the end or its first error."""
    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.events import CollectionEndEvent, CollectionStartEvent, StreamEndEvent

    from scalelint.load import fastyaml

    parser = fastyaml.CParser(text_)
    depth = deepest = 0
    try:
        while True:
            event = parser.get_event()
            if event is None or isinstance(event, StreamEndEvent):
                break
            if isinstance(event, CollectionStartEvent):
                depth += 1
                deepest = max(deepest, depth)
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
    except YAMLError:
        pass
    finally:
        parser.dispose()
    return deepest


YAMLISH = st.text(alphabet=list("[]{}\"',:#!<>&*- \n\tab\\?|"), max_size=200)
#: lines that open flow collections, close them, or only seem to (quotes, comments and tags hide brackets)
LINES = ["[", "{", "[[", "[ [", "- [", "a: [", "[a]", '["]", [', "['}', [", "[ # ]", "x, [", "]", "}", "[!<]> [",
         "k]: [", "? [", '[a"b, "]"', '[a "b, "c]"', '[a:"b, "c]"', "[don't, 'x']", '{a: "1"}', '["x", [',
         "['a'']', [", '{"a": [', '[ "a\\"]", [', "[]", "{}", "[a, {b: [c]}]", '"', "'", "[[a]]", "- - [", "a: |",
         "  [[[", "? a", ": [b, "]


def _bound_with_every_pass(text_: str) -> int:
    """The bound with its one-line-pair removal forced (it is skipped when the raw count is small)."""
    saved = loader.SAFE_C_DEPTH
    loader.SAFE_C_DEPTH = -1
    try:
        return loader._depth_bound(text_)
    finally:
        loader.SAFE_C_DEPTH = saved


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text_=YAMLISH)
def test_depth_bound_is_an_upper_bound(text_: str) -> None:
    """The cheap bound that keeps deep text from libyaml's recursive composer never underestimates."""
    assume(text_.strip())
    real = _real_depth(text_)
    assert loader._depth_bound(text_) >= real
    assert _bound_with_every_pass(text_) >= real


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(st.sampled_from(LINES), min_size=1, max_size=80))
def test_depth_bound_across_lines(lines: list[str]) -> None:
    """Many short lines: the real depth can exceed the longest line, the flow count must cover it."""
    text_ = "\n".join(lines)
    assert _bound_with_every_pass(text_) >= _real_depth(text_)


def test_depth_bound_keeps_big_manifests_on_the_fast_path() -> None:
    """One-line flow maps with quoted values (``limits: {cpu: "1"}``) do not count: no extra pass."""
    doc = 'a:\n  labels: {app: x}\n  command: ["gunicorn", "-w", "4"]\n  limits: {cpu: "1", memory: 1Gi}\n---\n'
    assert loader._depth_bound(doc * 20_000) <= loader.SAFE_C_DEPTH
