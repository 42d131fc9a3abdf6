"""The read-only corpus of real compose files and Kubernetes manifests (../shared/corpus).

One pipeline run over the whole corpus (module fixture): no exception, one-line SL000s and
notices; the loader agrees with PyYAML on what is YAML, except for the differences listed here
with their explanation; Helm templates get the Helm notice, curly braces that are not Helm are
linted. The corpus is read in place, never copied.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml as pyyaml

from scalelint.check.registry import Registry
from scalelint.config import Config
from scalelint.load import read as loader
from scalelint.pipeline import HELM_NOTICE, Options, Run, run

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no corpus at {CORPUS}")

#: SL000 of a failed kustomize/helm render: about a kustomization or chart, not about YAML
RENDER_PREFIXES = ("kustomize ", "kubectl kustomize ", "helm template ")
YAML_SUFFIXES = (".yaml", ".yml", ".json")

#: PyYAML loads these, scalelint refuses them: path (relative to the corpus) → why
REFUSED_BY_US = {
    "kubernetes__examples/_archived/openshift-origin/etcd-controller.yaml":
        "duplicate key `selector`: Kubernetes (strict decoding) and Compose refuse duplicate keys, "
        "PyYAML silently keeps the last one",
    "kubernetes__examples/_archived/openshift-origin/openshift-controller.yaml":
        "duplicate key `selector` (as above)",
    "onyx-dot-app__onyx/deployment/docker_compose/docker-compose.template.yml":
        "duplicate key `env_file`: `docker compose config` refuses it too; PyYAML keeps the last one",
}

#: PyYAML refuses these, scalelint reads them: (part of PyYAML's message, or a path part) → why
ACCEPTED_BY_US = {
    "could not determine a constructor for the tag '!reset'":
        "Compose's `!reset` tag (SPEC §2): PyYAML's safe loader knows no constructor for it",
    "could not determine a constructor for the tag '!override'":
        "Compose's `!override` tag (SPEC §2), as above",
    "found character '\\t' that cannot start any token":
        "a tab after a value at the end of a line: white space in YAML 1.2 (ruamel, libyaml's "
        "newer versions, Kubernetes' go-yaml); PyYAML's YAML 1.1 scanner refuses it",
    "/_helm_templates/":
        "a Helm template: not YAML until rendered; scalelint gives the Helm notice instead of SL000",
}


def _files() -> list[Path]:
    return sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name.lower().endswith(YAML_SUFFIXES))


@pytest.fixture(scope="module")
def corpus_run() -> Run:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SCALELINT_RENDER_TIMEOUT", "60")
        result = run(Options(paths=[str(CORPUS)], jobs=0, render_timeout=60), Config(), Registry.load())
    return result


def _rel(path: str) -> str:
    return os.path.relpath(path, CORPUS)


def test_the_whole_corpus_runs(corpus_run: Run, capsys: pytest.CaptureFixture[str]) -> None:
    res = corpus_run.result
    assert res.files > 1000
    assert res.objects > 1000
    with capsys.disabled():
        print(f"\ncorpus: {res.files} files, {res.objects} objects, {len(res.findings)} findings, "
              f"{len(res.notices)} notices, {len(corpus_run.groups)} groups")
    for f in res.findings:
        assert "\n" not in f.message, f
        assert f.line >= 0 and f.column >= 0
    for n in res.notices:
        assert "\n" not in n.message, n


def test_every_output_of_the_corpus(corpus_run: Run) -> None:
    import json

    from scalelint.analyze.capacity import group_report
    from scalelint.output import github, gitlab, jsonfmt, report, sarif, text

    res = corpus_run.result
    text.render(res)
    json.loads(jsonfmt.render(res, tool_version="0"))
    json.loads(sarif.render(res, tool_version="0"))
    github.render(res, tool_version="0")
    json.loads(gitlab.render(res, tool_version="0"))
    reports = [group_report(g, f) for g, f in zip(corpus_run.groups, corpus_run.facts)]
    report.render_text(reports)
    report.render_markdown(reports)
    json.loads(report.render_json(reports, "0"))


def _pyyaml_error(path: Path) -> str | None:
    try:
        with open(path, "rb") as fh:
            for _ in pyyaml.safe_load_all(fh):
                pass
    except pyyaml.YAMLError as exc:
        return " ".join(str(exc).split())
    return None


@pytest.fixture(scope="module")
def agreement() -> list[tuple[str, str | None, loader.LoadedFile]]:
    return [(_rel(str(p)), _pyyaml_error(p), loader.load_path(str(p))) for p in _files()]


def test_loader_accepts_what_pyyaml_accepts(agreement) -> None:
    """Every file PyYAML loads gets no SL000 from the loader, except the listed duplicate keys."""
    refused = {rel: lf.error.message for rel, err, lf in agreement if err is None and lf.error is not None}
    assert set(refused) == set(REFUSED_BY_US), refused
    for rel, message in refused.items():
        assert message.startswith("invalid YAML: duplicate key"), (rel, message)


def test_loader_refusals_beyond_pyyaml_are_explained(agreement) -> None:
    """What PyYAML refuses and scalelint reads is one of the explained classes."""
    unexplained = []
    for rel, err, lf in agreement:
        if err is not None and lf.error is None and not any(key in err or key in "/" + rel for key in ACCEPTED_BY_US):
            unexplained.append((rel, err))
    assert not unexplained


def test_loader_refusals_agree_with_pyyaml(agreement) -> None:
    """Where both refuse a file, scalelint names a line and column."""
    both = [(rel, lf.error) for rel, err, lf in agreement if err is not None and lf.error is not None]
    for rel, error in both:
        assert error.pos[0] >= 1 and error.pos[1] >= 1, rel
        assert "\n" not in error.message


def test_sl000_in_the_run(corpus_run: Run, agreement) -> None:
    """Loader SL000s only on files PyYAML refuses (or the listed ones); render failures point at the
    kustomization or chart that failed."""
    pyyaml_refuses = {rel for rel, err, _ in agreement if err is not None}
    sl000 = [f for f in corpus_run.result.findings if f.code == "SL000"]
    rendered = [f for f in sl000 if f.message.startswith(RENDER_PREFIXES)]
    loaded = [f for f in sl000 if not f.message.startswith(RENDER_PREFIXES)]
    for f in rendered:
        assert os.path.basename(f.path) in ("kustomization.yaml", "kustomization.yml", "Kustomization",
                                            "Chart.yaml"), f
    for f in loaded:
        rel = _rel(f.path)
        assert rel in pyyaml_refuses or rel in REFUSED_BY_US, f
        assert f.message.startswith("invalid YAML") or f.message.startswith("not valid UTF-8"), f
        assert f.line >= 1 and f.column >= 1


def test_helm_templates_get_the_notice(corpus_run: Run) -> None:
    res = corpus_run.result
    helm_dir = CORPUS / "_helm_templates"
    files = sorted(str(p) for p in helm_dir.rglob("*") if p.is_file() and p.name.endswith(YAML_SUFFIXES))
    assert files
    for path in files:
        assert [n for n in res.notices if n.path == path and n.message == HELM_NOTICE], path
        assert n_line_ok(res, path)
        assert not [f for f in res.findings if f.path == path and f.code == "SL000"], path


def n_line_ok(res, path: str) -> bool:
    """The Helm notice points at the first ``{{``."""
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if "{{" in line:
                return any(n.path == path and (n.line, n.column) == (lineno, line.index("{{") + 1)
                           for n in res.notices if n.message == HELM_NOTICE)
    return False


def test_curly_braces_that_are_not_helm_are_linted(corpus_run: Run) -> None:
    res = corpus_run.result
    plain_dir = CORPUS / "_curly_braces_not_helm"
    files = sorted(str(p) for p in plain_dir.rglob("*") if p.is_file() and p.name.endswith(YAML_SUFFIXES))
    assert files
    modelled = {obj.path for g in corpus_run.groups for obj in g.objects}
    for path in files:
        with open(path, encoding="utf-8") as fh:
            assert "{{" in fh.read(), path
        assert not [n for n in res.notices if n.path == path and n.message == HELM_NOTICE], path
        assert not [f for f in res.findings if f.path == path and f.code == "SL000"], path
        assert path in modelled, path
