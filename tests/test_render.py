"""Kustomize and Helm directories are rendered and their findings point back at source files (SPEC §1)."""
from __future__ import annotations

import json
import os
import re
import shutil
import stat
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import lint_paths
from hypothesis import given, settings
from hypothesis import strategies as st

from scalelint import render
from scalelint.cli import main
from scalelint.config import Config
from scalelint.findings import RunResult
from scalelint.load.discover import RenderDir
from scalelint.load.tree import get_map, get_seq
from scalelint.model import loc_key, loc_value
from scalelint.model.kube import identity
from scalelint.pipeline import Options, Run
from scalelint.render.helmmap import align

FIXTURES = Path(__file__).parent / "fixtures" / "render"
KUSTOMIZE_TOOL = shutil.which("kustomize") or shutil.which("kubectl")
needs_kustomize = pytest.mark.skipif(KUSTOMIZE_TOOL is None, reason="neither kustomize nor kubectl is on PATH")
TOOL_NAME = r"(kustomize build|kubectl kustomize)"


def lint(*paths: str, stdin: str | None = None, timeout: float = 30.0, helm_values: list[str] | None = None,
         config: Config | None = None) -> Run:
    feed = (lambda: stdin.encode()) if stdin is not None else None
    return lint_paths(paths, config, render_timeout=timeout, helm_values=list(helm_values or []), stdin=feed)


def where(result: RunResult) -> list[tuple[str, str, int, int]]:
    return [(f.code, f.path, f.line, f.column) for f in result.findings]


