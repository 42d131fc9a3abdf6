"""The pre-commit hook (SPEC §7) and the group context it relies on (SPEC §1 Grouping).

pre-commit passes only the changed files, but SL003 and SL004 need the whole
deployment: a named file brings its group along (its compose project, the
sibling manifests of its directory, or its kustomization/chart), and the
findings of those groups are reported. ``--only-given`` turns that off.

The hook really running under ``pre-commit try-repo`` is ``.ci/precommit-check.sh``
(it builds a virtualenv and installs the package, too slow for the unit tests).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from scalelint.cli import main
from scalelint.load.discover import RenderDir, Target, discover

ROOT = Path(__file__).resolve().parents[1]
HOOKS = ROOT / ".pre-commit-hooks.yaml"


def _deployment(name: str, replicas: int = 1, extra: str = "") -> str:
    return f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
        - name: {name}
          image: registry.example.com/{name}:1.0
{extra}          resources:
            requests: {{cpu: "2", memory: 2Gi}}
            limits: {{cpu: "2", memory: 2Gi}}
"""


PDB = """\
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: api
spec:
  minAvailable: 1
  selector:
    matchLabels: {app: api}
"""

API_WITH_POOL = _deployment("api", 3, """\
          command: ["gunicorn", "-w", "4", "app:app"]
          env:
            - {name: DATABASE_URL, value: "postgresql://app@postgres:5432/app"}
            - {name: DB_POOL_SIZE, value: "15"}
            - {name: DB_MAX_OVERFLOW, value: "10"}
""")

POSTGRES = """\
apiVersion: v1
kind: Service
metadata:
  name: postgres
spec:
  selector: {app: postgres}
  ports: [{port: 5432}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: postgres
spec:
  serviceName: postgres
  selector:
    matchLabels: {app: postgres}
  template:
    metadata:
      labels: {app: postgres}
    spec:
      containers:
        - name: postgres
          image: postgres:16
          resources:
            requests: {cpu: "1", memory: 1Gi}
            limits: {cpu: "1", memory: 1Gi}
"""

COMPOSE_MAIN = """\
services:
  web:
    image: example/web:1
    deploy:
      resources:
        limits: {cpus: "1", memory: 1G}
"""
COMPOSE_OVERRIDE = """\
services:
  worker:
    image: example/worker:1
"""


def write(base: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = base / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def targets(paths: list[str], **kw: Any) -> list[tuple[str, bool]]:
    return [(t.path, t.explicit) for t in discover(paths, **kw).files]


# --- the hook definition ------------------------------------------------------------------------


def hook() -> dict[str, Any]:
    with open(HOOKS, encoding="utf-8") as fh:
        hooks = yaml.safe_load(fh)
    assert isinstance(hooks, list) and [h["id"] for h in hooks] == ["scalelint"]
    return hooks[0]


def test_hook_fields() -> None:
    h = hook()
    assert h["name"] and h["description"]
    assert h["language"] == "python"
    assert h["entry"] == "scalelint check"
    assert h["types"] == ["yaml"]
    assert h["require_serial"] is True  # one process sees every file: groups are not split across batches
    assert h.get("pass_filenames", True) is True


def test_hook_entry_is_a_console_script_of_the_package() -> None:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        tomllib = pytest.importorskip("tomli")
    with open(ROOT / "pyproject.toml", "rb") as fh:
        scripts = tomllib.load(fh)["project"]["scripts"]
    assert hook()["entry"].split()[0] in scripts


def test_hook_file_is_valid_for_pre_commit() -> None:
    clientlib = pytest.importorskip("pre_commit.clientlib")
    (loaded,) = clientlib.load_manifest(str(HOOKS))
    assert loaded["id"] == "scalelint" and loaded["require_serial"] is True


def _matches(h: dict[str, Any], path: str) -> bool:
    """pre-commit's file selection (``files``, ``exclude``, ``types``, ``types_or``, ``exclude_types``)."""
    from identify.identify import tags_from_path

    tags = tags_from_path(path)
    return bool(
        re.search(h.get("files", ""), path)
        and not re.search(h.get("exclude", "^$"), path)
        and set(h.get("types", ["file"])) <= tags
        and (not h.get("types_or") or set(h["types_or"]) & tags)
        and not set(h.get("exclude_types", [])) & tags
    )


@pytest.mark.parametrize("name, selected", [
    ("deploy.yaml", True),
    ("compose.yml", True),
    ("docker-compose.override.yaml", True),
    ("k8s/base/app.yml", True),
    ("README.md", False),
    ("Dockerfile", False),
    ("app.py", False),
    ("deploy.json", False),  # JSON manifests: `types_or: [yaml, json]` in the user's config
])
def test_hook_selects_yaml_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, selected: bool) -> None:
    write(tmp_path, {name: "{}\n"})
    monkeypatch.chdir(tmp_path)  # pre-commit matches repository-relative paths
    assert _matches(hook(), name) is selected


