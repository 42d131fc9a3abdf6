"""What is applied together (SPEC §11): references resolved from the referencing file outward.

Each layout class real repositories use has a fixture under ``tests/fixtures/scope/``; the tests
check which objects link (HPA → Deployment, client → database) and which do not, the budgets
that result, and the notices. The :class:`Layout` unit tests pin the alternative rules.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import findings, lint_paths, write

from scalelint.config import Config, ExternalDatabase
from scalelint.model.scope import Layout, collision_key
from scalelint.pipeline import Run

SCOPE = Path(__file__).parent / "fixtures" / "scope"


def run_in(layout: str, monkeypatch: pytest.MonkeyPatch, config: Config | None = None) -> Run:
    monkeypatch.chdir(SCOPE / layout)
    return lint_paths(".", config)


def budgets(r: Run) -> dict[str, list[tuple[str, str, int | None]]]:
    """database file → [(client file, client name, demand)]"""
    out: dict[str, list[tuple[str, str, int | None]]] = {}
    for facts in r.facts:
        for b in facts.budgets:
            out.setdefault(b.database.loc.path, []).extend(
                (c.workload.path, c.workload.name, c.demand) for c in b.clients)
    return out


def hpa_of(r: Run, path: str) -> list[str]:
    return [h.loc.path for g in r.groups for wl in g.workloads if wl.path == path for h in wl.autoscalers]


def notices(r: Run) -> list[str]:
    return [f"{n.path}: {n.message}" for n in r.result.notices]


# ---------------------------------------------------------------------------------------- layouts


def test_environments_each_get_their_own_hpa_and_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    r = run_in("environments", monkeypatch)
    assert hpa_of(r, "deploy/dev/api.yaml") == []
    assert hpa_of(r, "deploy/prod/api.yaml") == ["deploy/prod/hpa.yaml"]
    # dev: 1 × 4 × 15 = 60 against dev's database; prod: 6 (HPA max) × 4 × 15 = 360 against prod's (500)
    assert budgets(r) == {"deploy/dev/postgres.yaml": [("deploy/dev/api.yaml", "api", 60)],
                          "deploy/prod/postgres.yaml": [("deploy/prod/api.yaml", "api", 360)]}
    assert not findings(r, "SL003") and not findings(r, "SL090")
    assert "deploy/{dev,prod}: 2 alternative manifest sets (3 common objects): checked separately" in notices(r)


def test_providers_do_not_borrow_each_others_database(monkeypatch: pytest.MonkeyPatch) -> None:
    r = run_in("providers", monkeypatch)
    assert budgets(r) == {"gke/postgres.yaml": [("gke/api.yaml", "api", 60)]}
    assert any("'orders.cluster-abc.eu-west-1.rds.amazonaws.com' (DATABASE_URL) is not defined" in n
               for n in notices(r))
    rds = ExternalDatabase("orders", ("orders.cluster-abc.eu-west-1.rds.amazonaws.com",), 50, 3)
    r = run_in("providers", monkeypatch, Config(databases=[rds]))
    [f] = findings(r, "SL003")  # aws's api on the managed database; gke's api is not its client
    assert f.message.startswith("orders: demand 60 > 47 available")
    assert {rel.path for rel in f.related} == {"aws/api.yaml"}


def test_bundles_in_one_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    r = run_in("bundles", monkeypatch)
    # all-in-one's api (4 workers) and worker (2) use all-in-one's postgres; quickstart's api (2) its own
    assert budgets(r) == {
        "all-in-one.yaml": [("all-in-one.yaml", "api", 60), ("all-in-one.yaml", "worker", 30)],
        "quickstart.yaml": [("quickstart.yaml", "api", 30)],
    }
    assert "{all-in-one.yaml,quickstart.yaml}: 2 alternative manifest sets (3 common objects): checked separately" \
        in notices(r)
    [tight] = findings(r, "SL013")
    assert tight.path == "all-in-one.yaml" and "demand 90 is 92% of the 97 available" in tight.message


def test_directories_split_by_kind_still_link(monkeypatch: pytest.MonkeyPatch) -> None:
    r = run_in("split-by-kind", monkeypatch)
    assert hpa_of(r, "deployment/api.yaml") == ["autoscaling/hpa.yaml"]
    [f] = findings(r, "SL003")
    assert f.path == "database/postgres.yaml"
    assert "api 4 replicas (HPA max) × 8 workers × (10 pool + 5 overflow) = 480" in f.message
    assert {r.path for r in f.related} >= {"deployment/api.yaml", "autoscaling/hpa.yaml"}
    assert not any("alternative manifest sets" in n for n in notices(r))


def test_extras_scale_their_own_variant(monkeypatch: pytest.MonkeyPatch) -> None:
    r = run_in("extras", monkeypatch)
    assert hpa_of(r, "kubernetes-manifests/api.yaml") == []
    assert hpa_of(r, "extras/postgres-hpa/kubernetes-manifests/api.yaml") == ["extras/postgres-hpa/hpa/api.yaml"]
    assert budgets(r) == {"kubernetes-manifests/postgres.yaml": [("kubernetes-manifests/api.yaml", "api", 30)]}
    assert "{extras/postgres-hpa/kubernetes-manifests,kubernetes-manifests}: 2 alternative manifest sets " \
           "(1 common object): checked separately" in notices(r)


def test_parallel_environment_trees(monkeypatch: pytest.MonkeyPatch) -> None:
    """dev's api names a database only prod defines: prod's is an alternative, so it does not answer."""
    r = run_in("parallel", monkeypatch)
    assert budgets(r) == {"envs/prod/db/postgres.yaml": [("envs/prod/app/api.yaml", "api", 60)]}
    assert any(n.startswith("envs/dev/app/api.yaml: database host 'postgres'") for n in notices(r))
    assert "envs/{dev,prod}: 2 alternative manifest sets (1 common object): checked separately" in notices(r)


@pytest.mark.skipif(not (shutil.which("kustomize") or shutil.which("kubectl")), reason="no kustomize or kubectl")
def test_kustomization_owns_only_what_it_reaches(monkeypatch: pytest.MonkeyPatch) -> None:
    r = run_in("kustomize-partial", monkeypatch)
    # examples/standalone.yaml is not referenced: linted as a plain manifest (it has no limits)
    assert {(f.path, f.code) for f in r.result.findings} == {("app/examples/standalone.yaml", "SL001"),
                                                             ("app/examples/standalone.yaml", "SL011")}
    # deployment.yaml is rendered through the kustomization only, not linted alone a second time
    assert [g.id for g in r.groups if "app/deployment.yaml" in g.paths] == ["app"]


def test_kustomization_coverage_without_the_tool(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Without kustomize the render gets a notice; the unreferenced manifest is still linted."""
    monkeypatch.setenv("PATH", str(tmp_path))
    r = run_in("kustomize-partial", monkeypatch)
    assert {(f.path, f.code) for f in r.result.findings} == {("app/examples/standalone.yaml", "SL001"),
                                                             ("app/examples/standalone.yaml", "SL011")}