@pytest.fixture
def in_fixtures(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(FIXTURES)
    return FIXTURES


def fake_tool(tmp_path: Path, name: str, body: str) -> Path:
    """A shell script called ``name`` in a directory of its own, for PATH."""
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    script = bindir / name
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return bindir


@pytest.fixture
def only_fakes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """PATH holds the fake tools and the basic utilities a shell script needs, nothing else."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for util in ("cat", "sleep", "echo"):
        found = shutil.which(util, path=os.pathsep.join([os.environ.get("PATH", ""), os.defpath]))
        if found:
            os.symlink(found, bindir / util)
    monkeypatch.setenv("PATH", str(bindir))
    return bindir


# --------------------------------------------------------------------------- kustomize (real tool)


@needs_kustomize
def test_each_overlay_is_a_group_with_findings_in_source_files(in_fixtures: Path) -> None:
    out = lint("kustomize")
    ids = sorted(g.id for g in out.groups)
    # the base is built on by both overlays: not rendered on its own
    assert ids == [os.path.join("kustomize", "overlays", "prod"), os.path.join("kustomize", "overlays", "staging")]
    assert where(out.result) == [
        # the container the prod patch adds, at its `name:` in the patch file (SL011 is disabled there)
        ("SL001", "kustomize/overlays/prod/scale.yaml", 12, 17),
        # WEB_CONCURRENCY=6 from staging's configMapGenerator literal, reached through envFrom
        ("SL005", "kustomize/overlays/staging/kustomization.yaml", 17, 25),
        ("SL006", "kustomize/overlays/staging/kustomization.yaml", 17, 25),
    ]
    sl001 = out.result.findings[0]
    assert str(sl001.object) == "Deployment prod/api"
    assert [r.path for r in sl001.related] == ["kustomize/overlays/prod/kustomization.yaml"]
    assert out.result.notices == []


@needs_kustomize
def test_rendered_tree_points_at_base_patch_and_kustomization(in_fixtures: Path) -> None:
    prod = render.render(RenderDir("kustomize/overlays/prod", "kustomize", True), timeout=30)
    assert prod.error is None and prod.mapped
    objs = {identity(o)[1]: o for o, _ in prod.objects}
    dep = objs["Deployment"]
    assert "annotations" not in dep["metadata"]  # build metadata stripped before linting
    assert str(loc_value(dep["metadata"], "name")) == "kustomize/base/deployment.yaml:4:9"
    spec = dep["spec"]
    assert str(loc_key(spec, "replicas")) == "kustomize/overlays/prod/scale.yaml:7:3"  # the patch set it
    containers = get_seq(get_map(get_map(spec, "template"), "spec"), "containers")
    assert containers is not None
    by_name = {c["name"]: c for c in containers}
    assert str(loc_value(by_name["api"], "name")) == "kustomize/base/deployment.yaml:16:17"
    assert str(loc_value(by_name["log-shipper"], "name")) == "kustomize/overlays/prod/scale.yaml:12:17"
    limits = get_map(get_map(by_name["api"], "resources"), "limits")
    assert limits is not None and str(loc_value(limits, "memory")) == "kustomize/base/deployment.yaml:25:23"
    cm = objs["ConfigMap"]
    assert cm["metadata"]["name"].startswith("api-settings-")
    assert str(loc_value(cm["data"], "WEB_CONCURRENCY")) == "kustomize/overlays/prod/kustomization.yaml:11:25"
    assert str(loc_value(objs["Service"]["metadata"], "name")) == "kustomize/base/service.yaml:4:9"
    assert set(prod.suppressions) >= {"kustomize/base/deployment.yaml", "kustomize/overlays/prod/scale.yaml",
                                      "kustomize/overlays/prod/kustomization.yaml"}


@needs_kustomize
def test_inline_json_patch_and_name_prefix(in_fixtures: Path) -> None:
    staging = render.render(RenderDir("kustomize/overlays/staging", "kustomize", True), timeout=30)
    dep = next(o for o, _ in staging.objects if o["kind"] == "Deployment")
    assert dep["metadata"]["name"] == "staging-api"
    assert str(loc_value(dep["metadata"], "name")) == "kustomize/base/deployment.yaml:4:9"
    # `value: 2` of the JSON patch written inside the kustomization's `patch: |-` block
    assert str(loc_value(dep["spec"], "replicas")) == "kustomize/overlays/staging/kustomization.yaml:13:16"


@needs_kustomize
def test_base_named_explicitly_is_linted_too(in_fixtures: Path) -> None:
    out = lint("kustomize", "kustomize/base")
    assert sorted(g.id for g in out.groups) == ["kustomize/base", os.path.join("kustomize", "overlays", "prod"),
                                                os.path.join("kustomize", "overlays", "staging")]


@needs_kustomize
def test_overlay_alone_and_the_user_tree_is_not_written(in_fixtures: Path) -> None:
    before = {p: p.stat().st_mtime_ns for p in (FIXTURES / "kustomize").rglob("*")}
    out = lint("kustomize/overlays/prod")
    assert where(out.result) == [("SL001", "kustomize/overlays/prod/scale.yaml", 12, 17)]
    assert {p: p.stat().st_mtime_ns for p in (FIXTURES / "kustomize").rglob("*")} == before


@needs_kustomize
def test_missing_base_is_sl000_at_the_entry(in_fixtures: Path) -> None:
    out = lint("broken")
    assert where(out.result) == [("SL000", "broken/kustomization.yaml", 5, 5)]
    message = out.result.findings[0].message
    assert re.match(TOOL_NAME + r" failed: .*no-such-base", message), message
    assert "\n" not in message
    assert out.groups == []  # nothing of the directory is linted file by file


@needs_kustomize
def test_base_line_reached_through_two_overlays_is_one_finding(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    deploy = tmp_path / "deploy"
    shutil.copytree(FIXTURES / "kustomize" / "base", deploy / "base")
    text = (deploy / "base" / "deployment.yaml").read_text()
    (deploy / "base" / "deployment.yaml").write_text(text.split("          resources:")[0])  # no limits
    for name in ("a", "b"):
        (deploy / name).mkdir()
        (deploy / name / "kustomization.yaml").write_text("resources:\n  - ../base\n")
    monkeypatch.chdir(tmp_path)
    out = lint("deploy")
    sl001 = [f for f in out.result.findings if f.code == "SL001"]
    assert [(f.path, f.line, f.column) for f in sl001] == [("deploy/base/deployment.yaml", 16, 17)]
    assert [r.message for r in sl001[0].related] == ["rendered by deploy/a/kustomization.yaml",
                                                     "rendered by deploy/b/kustomization.yaml"]


def test_component_and_covered_base_are_not_planned(tmp_path: Path) -> None:
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "kustomization.yaml").write_text("resources: []\n")
    (tmp_path / "comp").mkdir()
    (tmp_path / "comp" / "kustomization.yaml").write_text("apiVersion: kustomize.config.k8s.io/v1alpha1\n"
                                                          "kind: Component\n")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "kustomization.yaml").write_text("resources: [../base]\ncomponents: [../comp]\n")
    (tmp_path / "chart" / "charts" / "sub").mkdir(parents=True)
    dirs = [RenderDir(str(tmp_path / d), kind, False) for d, kind in
            (("app", "kustomize"), ("base", "kustomize"), ("comp", "kustomize"), ("chart", "helm"),
             ("chart/charts/sub", "helm"))]
    todo, notices = render.plan(dirs)
    assert [os.path.basename(rd.path) for rd in todo] == ["app", "chart"]
    assert notices == []
    todo, notices = render.plan([RenderDir(str(tmp_path / "comp"), "kustomize", True)])
    assert todo == [] and "Component" in notices[0].message


# --------------------------------------------------------------------------- kustomize (fake or no tool)


def test_no_kustomize_tool_is_a_notice(in_fixtures: Path, only_fakes: Path) -> None:
    out = lint("kustomize/overlays/prod")
    assert out.result.findings == []
    assert [(n.path, n.message.split(":")[0]) for n in out.result.notices] == [
        ("kustomize/overlays/prod", "kustomize directory not rendered")]
    assert "`kustomize` nor `kubectl`" in out.result.notices[0].message


def test_kustomize_timeout_is_sl000(in_fixtures: Path, only_fakes: Path) -> None:
    fake_tool(only_fakes.parent, "kubectl", "sleep 30 & wait\n")
    start = time.monotonic()
    out = lint("kustomize/overlays/prod", timeout=0.5)
    assert time.monotonic() - start < 10  # the tool and its child were ended, not waited for
    assert where(out.result) == [("SL000", "kustomize/overlays/prod/kustomization.yaml", 1, 1)]
    assert out.result.findings[0].message == "kubectl kustomize timed out after 0.5 s"


def test_kustomize_error_line_from_klog(in_fixtures: Path, only_fakes: Path) -> None:
    fake_tool(only_fakes.parent, "kubectl",
              "echo '# Warning: patchesJson6902 is deprecated' >&2\n"
              "echo 'E0101 00:00:00.000000   1 run.go:72] \"command failed\" "
              "err=\"accumulating resources: \\\\\"x\\\\\" missing\"' >&2\nexit 1\n")
    out = lint("kustomize/overlays/prod")
    assert out.result.findings[0].message == 'kubectl kustomize failed: accumulating resources: "x" missing'


def test_first_error_line() -> None:
    assert render.first_error_line("\n# Warning: old field\nError: no matches for Id Deployment\nmore\n") == (
        "no matches for Id Deployment")
    assert render.first_error_line("", 3) == "exit status 3"


def test_origin_annotations_on_stdin(in_fixtures: Path) -> None:
    """`kustomize build` of a kustomization that sets buildMetadata itself, piped in."""
    stream = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  annotations:
    config.kubernetes.io/origin: |
      path: kustomize/base/deployment.yaml
  name: api
spec:
  replicas: 1
  template:
    spec:
      containers:
      - image: example/api:1.4
        name: api
"""
    out = lint("-", stdin=stream)
    assert ("SL001", "kustomize/base/deployment.yaml", 16, 17) in where(out.result)
    obj = out.groups[0].objects[0].raw
    assert "annotations" not in obj["metadata"]


# --------------------------------------------------------------------------- helm (fake tool)


HELM_RENDERED = (FIXTURES / "chart-rendered.txt").read_text()
CHART_FINDINGS = [
    ("SL002", "chart/templates/deployment.yaml", 20, 36),  # the `-w "{{ .Values.workers }}"` argument
    ("SL005", "chart/templates/deployment.yaml", 20, 36),
    ("SL006", "chart/templates/deployment.yaml", 20, 36),
    ("SL001", "chart/templates/deployment.yaml", 24, 17),  # `- name: metrics`; its SL011 is disabled there
]


def _sorted(items: list[tuple[str, str, int, int]]) -> list[tuple[str, str, int, int]]:
    return sorted(items, key=lambda t: (t[1], t[2], t[3], t[0]))


def test_helm_chart_findings_map_through_source_comments(in_fixtures: Path, only_fakes: Path,
                                                          tmp_path: Path) -> None:
    args = tmp_path / "args.txt"
    fake_tool(only_fakes.parent, "helm", f'echo "$@" > {args}\ncat {FIXTURES / "chart-rendered.txt"}\n')
    out = lint("chart", helm_values=["prod-values.yaml"], config=Config(helm_values=["base-values.yaml"]))
    assert where(out.result) == _sorted(CHART_FINDINGS)
    assert args.read_text().split() == ["template", "chart", "--skip-tests", "--values", "base-values.yaml",
                                        "--values", "prod-values.yaml"]
    assert [g.id for g in out.groups] == ["chart"]
    dep = next(o.raw for o in out.groups[0].objects if o.kind == "Deployment")
    assert str(loc_key(dep["spec"], "replicas")) == "chart/templates/deployment.yaml:8:3"
    # lines made by `toYaml .Values.resources` point at that action
    limits = dep["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
    assert str(loc_value(limits, "memory")) == "chart/templates/deployment.yaml:22:13"


def test_helm_values_option_on_the_cli(in_fixtures: Path, only_fakes: Path, tmp_path: Path) -> None:
    args = tmp_path / "args.txt"
    fake_tool(only_fakes.parent, "helm", f'echo "$@" > {args}\ncat {FIXTURES / "chart-rendered.txt"}\n')
    res = CliRunner().invoke(main, ["check", "--isolated", "--format", "json", "--helm-values", "v1.yaml",
                                    "--helm-values", "v2.yaml", "chart"])
    assert res.exit_code == 1, res.output
    assert "--values v1.yaml --values v2.yaml" in args.read_text()
    assert '"path": "chart/templates/deployment.yaml"' in res.output


def test_helm_error_is_sl000_with_the_first_error_line(in_fixtures: Path, only_fakes: Path) -> None:
    fake_tool(only_fakes.parent, "helm",
              "echo 'Error: template: api/templates/deployment.yaml:8:14: executing \"x\": nil pointer' >&2\n"
              "echo 'Use --debug flag to render out invalid YAML' >&2\nexit 1\n")
    out = lint("chart")
    assert where(out.result) == [("SL000", "chart/Chart.yaml", 1, 1)]
    assert out.result.findings[0].message == (
        'helm template failed: template: api/templates/deployment.yaml:8:14: executing "x": nil pointer')


def test_helm_timeout_is_sl000(in_fixtures: Path, only_fakes: Path) -> None:
    fake_tool(only_fakes.parent, "helm", "sleep 30 & wait\n")
    start = time.monotonic()
    out = lint("chart", timeout=0.3)
    assert time.monotonic() - start < 10
    assert [(f.code, f.path, f.message) for f in out.result.findings] == [
        ("SL000", "chart/Chart.yaml", "helm template timed out after 0.3 s")]


def test_no_helm_is_a_notice_naming_the_chart(in_fixtures: Path, only_fakes: Path) -> None:
    out = lint("chart")
    assert out.result.findings == []
    assert [(n.path, n.message) for n in out.result.notices] == [
        ("chart", "Helm chart 'api' not rendered: `helm` is not on PATH; its templates are not linted one by one")]


def test_timeout_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCALELINT_RENDER_TIMEOUT", "7.5")
    assert Options().render_timeout == 7.5
    monkeypatch.setenv("SCALELINT_RENDER_TIMEOUT", "soon")
    assert Options().render_timeout == 30.0


# --------------------------------------------------------------------------- stdin


def test_helm_template_piped_from_the_chart_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES / "chart")  # `helm template . | scalelint check -`
    out = lint("-", stdin=HELM_RENDERED)
    assert where(out.result) == _sorted([(c, p.removeprefix("chart/"), ln, col) for c, p, ln, col in CHART_FINDINGS])


def test_helm_template_piped_without_the_templates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    out = lint("-", stdin=HELM_RENDERED)
    assert {(f.path, f.line, f.column) for f in out.result.findings} == {("api/templates/deployment.yaml", 1, 1)}
    assert "SL011" in {f.code for f in out.result.findings}  # the disabling comment is in the unread template


def test_helm_template_piped_through_the_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES / "chart")
    res = CliRunner().invoke(main, ["check", "--isolated", "-"], input=HELM_RENDERED)
    assert "templates/deployment.yaml:24:17: SL001" in res.output