# --- which files a named file brings along -------------------------------------------------------


def test_manifest_brings_its_repository_as_candidates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A named manifest's context (SPEC §11): every plain manifest of its repository, siblings first,
    listed but not read (the pipeline reads those its references need)."""
    write(tmp_path, {
        "k8s/api.yaml": _deployment("api"),
        "k8s/pdb.yml": PDB,
        "k8s/svc.json": json.dumps({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api"}}),
        "k8s/.hidden.yaml": PDB,
        "k8s/compose.yaml": COMPOSE_MAIN,  # another kind of group: not context for a manifest
        "k8s/notes.txt": "",
        "k8s/sub/deep.yaml": PDB,
        "other/db.yaml": PDB,
        "chart/Chart.yaml": "name: c\n",
        "chart/templates/x.yaml": PDB,  # a chart's templates are the chart's
    })
    monkeypatch.chdir(tmp_path)
    disc = discover(["k8s/api.yaml"])
    assert [(t.path, t.explicit) for t in disc.files] == [("k8s/api.yaml", True)]
    assert disc.context == ["k8s/pdb.yml", "k8s/svc.json", "k8s/sub/deep.yaml", "other/db.yaml"]


def test_a_file_named_and_also_a_sibling_appears_once_as_named(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"k8s/a.yaml": _deployment("a"), "k8s/b.yaml": _deployment("b"), "k8s/c.yaml": PDB})
    monkeypatch.chdir(tmp_path)
    disc = discover(["k8s/c.yaml", "k8s/a.yaml", "./k8s/a.yaml"])
    assert [(t.path, t.explicit) for t in disc.files] == [
        ("k8s/c.yaml", True), ("k8s/a.yaml", True), ("./k8s/a.yaml", True)]
    assert disc.context == ["k8s/b.yaml"]
    disc = discover(["k8s/a.yaml", "k8s"])
    assert [(t.path, t.explicit) for t in disc.files] == [
        ("k8s/a.yaml", True), ("k8s/b.yaml", False), ("k8s/c.yaml", False)]
    assert disc.context == []


def test_non_manifest_yaml_brings_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"ci.yml": "on: push\njobs: {}\n", "api.yaml": _deployment("api")})
    monkeypatch.chdir(tmp_path)
    assert targets(["ci.yml"]) == [("ci.yml", True)]


@pytest.mark.parametrize("given, brought", [
    ("compose.yaml", ["compose.override.yaml"]),
    ("compose.override.yaml", ["compose.yaml"]),
    ("docker-compose.yml", ["docker-compose.override.yml"]),
    ("compose.prod.yaml", []),  # merges only through -f, as in docker compose
])
def test_compose_file_brings_its_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given: str,
                                         brought: list[str]) -> None:
    write(tmp_path, {
        "compose.yaml": COMPOSE_MAIN, "compose.override.yaml": COMPOSE_OVERRIDE, "compose.prod.yaml": COMPOSE_MAIN,
        "docker-compose.yml": COMPOSE_MAIN, "docker-compose.override.yml": COMPOSE_OVERRIDE,
        "deploy.yaml": _deployment("api"),
    })
    monkeypatch.chdir(tmp_path)
    assert targets([given]) == [(given, True)] + [(b, False) for b in brought]


def test_file_in_a_kustomization_brings_its_render(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {
        "overlay/kustomization.yaml": "resources: [deploy.yaml]\n",
        "overlay/deploy.yaml": _deployment("api"),
        "overlay/patch.yaml": PDB,
    })
    monkeypatch.chdir(tmp_path)
    disc = discover(["overlay/deploy.yaml"])
    assert disc.files == [Target("overlay/deploy.yaml", True, kustomize="overlay")]
    assert disc.renders == [RenderDir("overlay", "kustomize", False, context=True)]


def test_exclude_and_only_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"k8s/api.yaml": _deployment("api"), "k8s/pdb.yaml": PDB, "k8s/old.yaml": PDB})
    monkeypatch.chdir(tmp_path)
    assert discover(["k8s/api.yaml"], exclude=["old.yaml"]).context == ["k8s/pdb.yaml"]
    only = discover(["k8s/api.yaml"], group_context=False)
    assert only.files == [Target("k8s/api.yaml", True)] and only.context == []


# --- through the command line ---------------------------------------------------------------------


def check(*args: str) -> Any:
    return CliRunner().invoke(main, ["check", "--format", "json", *args], env={"GITHUB_ACTIONS": None})


def codes(result: Any) -> list[tuple[str, str]]:
    return [(f["code"], f["path"]) for f in json.loads(result.output)["findings"]]


def test_sl004_sees_the_pdb_next_door(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"k8s/api.yaml": _deployment("api"), "k8s/pdb.yaml": PDB})
    monkeypatch.chdir(tmp_path)
    grouped = check("k8s/api.yaml")
    assert grouped.exit_code == 1 and codes(grouped) == [("SL004", "k8s/api.yaml")]
    alone = check("--only-given", "k8s/api.yaml")
    assert alone.exit_code == 0 and codes(alone) == []


def test_sl003_sees_the_database_next_door(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The §0 worked example: 3 pods × 4 workers × (15 + 10) = 300 > 97; the finding sits on the database."""
    write(tmp_path, {"deploy/api.yaml": API_WITH_POOL, "deploy/postgres.yaml": POSTGRES})
    monkeypatch.chdir(tmp_path)
    result = check("deploy/api.yaml")
    assert result.exit_code == 1
    assert codes(result) == [("SL003", "deploy/postgres.yaml")]
    assert "demand 300 > 97" in json.loads(result.output)["findings"][0]["message"]


def test_compose_main_file_is_linted_with_its_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The override is merged in (the project is one), but what is wrong in it alone is its own business:
    named alone, the main file reports nothing of the override's (SPEC §11)."""
    write(tmp_path, {"compose.yaml": COMPOSE_MAIN, "compose.override.yaml": COMPOSE_OVERRIDE})
    monkeypatch.chdir(tmp_path)
    assert check("compose.yaml").exit_code == 0
    result = check("compose.override.yaml")
    assert result.exit_code == 1 and codes(result) == [("SL001", "compose.override.yaml")]
    both = check("compose.yaml", "compose.override.yaml")
    assert both.exit_code == 1 and codes(both) == [("SL001", "compose.override.yaml")]
    assert check("--only-given", "compose.yaml").exit_code == 0


def test_context_files_that_are_not_manifests_stay_silent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"k8s/api.yaml": _deployment("api", 2), "k8s/values.yaml": "replicaCount: 2\n",
                     "k8s/package.json": '{"name": "x"}'})
    monkeypatch.chdir(tmp_path)
    result = check("k8s/api.yaml")
    assert result.exit_code == 0
    assert json.loads(result.output)["notices"] == []
