"""SL001's message says what a missing limit lets happen, and no more.

A memory limit is what keeps one leaking worker from taking the node (the kernel's OOM killer,
kubelet evictions). A missing CPU limit does not starve neighbours that request CPU (CFS shares
follow requests): the container uses idle CPU, and its worker count cannot be checked against a
limit. Teams that drop CPU limits on purpose are told how to say so.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from conftest import findings, lint

K8S = """\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: api}}
spec:
  template:
    spec:
      containers:
        - name: api
          image: example/api:1
          resources: {resources}
"""

COMPOSE = """\
services:
  api:
    image: example/api:1
{deploy}"""


@pytest.mark.parametrize("resources, consequence", [
    ("{}", ("sets no memory and CPU limits: one leak, or more workers, can take all of the node's memory and get "
           "other pods evicted")),
    ("{limits: {cpu: '1'}}", ("sets no memory limit: one leak, or more workers, can take all of the node's memory "
                             "and get other pods evicted")),
    ("{requests: {cpu: 100m, memory: 256Mi}, limits: {memory: 512Mi}}",
     ("sets no CPU limit: beyond its 100m CPU request it uses whatever CPU is idle on the node, and its workers "
     "cannot be checked against a CPU limit (teams that do not set CPU limits use `require: [memory]`)")),
    ("{limits: {memory: 512Mi}}",
     ("sets no CPU limit: without a CPU request it uses whatever CPU is idle on the node, and its workers cannot "
     "be checked against a CPU limit (teams that do not set CPU limits use `require: [memory]`)")),
])
def test_kubernetes_message_names_what_is_unbounded(tmp_path: Path, resources: str, consequence: str) -> None:
    [f] = findings(lint(tmp_path, {"api.yaml": K8S.format(resources=resources)}), "SL001")
    assert f.message == f"container api of Deployment api {consequence}"
    assert "starve" not in f.message


@pytest.mark.parametrize("deploy, consequence", [
    ("", "sets no memory and CPU limits: one leak, or more workers, can take all of the host's memory"),
    ("    cpus: 1\n", "sets no memory limit: one leak, or more workers, can take all of the host's memory"),
    ("    mem_limit: 512m\n", ("sets no CPU limit: a busy process can take every core of the host, and its workers "
                            "cannot be checked against a limit")),
])
def test_compose_message_names_what_is_unbounded(tmp_path: Path, deploy: str, consequence: str) -> None:
    [f] = findings(lint(tmp_path, {"compose.yaml": COMPOSE.format(deploy=deploy)}), "SL001")
    assert f.message == f"service api {consequence}"


@pytest.mark.parametrize("version, fix", [
    ("version: '2.4'\n", "set mem_limit and cpus (the version 2.4 file format has no deploy.resources)"),
    ("version: '3.8'\n", "set deploy.resources.limits.memory and deploy.resources.limits.cpus"),
    ("", "set deploy.resources.limits.memory and deploy.resources.limits.cpus"),
])
def test_compose_fix_follows_the_file_format(tmp_path: Path, version: str, fix: str) -> None:
    """`deploy:` is not part of the version 2 format (docker-compose 1.x refuses it); mem_limit and cpus
    work everywhere."""
    [f] = findings(lint(tmp_path, {"compose.yaml": version + COMPOSE.format(deploy="")}), "SL001")
    assert f.fix == fix
