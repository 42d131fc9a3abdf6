"""The seven real applications of ``../shared/apps``, end to end through ``scalelint report``.

Each ``EXPECTED.md`` gives the true worker processes and connections per process of each
service, with the lines that decide them; these tests run the CLI on the deploy files exactly as
a user would (the working directory is the application's root, nothing copied) and compare the
JSON report with those tables. Where EXPECTED.md needs something the tree lacks (healthchecks'
``docker/.env``), the test copies the tree and supplies it, and also checks what is said without
it. They skip when ``../shared/apps`` is absent.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import SHARED, invoke

APPS = SHARED / "apps"


def app(name: str) -> Path:
    root = APPS / name
    if not root.is_dir():
        pytest.skip(f"{root} is not available")
    return root


def report(root: Path, monkeypatch: pytest.MonkeyPatch, *args: str, config: Path | None = None) -> dict[str, Any]:
    """``scalelint report --format json`` run from ``root``, with a config file or none."""
    monkeypatch.chdir(root)
    options = ["--config", str(config)] if config is not None else ["--isolated"]
    code, out, err = invoke("report", *options, "--format", "json", *args)
    assert code == 0, err
    return json.loads(out)


def config_file(tmp_path: Path, text: str, root: Path) -> Path:
    """A config outside the read-only tree; ``{root}`` is the app, relative to the config as a user writes it."""
    path = tmp_path / ".scalelint.yaml"
    path.write_text(text.format(root=os.path.relpath(root, tmp_path)), encoding="utf-8")
    return path


def database(doc: dict[str, Any], name: str) -> dict[str, Any]:
    found = [d for g in doc["groups"] for d in g["databases"] if d["name"] == name]
    assert len(found) == 1, [d["name"] for g in doc["groups"] for d in g["databases"]]
    return found[0]


def table(db: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    """service → (workers, connections per worker, connections of all its replicas)."""
    return {c["workload"]: (c["workers"], c["per_worker"], c["connections"]) for c in db["clients"]}


def source(client: dict[str, Any], key: str) -> tuple[str, int]:
    """``path:line`` of where a number was read (the column is not in EXPECTED.md)."""
    path, line, _ = client[f"{key}_source"].rsplit(":", 2)
    return path.removeprefix("./"), int(line)


def client(db: dict[str, Any], name: str) -> dict[str, Any]:
    [found] = [c for c in db["clients"] if c["workload"] == name]
    return found


# ------------------------------------------------------------------------------------------ apps


def test_fastapi_template_dev_project_is_one_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """compose.yml + compose.override.yml: `fastapi dev` replaces the image's `--workers 4`."""
    db = database(report(app("fastapi__full-stack-fastapi-template"), monkeypatch, "compose.yml"), "db")
    assert table(db) == {"backend": (1, 15, 15)}
    assert (db["available"], db["demand"]) == (97, 15)
    backend = client(db, "backend")
    assert source(backend, "workers")[0] == "compose.override.yml"
    assert backend["pool_assumed"] is False  # the defaults are SQLAlchemy's, found at the create_engine call


def test_fastapi_template_deploy_project_is_four_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """`-f compose.yml -f compose.deploy.yml`: the image CMD's `--workers 4` (backend/Dockerfile:65)."""
    doc = report(app("fastapi__full-stack-fastapi-template"), monkeypatch,
                 "-f", "compose.yml", "-f", "compose.deploy.yml")
    db = database(doc, "db")
    assert table(db) == {"backend": (4, 15, 60)}
    assert source(client(db, "backend"), "workers") == ("backend/Dockerfile", 65)


def test_ctfd_one_gevent_worker_with_flask_sqlalchemy_mysql_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    db = database(report(app("CTFd__CTFd"), monkeypatch, "docker-compose.yml"), "db")
    assert table(db) == {"ctfd": (1, 30, 30)}  # pool 10 (Flask-SQLAlchemy 2.x, MySQL) + overflow 20
    ctfd = client(db, "ctfd")
    assert (ctfd["pool"], ctfd["overflow"]) == (10, 20)
    assert source(ctfd, "workers") == ("docker-compose.yml", 11)
    assert (db["engine"], db["available"]) == ("mysql", 151)


def test_redash_development_project(monkeypatch: pytest.MonkeyPatch) -> None:
    db = database(report(app("getredash__redash"), monkeypatch, "compose.yaml"), "postgres")
    assert table(db) == {"server": (1, 15, 15), "scheduler": (1, 15, 15), "worker": (1, 15, 15)}
    assert source(client(db, "server"), "workers") == ("bin/docker-entrypoint", 119)


