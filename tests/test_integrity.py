"""SPEC §6: scalelint never writes to the files it reads, and the same input gives byte-identical output.

The input tree mixes compose projects (with an override file and a .env), Kubernetes manifests
(with a duplicate object, an HPA, a PDB, a ConfigMap), a kustomization, a Helm chart, a Helm
template, a broken file, and the repository's examples.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

TREE = {
    "shop/compose.yaml": """\
services:
  api:
    image: python:3.12
    command: gunicorn -w ${WORKERS:-12} app:app
    environment:
      DATABASE_URL: postgresql://u:p@db:5432/shop
      DB_POOL_SIZE: "15"
      DB_MAX_OVERFLOW: "10"
    deploy:
      replicas: 3
  db:
    image: postgres:16
    command: postgres -c max_connections=100
""",
    "shop/compose.override.yaml": "services:\n  api:\n    environment:\n      DB_POOL_SIZE: \"20\"\n",
    "shop/.env": "WORKERS=6\n",
    "blog/docker-compose.yml": """\
x-base: &base
  image: python:3.12
  environment: {WEB_CONCURRENCY: "9", DB_HOST: pg}
services:
  web:
    <<: *base
    x-scalelint: {ha-required: true}
  pg: {image: postgres:15}
""",
    "k8s/api.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  annotations: {scalelint.io/ha-required: "true"}
spec:
  replicas: 1
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
        - name: api
          image: api:1
          args: ["uvicorn", "app:app", "--workers", "10"]
          envFrom: [{configMapRef: {name: api-env}}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: api-env}
data: {DATABASE_URL: "postgresql://u:p@postgres:5432/app", DB_POOL_SIZE: "30"}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: api}
spec: {scaleTargetRef: {kind: Deployment, name: api}, minReplicas: 1, maxReplicas: 6}
""",
    "k8s/db.yaml": """\
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: postgres}
spec:
  template:
    metadata: {labels: {app: postgres}}
    spec:
      containers: [{name: postgres, image: "postgres:16"}]
---
apiVersion: v1
kind: Service
metadata: {name: postgres}
spec: {selector: {app: postgres}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: pg}
spec: {selector: {matchLabels: {app: postgres}}}
""",
    "k8s/copy.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  template:
    spec:
      containers: [{name: api, image: "api:2"}]
""",
    "k8s/broken.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x\n",
    "k8s/template.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n",
    "kust/kustomization.yaml": "resources: [deploy.yaml]\nnamePrefix: k-\n",
    "kust/deploy.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers: [{name: web, image: "web:1", command: ["gunicorn", "-w", "16"]}]
""",
    "chart/Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n",
    "chart/templates/d.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n",
    "notes/ci.yaml": "on: push\njobs: {}\n",
}


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "SCALELINT_DEBUG", "FORCE_COLOR")}
    env["NO_COLOR"] = "1"
    return env


def scalelint(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "scalelint", *args], check=False, capture_output=True, cwd=cwd,
                          env=_env(), timeout=120)
    assert proc.returncode in (0, 1), proc.stderr.decode(errors="replace")
    assert b"Traceback" not in proc.stderr
    return proc


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    top = tmp_path / "in"
    for name, text in TREE.items():
        p = top / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return top


def snapshot(*tops: Path) -> dict[str, tuple[str, int, int]]:
    """Every entry under the trees: content hash, mtime and mode (directories too: no new files)."""
    out: dict[str, tuple[str, int, int]] = {}
    for top in tops:
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = [d for d in dirnames if d != "__pycache__"]
            for name in dirnames + filenames:
                p = os.path.join(dirpath, name)
                st = os.lstat(p)
                digest = ""
                if os.path.isfile(p) and not os.path.islink(p):
                    with open(p, "rb") as fh:
                        digest = hashlib.sha256(fh.read()).hexdigest()
                out[p] = (digest, st.st_mtime_ns, st.st_mode)
    return out


# ------------------------------------------------------------------------------------------ integrity