# ------------------------------------------------------------------------------------ declared units


def test_group_by_all_is_the_single_graph(monkeypatch: pytest.MonkeyPatch) -> None:
    r = run_in("environments", monkeypatch, Config(group_by="all"))
    # one graph: prod's HPA reaches both apis, and no notice about alternatives
    assert hpa_of(r, "deploy/dev/api.yaml") == ["deploy/prod/hpa.yaml"]
    assert not any("alternative" in n for n in notices(r))


def test_group_by_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    r = run_in("split-by-kind", monkeypatch, Config(group_by="directory"))
    assert sorted(g.id for g in r.groups) == ["autoscaling", "database", "deployment"]
    assert not findings(r, "SL003") and hpa_of(r, "deployment/api.yaml") == []


def test_declared_groups_win(monkeypatch: pytest.MonkeyPatch) -> None:
    config = Config(groups=[["deploy/dev/**", "deploy/prod/hpa.yaml"]])
    r = run_in("environments", monkeypatch, config)
    assert hpa_of(r, "deploy/dev/api.yaml") == ["deploy/prod/hpa.yaml"]
    assert hpa_of(r, "deploy/prod/api.yaml") == []


def test_group_by_from_the_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from conftest import invoke

    write(tmp_path, {".git/HEAD": "", ".scalelint.yaml": "group-by: everything\n"})
    monkeypatch.chdir(tmp_path)
    code, _, err = invoke("check", ".")
    assert code == 2 and "group-by" in err
    (tmp_path / ".scalelint.yaml").write_text("group-by: directory\ngroups: [[deploy/a/*, deploy/b/*]]\n")
    code, _, err = invoke("check", ".")
    assert code == 0, err