def test_plain_stream_on_stdin_keeps_its_positions() -> None:
    stream = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: x\n"
    out = lint("-", stdin=stream)
    assert ("SL001", "-", 7, 11) in where(out.result)


# --------------------------------------------------------------------------- alignment


def test_align_picks_the_nth_document_of_a_template_and_maps_actions() -> None:
    template = """\
{{- range .Values.queues }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker-{{ .name }}
spec:
  template:
    spec:
      containers:
        - name: worker
          {{- with .resources }}
          resources:
            {{- toYaml . | nindent 12 }}
          {{- end }}
{{- end }}
""".splitlines()
    stream = """\
---
# Source: c/templates/w.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker-fast
spec:
  template:
    spec:
      containers:
        - name: worker
          resources:
            limits:
              memory: 1Gi
""".splitlines()
    fn = align(stream, 3, len(stream), template, (2, len(template)))
    assert fn((6, 9)) == (6, 9)  # name: worker-fast → name: worker-{{ .name }}
    assert fn((11, 17)) == (11, 17)
    assert fn((12, 11)) == (13, 11)
    assert fn((14, 15)) == (14, 13)  # made by toYaml: that action's line, at its indentation


# --------------------------------------------------------------------------- never raise


_scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.sampled_from(["a", "b", "name", "web", ""]))
_trees = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.sampled_from(["name", "spec", "containers", "replicas", "a", "b"]), inner, max_size=4)),
    max_leaves=25)


