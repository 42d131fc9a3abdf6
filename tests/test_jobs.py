"""``--jobs``: worker processes read and model files, and the output does not change by a byte."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from scalelint import batch
from scalelint.batch import Batch

PROD_REPLICAS = """\
code: ACME001
name: prod-replicas
template: json-schema
severity: warning
summary: Every Deployment in namespace team-1 runs at least 3 replicas.
params:
  scope: {kinds: [Deployment], namespaces: [team-1]}
  schema:
    type: object
    properties:
      spec:
        type: object
        properties:
          replicas: {type: integer, minimum: 3}
"""


def _deployment(i: int, ns: str) -> str:
    workers = (2, 4, 9, 16)[i % 4]
    command = (f'["gunicorn", "app:app", "--workers", "{workers}"]' if i % 3 else
               f'["sh", "-c", "exec uvicorn app:app --workers {workers}"]')
    limits = "" if i % 5 == 0 else """
          resources:
            requests: {cpu: 250m, memory: 256Mi}
            limits: {cpu: "1", memory: 512Mi}"""
    suppress = "  # scalelint: disable=SL002" if i % 7 == 0 else ""
    return f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{i}
  namespace: {ns}
  labels: {{app: app-{i}}}
spec:
  replicas: {(1, 2, 3)[i % 3]}
  selector:
    matchLabels: {{app: app-{i}}}
  template:
    metadata:
      labels: {{app: app-{i}}}
    spec:
      containers:
        - name: web
          image: example/app-{i}:1.0
          command: {command}{suppress}
          env:
            - name: DATABASE_URL
              value: postgresql://u:p@db.{ns}.svc.cluster.local:5432/app
            - name: DB_POOL_SIZE
              value: "{(2, 5, 10)[i % 3]}"
          envFrom:
            - configMapRef: {{name: settings}}{limits}
---
apiVersion: v1
kind: Service
metadata:
  name: app-{i}
  namespace: {ns}
spec:
  selector: {{app: app-{i}}}
  ports: [{{port: 80}}]
"""


def _tree(top: Path, files: int) -> Path:
    """A tree of ``files`` manifests with every kind of input a run handles, deterministic."""
    namespaces = 4
    for n in range(namespaces):
        ns = top / f"team-{n}"
        ns.mkdir(parents=True)
        (ns / "db.yaml").write_text(f"""\
apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: db, namespace: team-{n}}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: db}}}}
  template:
    metadata: {{labels: {{app: db}}}}
    spec:
      containers:
        - name: postgres
          image: postgres:16
          args: ["-c", "max_connections=100"]
---
apiVersion: v1
kind: Service
metadata: {{name: db, namespace: team-{n}}}
spec: {{selector: {{app: db}}}}
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: settings, namespace: team-{n}}}
data: {{WEB_CONCURRENCY: "3"}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {{name: app-{n}, namespace: team-{n}}}
spec:
  scaleTargetRef: {{kind: Deployment, name: app-{n}}}
  minReplicas: 1
  maxReplicas: 12
""")
    for i in range(files):
        (top / f"team-{i % namespaces}" / f"app-{i:04d}.yaml").write_text(_deployment(i, f"team-{i % namespaces}"))
    twice = _deployment(1, "team-1").rstrip("\n")
    (top / "team-0" / "app-0001-copy.yaml").write_text(f"{twice}\n---\n{twice}\n")  # SL090: twice in one file
    (top / "team-1" / "broken.yaml").write_text("apiVersion: v1\nkind: [unclosed\n")  # SL000
    (top / "team-2" / "chart-template.yaml").write_text("{{- if .Values.on }}\nkind: Deployment\n{{- end }}\n")
    (top / "team-3" / "package.json").write_text('{"name": "not-a-manifest"}\n')
    (top / "team-3" / "svc.json").write_text(
        '{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "j", "namespace": "team-3"}}\n')
    compose = top / "compose-app"
    compose.mkdir()
    (compose / "compose.yaml").write_text(
        "services:\n  web:\n    image: example/web\n    command: gunicorn app:app --workers ${W:-12}\n"
        "    environment:\n      DATABASE_URL: postgresql://u:p@db:5432/app\n"
        "  db:\n    image: postgres:16\n")
    (compose / "compose.override.yaml").write_text("services:\n  web:\n    deploy:\n      replicas: 4\n")
    return top


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _tree(tmp_path_factory.mktemp("jobs") / "tree", 300)


