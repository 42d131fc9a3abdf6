"""The plan on inputs as real repositories write them: what it does not know, it does not advise on.

Judged by hand on the corpus, plan rows went wrong where an input was misread or guessed and the
advice was given with the certainty of a written number. Each case here is one of those shapes.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import invoke


def plan_of(tmp_path: Path, compose: str, name: str = "api") -> dict:
    (tmp_path / "compose.yaml").write_text(compose)
    code, out, err = invoke("plan", "--isolated", "--format", "json", str(tmp_path / "compose.yaml"))
    assert code == 0, err
    [row] = [w for w in json.loads(out)["workloads"] if w["workload"] == name]
    return row


DB = """\
  db:
    image: postgres:16
"""


def test_an_assumed_pool_is_said_wherever_the_budget_is_quoted(tmp_path: Path) -> None:
    row = plan_of(tmp_path, """\
services:
  api:
    image: example/api:1
    command: gunicorn -w 2 app:app
    environment:
      DATABASE_URL: postgresql://app@db/app
    deploy:
      resources:
        limits: {cpus: "4", memory: 8g}
""" + DB)
    # 97 ÷ (1 replica × 15) = 6 workers, on SQLAlchemy's 5 + 10 assumed: the reason says it
    assert row["max_workers"]["by_budget"] == 6
    assert row["next_step"] == "workers"
    assert "15 connections per worker (assumed: SQLAlchemy's 5 + 10, no pool setting read)" in " ".join(row["reasons"])


@pytest.mark.parametrize("env, network, why", [
    ("      DB_HOST: 127.0.0.1\n      DB_NAME: app\n", "    network_mode: host\n",
     "DB_HOST names 127.0.0.1: the database at that address is not in the files linted"),
    ("      DB_NAME: app\n      DB_PASSWORD: secret\n", "", "it sets DB_NAME but no database host scalelint reads"),
    ("      DATABASE_URL: postgresql://app@pg.internal/app\n", "",
     "DATABASE_URL names 'pg.internal', which is not defined in the files linted"),
])
def test_a_database_link_not_read_is_not_called_no_client(tmp_path: Path, env: str, network: str, why: str) -> None:
    """'not a database client: the budget does not limit it' only where nothing says it uses one."""
    row = plan_of(tmp_path, f"""\
services:
  api:
    image: example/api:1
    command: gunicorn -w 2 app:app
{network}    environment:
{env}    deploy:
      resources:
        limits: {{cpus: "4", memory: 8g}}
""" + DB)
    assert row["max_workers"]["by_budget"] is None
    text = " ".join(row["reasons"])
    assert f"its database link could not be read ({why}): the connection budget is not checked" in text
    assert "not a database client" not in text


def test_no_database_at_all_is_not_a_client(tmp_path: Path) -> None:
    row = plan_of(tmp_path, """\
services:
  api:
    image: example/api:1
    command: gunicorn -w 2 app:app
    environment:
      LOG_LEVEL: info
    deploy:
      resources:
        limits: {cpus: "4", memory: 8g}
""")
    assert row["max_workers"]["by_budget"] is None and row["next_step"] == "workers"


@pytest.mark.parametrize("command, server", [
    ("python manage.py runserver 0.0.0.0:8000", "manage.py runserver"),
    ("flask run --host 0.0.0.0", "flask run"),
    ("uvicorn app.main:app --reload --host 0.0.0.0", "a server under --reload"),
])
def test_a_development_server_gets_no_scaling_advice(tmp_path: Path, command: str, server: str) -> None:
    """A server it does not plan (runserver and flask run run no worker processes) is left out; one it
    does (uvicorn) gets `none` with the reason."""
    (tmp_path / "compose.yaml").write_text(f"""\
services:
  api:
    image: example/api:1
    command: {command}
    environment:
      DATABASE_URL: postgresql://app@db/app
""" + DB)
    code, out, err = invoke("plan", "--isolated", "--format", "json", str(tmp_path / "compose.yaml"))
    assert code == 0, err
    rows = [w for w in json.loads(out)["workloads"] if w["workload"] == "api"]
    assert all(r["next_step"] == "none" for r in rows)
    for r in rows:
        assert r["reasons"][0].startswith(f"{server} is a development server: one process and no workers setting")
    assert rows or server != "a server under --reload"


def test_without_cpu_or_memory_limits_the_policy_is_not_a_target(tmp_path: Path) -> None:
    row = plan_of(tmp_path, """\
services:
  api:
    image: example/api:1
    command: gunicorn -w 2 app:app
""")
    assert row["next_step"] == "workers"
    assert row["reasons"][0].endswith("with neither a CPU nor a memory ceiling known, nothing says one pod can run "
                                      "them: set its limits (SL001) and plan again before raising workers")


def test_web_concurrency_zero_is_one_process(tmp_path: Path) -> None:
    """Puma's single mode (WEB_CONCURRENCY=0) serves from one process, with the Rails pool."""
    row = plan_of(tmp_path, """\
services:
  api:
    image: example/rails-api:1
    environment:
      WEB_CONCURRENCY: "0"
      RAILS_MAX_THREADS: "15"
      DATABASE_URL: postgres://app@db/app
""" + DB)
    assert (row["workers"], row["per_worker"]) == (1, 15)
    assert row["max_workers"]["by_budget"] == 6  # 97 ÷ (1 × 15)


def test_gunicorn_config_file_out_of_reach_makes_workers_unknown(tmp_path: Path) -> None:
    """`gunicorn -c gunicorn_conf.py` with the image not in the files linted: the file decides, and it is
    not read, so the count is unknown, never gunicorn's default 1."""
    row = plan_of(tmp_path, """\
services:
  api:
    image: example/api:1
    command: gunicorn -c gunicorn_conf.py app:app
""")
    assert row["workers"] is None
    assert "gunicorn_conf.py" in row["reasons"][0]