@settings(max_examples=150, deadline=None)
@given(rendered=_trees, sources=st.lists(_trees, max_size=3),
       pointer=st.lists(st.sampled_from(["spec", "containers", "0", "-", "name", "a"]), min_size=1, max_size=4))
def test_mapping_any_shapes_never_raises(rendered: object, sources: list[object], pointer: list[str]) -> None:
    from scalelint.load.parse import compose_documents
    from scalelint.render.kustomap import _Ptr, _walk

    def tree(value: object, path: str) -> object:
        return compose_documents(json.dumps({"spec": value}), path)[0].root

    node = tree(rendered, "-")
    srcs: list[object] = [tree(s, f"src{i}.yaml") for i, s in enumerate(sources)]
    srcs.append(_Ptr(pointer, tree(rendered, "patch.yaml"), "patch.yaml", (1, 1)))
    _walk(node, srcs, ("k.yaml", (1, 1)))


@settings(max_examples=150, deadline=None)
@given(stream=st.lists(st.sampled_from(["a: 1", "  b: x", "- c", "  - name: w", "", "# c", "{{- end }}", "---"]),
                       min_size=1, max_size=12),
       template=st.lists(st.sampled_from(["a: {{ .x }}", "  b: y", "- c", "{{- toYaml . | nindent 2 }}", "---",
                                          "  - name: {{ .n }}", ""]), max_size=12))