def test_redash_cypress_project_is_over_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """The production entrypoint branches: 4 gunicorn + 1 scheduler + 2 RQ workers, 15 each = 105 > 97."""
    root = app("getredash__redash")
    db = database(report(root, monkeypatch, ".ci/compose.cypress.yaml"), "postgres")
    assert table(db) == {"server": (4, 15, 60), "scheduler": (1, 15, 15), "worker": (2, 15, 30)}
    assert (db["demand"], db["available"], db["status"]) == (105, 97, "over")
    assert source(client(db, "server"), "workers") == ("bin/docker-entrypoint", 50)
    code, out, _ = invoke("check", "--isolated", "--select", "SL003", ".ci/compose.cypress.yaml")
    assert code == 1 and "demand 105 > 97 available" in out


def test_wagtail_bakerydemo_uwsgi_threads_times_django_aliases(monkeypatch: pytest.MonkeyPatch) -> None:
    db = database(report(app("wagtail__bakerydemo"), monkeypatch, "docker-compose.yml"), "db")
    assert table(db) == {"app": (2, 4, 8)}  # 2 processes × (4 threads × 1 alias)
    appc = client(db, "app")
    assert source(appc, "workers") == ("etc/uwsgi.ini", 4)
    assert source(appc, "threads") == ("etc/uwsgi.ini", 5)
    assert "assumed" not in appc["pool_description"]


DOCCANO = """\
sources:
  - image: "doccano/doccano:backend"
    path: {root}
    dockerfile: docker/Dockerfile.prod
"""


def test_doccano_needs_the_image_mapping(monkeypatch: pytest.MonkeyPatch) -> None:
    """Image-only services: without a mapping the workers are unknown, never guessed."""
    db = database(report(app("doccano__doccano"), monkeypatch, "docker/docker-compose.prod.yml"), "postgres")
    assert {c["workload"]: c["workers"] for c in db["clients"]} == {"backend": "unknown", "celery": "unknown", "flower": "unknown"}
    assert db["complete"] is False
    assert any("image" in reason for c in db["clients"] for reason in c["unknown"])


def test_doccano_with_the_image_mapping(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    root = app("doccano__doccano")
    cfg = config_file(tmp_path, DOCCANO, root)
    db = database(report(root, monkeypatch, "docker/docker-compose.prod.yml", config=cfg), "postgres")
    assert table(db) == {"backend": (4, 1, 4), "celery": (1, 1, 1), "flower": (0, 1, 0)}
    assert db["demand"] == 5
    assert source(client(db, "backend"), "workers") == ("tools/prod-django.sh", 36)
    assert source(client(db, "celery"), "workers") == ("tools/prod-celery.sh", 13)


TAIGA = """\
sources:
  - image: "taigaio/taiga-back*"
    path: {root}/taiga-back
    dockerfile: docker/Dockerfile
"""


def test_taiga_back_and_async_through_the_image_mapping(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    root = app("taigaio__taiga")
    cfg = config_file(tmp_path, TAIGA, root)
    db = database(report(root, monkeypatch, "docker-compose.yml", config=cfg), "taiga-db")
    assert table(db) == {"taiga-back": (3, 1, 3), "taiga-async": (4, 1, 4)}
    assert source(client(db, "taiga-back"), "workers") == ("taiga-back/docker/entrypoint.sh", 28)
    assert source(client(db, "taiga-async"), "workers") == ("taiga-back/docker/async_entrypoint.sh", 18)


def test_healthchecks_as_shipped_has_no_client_and_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    """docker/.env is not in the repository: `db` is reported with demand 0 and the missing env file
    is a notice, not a guess."""
    root = app("healthchecks__healthchecks")
    db = database(report(root, monkeypatch, "docker/docker-compose.yml"), "db")
    assert (db["clients"], db["demand"], db["available"]) == ([], 0, 97)
    code, out, err = invoke("check", "--isolated", "docker/docker-compose.yml")
    assert code == 1  # SL001: no limits on either service
    assert "docker/docker-compose.yml:20:11: notice: env_file .env not found" in out + err


def test_healthchecks_with_the_template_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """With docker/.env = docker/.env.example: 4 uWSGI workers + the sendalerts and sendreports
    daemons, 1 connection each. EXPECTED.md counts 7: sendalerts also runs a thread pool of
    `--num-workers` (an argparse default in the command's code), which scalelint does not read — it
    says 6, one short, and each number's line."""
    copy = tmp_path / "healthchecks"
    shutil.copytree(app("healthchecks__healthchecks"), copy)
    shutil.copy(copy / "docker" / ".env.example", copy / "docker" / ".env")
    db = database(report(copy, monkeypatch, "docker/docker-compose.yml"), "db")
    web = client(db, "web")
    assert (web["workers"], web["per_worker"], web["connections"]) == (6, 1, 6)
    groups = {g["label"]: g["processes"] for g in web["process_groups"]}
    assert sorted(groups.values()) == [1, 1, 4]
    assert any("sendalerts" in label for label in groups) and any("sendreports" in label for label in groups)
    assert {g["per_process"] for g in web["process_groups"]} == {
        "(1 thread × 1 alias, django (hc/settings.py:221:17) = 1)"}
