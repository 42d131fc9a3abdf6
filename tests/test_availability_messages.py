"""SL014's message says why the workload must stay up and what is missing, and points at the PDB."""
from __future__ import annotations

from pathlib import Path

from conftest import findings, lint

SPREAD = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: adapter, namespace: monitoring}
spec:
  replicas: 2
  selector: {matchLabels: {app: adapter}}
  template:
    metadata: {labels: {app: adapter}}
    spec:
      containers:
        - name: adapter
          image: example/adapter:1
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: adapter, namespace: monitoring}
spec:
  minAvailable: 1
  selector: {matchLabels: {app: adapter}}
"""


def test_sl014_says_why_and_what_is_missing(tmp_path: Path) -> None:
    [f] = findings(lint(tmp_path, {"adapter.yaml": SPREAD}), "SL014")
    assert f.message == ("Deployment monitoring/adapter must stay up (PodDisruptionBudget adapter selects it) and "
                         "runs 2 replicas, with no topologySpreadConstraints or podAntiAffinity: beyond the "
                         "scheduler's best-effort spreading, nothing keeps them off one node, where they would go "
                         "down together")
    assert [(r.line, r.message) for r in f.related] == [(16, "PodDisruptionBudget adapter selects this workload")]  # its name