def test_align_any_lines_stays_inside_the_template(stream: list[str], template: list[str]) -> None:
    fn = align(stream, 1, len(stream), template, (0, len(template)))
    for line in range(1, len(stream) + 2):
        tl, tc = fn((line, 3))
        assert (tl, tc) == (1, 1) or (1 <= tl <= len(template) and tc >= 1)


@pytest.mark.parametrize("message, expected", [
    # kustomize v5 through kubectl 1.31: a base listing a file that is not there
    (("accumulating resources: accumulation err='accumulating resources from '../../base': 'k8s/base' must "
     "resolve to a file': recursed accumulation of path 'k8s/base': accumulating resources: accumulation "
     "err='accumulating resources from 'config.yaml': evalsymlink failure on 'k8s/base/config.yaml' : lstat "
     "k8s/base/config.yaml: no such file or directory': must build at directory: not a valid directory: "
     "evalsymlink failure on 'k8s/base/config.yaml' : lstat k8s/base/config.yaml: no such file or directory"),
     "k8s/base/config.yaml: no such file or directory (reached through ../../base)"),
    # a directory without a kustomization
    (("accumulating resources: accumulation err='accumulating resources from '../../base': 'kz/base' must "
     "resolve to a file': couldn't make target for path 'kz/base': unable to find one of 'kustomization.yaml', "
     "'kustomization.yml' or 'Kustomization' in directory 'kz/base'"),
     "no kustomization.yaml, kustomization.yml or Kustomization in kz/base (reached through ../../base)"),
    # a patch of a component
    (("accumulating components: accumulateDirectory: \"recursed accumulation of path 'm/components/ha': "
     "trouble configuring builtin PatchTransformer with config: ` path: patch.yaml `: failed to get the patch "
     "file from path(patch.yaml): evalsymlink failure on 'm/components/ha/patch.yaml' : lstat "
     "m/components/ha/patch.yaml: no such file or directory\""),
     "m/components/ha/patch.yaml: no such file or directory"),
    # a cause it does not know: as kustomize said it
    ('accumulating resources: "x" missing', 'accumulating resources: "x" missing'),
])
def test_kustomize_cause_comes_first(message: str, expected: str) -> None:
    from scalelint.render.run import kustomize_cause

    assert kustomize_cause(message) == expected