def test_inputs_are_never_written(tree: Path, tmp_path: Path) -> None:
    before = snapshot(tree, EXAMPLES)
    assert len(before) > len(TREE)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    paths = [".", str(EXAMPLES)]
    for fmt in ("text", "json", "sarif", "github", "gitlab"):
        scalelint("check", "--isolated", "--format", fmt, *paths, cwd=tree)
        scalelint("check", "--isolated", "--format", fmt, "--output", str(out_dir / f"out.{fmt}"), *paths, cwd=tree)
        assert (out_dir / f"out.{fmt}").stat().st_size > 0
    scalelint("check", "--isolated", "--jobs", "2", *paths, cwd=tree)
    scalelint("check", "--isolated", "-f", "shop/compose.yaml", "-f", "shop/compose.override.yaml", cwd=tree)
    scalelint("check", "--isolated", "k8s/api.yaml", "shop/compose.yaml", cwd=tree)  # group context
    scalelint("check", "--isolated", "--write-baseline", str(out_dir / "baseline.json"), *paths, cwd=tree)
    scalelint("check", "--isolated", "--baseline", str(out_dir / "baseline.json"), *paths, cwd=tree)
    for fmt in ("text", "json", "markdown"):
        scalelint("report", "--isolated", "--format", fmt, *paths, cwd=tree)
    with open(tree / "k8s" / "api.yaml", "rb") as fh:
        proc = subprocess.run([sys.executable, "-m", "scalelint", "check", "--isolated", "-"], stdin=fh,
                              check=False, capture_output=True, cwd=tree, env=_env(), timeout=120)
    assert proc.returncode in (0, 1)
    after = snapshot(tree, EXAMPLES)
    assert sorted(set(after) - set(before)) == [], "new files appeared in the input tree"
    assert sorted(set(before) - set(after)) == [], "files disappeared from the input tree"
    changed = [p for p in before if before[p] != after[p]]
    assert changed == [], changed
    assert sorted(os.listdir(out_dir)) == sorted([f"out.{f}" for f in ("text", "json", "sarif", "github", "gitlab")]
                                                 + ["baseline.json"])


def test_inputs_are_never_written_in_process(tree: Path) -> None:
    """The Python API, with every formatter and the report (no subprocess between the checks)."""
    from scalelint.analyze.capacity import group_report
    from scalelint.check.registry import Registry
    from scalelint.config import Config
    from scalelint.output import github, gitlab, jsonfmt, report, sarif, text
    from scalelint.pipeline import Options, run

    before = snapshot(tree)
    r = run(Options(paths=[str(tree)], jobs=1), Config(), Registry.load())
    for fmt in (text, jsonfmt, sarif, github, gitlab):
        fmt.render(r.result, tool_version="0")
    reports = [group_report(g, f) for g, f in zip(r.groups, r.facts)]
    report.render_text(reports), report.render_markdown(reports), report.render_json(reports, "0")
    assert snapshot(tree) == before


# ------------------------------------------------------------------------------------------ determinism

@pytest.mark.parametrize("fmt", ["json", "sarif", "text"])
def test_output_is_deterministic(tree: Path, fmt: str) -> None:
    paths = ["shop", "blog", "k8s", "kust", "chart", "notes", str(EXAMPLES)]
    first = scalelint("check", "--isolated", "--format", fmt, *paths, cwd=tree)
    second = scalelint("check", "--isolated", "--format", fmt, *paths, cwd=tree)
    reordered = scalelint("check", "--isolated", "--format", fmt, *reversed(paths), cwd=tree)
    shuffled = scalelint("check", "--isolated", "--format", fmt, *paths[3:], *paths[:3], cwd=tree)
    parallel = scalelint("check", "--isolated", "--format", fmt, "--jobs", "2", *paths, cwd=tree)
    assert first.stdout, first.stderr
    assert first.stdout == second.stdout
    assert first.stdout == reordered.stdout
    assert first.stdout == shuffled.stdout
    assert first.stdout == parallel.stdout
    if fmt == "text":
        assert first.stderr == second.stderr == reordered.stderr == shuffled.stderr


def test_output_is_deterministic_for_files_in_another_order(tree: Path) -> None:
    files = sorted(str(p.relative_to(tree)) for p in tree.rglob("*.y*ml") if "kust" not in p.parts
                   and "chart" not in p.parts)
    a = scalelint("check", "--isolated", "--format", "json", "--only-given", *files, cwd=tree)
    b = scalelint("check", "--isolated", "--format", "json", "--only-given", *reversed(files), cwd=tree)
    assert a.stdout == b.stdout


@pytest.mark.parametrize("fmt", ["json", "markdown", "text"])
def test_report_is_deterministic(tree: Path, fmt: str) -> None:
    paths = ["shop", "blog", "k8s", str(EXAMPLES)]
    a = scalelint("report", "--isolated", "--format", fmt, *paths, cwd=tree)
    b = scalelint("report", "--isolated", "--format", fmt, *reversed(paths), cwd=tree)
    assert a.stdout and a.stdout == b.stdout