# ------------------------------------------------------------------------------------ Layout rules


def _layout(files: dict[str, list[tuple[str, str, str]]]) -> Layout:
    return Layout({os.path.join("/r", p): {collision_key(k) for k in keys} - {None} for p, keys in files.items()})


D = ("default", "Deployment", "api")
S = ("default", "Service", "db")
NS = ("", "Namespace", "shop")


def test_namespaces_and_workload_kinds_in_collision_keys() -> None:
    assert collision_key(NS) is None
    assert collision_key(("x", "StatefulSet", "a")) == collision_key(("x", "Deployment", "a"))
    assert collision_key(("x", "Service", "a")) != collision_key(("x", "Deployment", "a"))


def test_files_of_one_directory_that_share_an_object_are_alternatives() -> None:
    layout = _layout({"a/all.yaml": [D, S], "a/quick.yaml": [D], "a/shared.yaml": [("default", "ConfigMap", "c")],
                      "a/ns1.yaml": [NS], "a/ns2.yaml": [NS]})
    assert layout.file_alt["/r/a/all.yaml"] == {"/r/a/quick.yaml"}
    assert "/r/a/shared.yaml" not in layout.file_alt
    assert "/r/a/ns1.yaml" not in layout.file_alt  # re-declared Namespaces are no collision


def test_a_subset_directory_is_a_component_not_a_rival() -> None:
    layout = _layout({"main/all.yaml": [D, S], "extra/api.yaml": [D],
                      "other/api-and-secret.yaml": [D, ("default", "Secret", "s")]})
    assert ("r", "extra") not in layout.dir_alt  # {api} ⊂ {api, db}
    assert layout.dir_alt[("r", "main")] == {("r", "other")}


def test_a_parallel_layout_makes_rivals_even_of_a_subset() -> None:
    """dev defines less than prod, yet the same paths: applied instead of prod, not with it."""
    layout = _layout({"main/a.yaml": [D, S], "extra/a.yaml": [D]})
    assert layout.dir_alt[("r", "extra")] == {("r", "main")}


def test_chained_directories_form_one_set() -> None:
    a, b, c = ("default", "Deployment", "a"), ("default", "Deployment", "b"), ("default", "Deployment", "c")
    layout = _layout({"x/1.yaml": [a, b], "y/2.yaml": [b, c], "z/3.yaml": [c, ("d", "Service", "q")]})
    assert layout.dir_alt[("r", "x")] == {("r", "y"), ("r", "z")}
    [(text, count, _, _)] = layout.alternative_sets()
    assert (text.rsplit("/", 2)[-2:], count) == (["r", "{x,y,z}"], 3)  # written relative to the working directory


def test_parallel_subtrees_need_a_shared_layout_and_a_collision() -> None:
    a, b = ("default", "Secret", "a"), ("default", "Secret", "b")
    layout = _layout({"e/dev/app/api.yaml": [D], "e/prod/app/api.yaml": [D], "e/prod/db/db.yaml": [S],
                      "f/one/x.yaml": [D, a], "f/two/y.yaml": [D, b],
                      "g/one/x.yaml": [a], "g/two/x.yaml": [b]})
    assert ("r", "e", "prod") in layout.dir_alt[("r", "e", "dev")]  # dev ⊂ prod, but laid out alike
    # f/one and f/two collide but share no relative path: rivals as directories, not as parallel trees
    assert layout.dir_alt[("r", "f", "one")] == {("r", "f", "two")}
    assert ("r", "g", "one") not in layout.dir_alt  # the same paths, nothing in common


def test_lookup_order_is_ancestors_then_tree_distance() -> None:
    layout = _layout({"top.yaml": [("default", "ConfigMap", "t")], "a/b/c/x.yaml": [D],
                      "a/b/y.yaml": [S], "a/q/z.yaml": [("default", "Secret", "s")], "w/v.yaml": [NS]})
    order = layout.scopes(("r", "a", "b", "c"))
    assert order == [[("r", "a", "b")], [("r",)], [("r", "a", "q")], [("r", "w")]]


# ------------------------------------------------------------------------------------ named files