def _check(cwd: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "FORCE_COLOR", "NO_COLOR")}
    return subprocess.run([sys.executable, "-m", "scalelint", "check", "--isolated", *args], cwd=cwd,
                          capture_output=True, env=env, timeout=300, check=False)


@pytest.mark.parametrize("fmt", ["json", "sarif", "text"])
def test_jobs_output_is_byte_identical(tree: Path, fmt: str) -> None:
    one = _check(tree.parent, "--jobs", "1", "--format", fmt, "tree")
    two = _check(tree.parent, "--jobs", "2", "--format", fmt, "tree")
    assert one.returncode == two.returncode == 1
    assert one.stdout == two.stdout
    assert one.stderr == two.stderr
    text = one.stdout.decode()
    for code in ("SL000", "SL001", "SL002", "SL003", "SL090"):
        assert code in text, f"the tree no longer exercises {code}"


def test_jobs_identical_with_checks_that_read_trees(tree: Path) -> None:
    """A custom JSON Schema check reads object trees: workers keep and send them back."""
    rules = tree.parent / "policies"
    rules.mkdir(exist_ok=True)
    (rules / "ACME001.yaml").write_text(PROD_REPLICAS)
    one = _check(tree.parent, "--jobs", "1", "--format", "json", "--rules-dir", "policies", "tree")
    two = _check(tree.parent, "--jobs", "2", "--format", "json", "--rules-dir", "policies", "tree")
    assert one.stdout == two.stdout and one.stderr == two.stderr
    assert b'"ACME001"' in one.stdout


def test_jobs_default_is_auto_and_zero_means_auto(tree: Path) -> None:
    auto = _check(tree.parent, "--format", "json", "tree")
    zero = _check(tree.parent, "--jobs", "0", "--format", "json", "tree")
    one = _check(tree.parent, "--jobs", "1", "--format", "json", "tree")
    assert auto.stdout == zero.stdout == one.stdout


def test_jobs_rejects_negative(tree: Path) -> None:
    proc = _check(tree.parent, "--jobs", "-1", "tree")
    assert proc.returncode == 2
    assert b"--jobs" in proc.stderr


def _targets(tree: Path) -> list[tuple[str, bool]]:
    return [(str(p), False) for p in sorted(tree.rglob("*.yaml"))]


def test_a_pool_only_for_many_files(tree: Path) -> None:
    targets = _targets(tree)
    assert len(targets) >= batch.MIN_FILES
    many = Batch(targets, keep_raw=False, jobs=2)
    try:
        assert many.parallel
    finally:
        many.close()
    few = Batch(targets[:3], keep_raw=False, jobs=8)  # a pre-commit run: never forks
    assert not few.parallel
    assert not Batch(targets, keep_raw=False, jobs=1).parallel


def test_pool_results_come_in_input_order(tree: Path) -> None:
    targets = _targets(tree)
    serial = [r.path if r else None for r in Batch(targets, keep_raw=False, jobs=1)]
    parallel = [r.path if r else None for r in Batch(targets, keep_raw=False, jobs=3)]
    assert serial == parallel == [p for p, _ in targets]


def test_big_files_are_worth_a_pool_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch, "MIN_BYTES", 1000)
    files = []
    for i in range(4):
        path = tmp_path / f"big-{i}.yaml"
        path.write_text(_deployment(i, "big") * 2)
        files.append((str(path), True))
    big = Batch(files, keep_raw=False, jobs=2)
    try:
        assert big.parallel
        assert [r.path for r in big if r] == [p for p, _ in files]
    finally:
        big.close()


def test_modelled_results_pickle_without_trees(tree: Path) -> None:
    import pickle

    res = batch.work_file(str(tree / "team-1" / "app-0001.yaml"), False, keep_raw=False)
    assert res is not None
    back = pickle.loads(pickle.dumps(res))
    assert [m.obj.kind for m in back.objects] == ["Deployment", "Service"]
    assert all(m.obj.raw is None for m in back.objects)
    assert back.objects[0].part.containers[0].argv[:2] == ["gunicorn", "app:app"]
    kept = batch.work_file(str(tree / "team-1" / "app-0001.yaml"), False, keep_raw=True)
    assert kept is not None and kept.objects[0].obj.raw is not None