def _dump(count: int) -> str:
    """A generated file of unrelated objects, like a ``kubectl get -o yaml`` dump."""
    one = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: generated-{i}\n  namespace: tools\n"
           "data:\n  payload: \"{pad}\"\n")
    return "---\n".join(one.format(i=i, pad="x" * 200) for i in range(count))


def test_a_named_file_reports_what_it_breaks_and_nothing_else(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The pre-commit case: the changed api.yaml raises the workers; the budget it breaks is reported
    (located in the database's file, which names api.yaml as related), the untouched sibling's missing
    limits are not, and the generated sibling is never read."""
    from conftest import invoke

    write(tmp_path, {
        ".git/HEAD": "",
        "deploy/app/api.yaml": (SCOPE / "split-by-kind/deployment/api.yaml").read_text(),
        "deploy/app/hpa.yaml": (SCOPE / "split-by-kind/autoscaling/hpa.yaml").read_text(),
        "deploy/app/untouched.yaml": (SCOPE / "kustomize-partial/app/examples/standalone.yaml").read_text(),
        "deploy/app/generated.yaml": _dump(20_000),
        "deploy/db/postgres.yaml": (SCOPE / "split-by-kind/database/postgres.yaml").read_text(),
    })
    monkeypatch.chdir(tmp_path)
    r = lint_paths("deploy/app/api.yaml")
    assert [(f.code, f.path) for f in r.result.findings] == [("SL005", "deploy/app/api.yaml"),
                                                             ("SL003", "deploy/db/postgres.yaml")]
    assert "deploy/app/api.yaml" in {rel.path for rel in r.result.findings[1].related}
    # read: the named file, the HPA and the database it reaches; not the sibling it has nothing to do with
    assert r.result.files == 3
    assert not any("generated" in n.path or "untouched" in n.path for n in r.result.notices)
    # the same directory linted as a whole reports everything
    whole = lint_paths("deploy")
    assert {f.path for f in whole.result.findings} >= {"deploy/app/untouched.yaml", "deploy/db/postgres.yaml"}
    code, out, _ = invoke("check", "--format", "text", "deploy/app/untouched.yaml")
    assert code == 1 and "SL001" in out and "SL003" not in out


_CHATTY = """\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: {ns}}}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers:
        - name: web
          image: acme/{name}:1
          env:
            - {{name: LOG_LEVEL, value: info}}
            - {{name: WORKER_CLASS, value: sync}}
            - {{name: DB_HOST, value: {host}}}
            - name: POD_NAME
              valueFrom: {{fieldRef: {{fieldPath: metadata.name}}}}
"""


def test_plain_env_words_and_field_paths_bring_no_context(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Env values such as ``info`` or ``sync`` and field paths such as ``metadata.name`` are in every
    sibling of a real repository; they name no object, so they never make a sibling context. A host
    variable's plain value (``DB_HOST: pgmain``) does name one, and brings the file that defines it."""
    write(tmp_path, {
        ".git/HEAD": "",
        "deploy/api.yaml": _CHATTY.format(name="api", ns="shop", host="pgmain"),
        "deploy/others.yaml": "---\n".join(_CHATTY.format(name=f"svc-{i}", ns="tools", host="cache")
                                           for i in range(200)),
    })
    monkeypatch.chdir(tmp_path)
    assert lint_paths("deploy/api.yaml").result.files == 1
    (tmp_path / "deploy" / "pg.yaml").write_text(
        "apiVersion: v1\nkind: Service\nmetadata: {name: pgmain, namespace: shop}\nspec: {ports: [{port: 5432}]}\n")
    assert lint_paths("deploy/api.yaml").result.files == 2


def test_a_named_database_file_finds_its_clients(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Lowering max_connections breaks a budget whose clients live elsewhere: they are read as context."""
    for name, source in {"deployment/api.yaml": "split-by-kind/deployment/api.yaml",
                         "autoscaling/hpa.yaml": "split-by-kind/autoscaling/hpa.yaml",
                         "database/postgres.yaml": "split-by-kind/database/postgres.yaml"}.items():
        write(tmp_path, {name: (SCOPE / source).read_text()})
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    r = lint_paths("database/postgres.yaml")
    assert [(f.code, f.path) for f in r.result.findings] == [("SL003", "database/postgres.yaml")]
    assert "api 4 replicas (HPA max) × 8 workers" in r.result.findings[0].message
