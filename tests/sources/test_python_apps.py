"""The Python settings reader on real applications (read-only copies in /work/shared/apps).

Each expectation comes from the application's EXPECTED.md: the connections one worker
process may hold, and the source line that decides it. The tests skip when the copies are
not there (a checkout without the shared data).
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from scalelint.findings import Loc
from scalelint.model import State, Val, known
from scalelint.sources.python import read_connections
from scalelint.sources.python.tree import SourceTree

APPS = Path(__file__).resolve().parents[3] / "shared" / "apps"


def app_root(name: str, sub: str = "") -> str:
    root = APPS / name / sub
    if not root.is_dir():
        pytest.skip(f"{root} is not available")
    return str(root)


def env(**values: str) -> dict[str, Val[str]]:
    return {k: known(v, Loc("compose.yml", i + 1, 1)) for i, (k, v) in enumerate(values.items())}


def line_of(v: Val[Any] | Loc | None) -> tuple[str, int]:
    loc = v.loc if isinstance(v, Val) else v
    assert loc is not None
    return loc.path, loc.line


def test_fastapi_template_sqlmodel_defaults_at_the_create_engine_call() -> None:
    root = app_root("fastapi__full-stack-fastapi-template", "backend")
    c = read_connections(root, env(DATABASE_URL="postgresql://postgres:x@db:5432/app"), server="uvicorn",
                         app="app.main:app")
    assert c.library == "sqlmodel"
    assert c.per_process.value == 15 and c.per_process.state is State.DEFAULT
    call = (os.path.join(root, "app/core/db.py"), 7)
    assert c.pool_size is not None and c.max_overflow is not None
    assert (c.pool_size.value, c.pool_size.state, line_of(c.pool_size)) == (5, State.DEFAULT, call)
    assert (c.max_overflow.value, c.max_overflow.state, line_of(c.max_overflow)) == (10, State.DEFAULT, call)
    assert line_of(c.where) == call
    assert c.unbounded is None
    assert c.effective is not None and c.effective.value == 15  # async server: all 15 usable


def test_ctfd_flask_sqlalchemy_2_mysql_pool_10_plus_overflow_20() -> None:
    root = app_root("CTFd__CTFd")
    c = read_connections(root, env(DATABASE_URL="mysql+pymysql://ctfd:ctfd@db/ctfd", WORKERS="1"),
                         server="gunicorn", worker_class="gevent", app="CTFd:create_app()",
                         db_scheme="mysql+pymysql")
    assert c.library == "flask-sqlalchemy 2.5.1"
    assert c.per_process.value == 30
    assert c.pool_size is not None and c.max_overflow is not None
    assert (c.pool_size.value, c.pool_size.state) == (10, State.DEFAULT)
    assert line_of(c.pool_size) == (os.path.join(root, "requirements.txt"), 71)
    assert (c.max_overflow.value, c.max_overflow.state) == (20, State.KNOWN)
    assert line_of(c.max_overflow) == (os.path.join(root, "CTFd/config.py"), 278)
    assert line_of(c.where) == (os.path.join(root, "CTFd/models/__init__.py"), 12)
    left_out = " ".join(n.message for n in c.notices)
    assert "ping.py" in left_out and "throw-away" in left_out  # ping.py and the migration helper


def test_ctfd_overflow_follows_the_env_when_the_ini_value_is_empty() -> None:
    root = app_root("CTFd__CTFd")
    c = read_connections(root, env(DATABASE_URL="mysql+pymysql://ctfd:ctfd@db/ctfd", SQLALCHEMY_MAX_OVERFLOW="5"),
                         db_scheme="mysql+pymysql")
    assert c.max_overflow is not None and c.max_overflow.value == 5
    assert c.max_overflow.loc == Loc("compose.yml", 2, 1)
    assert c.per_process.value == 15


def test_redash_flask_sqlalchemy_2_unset_keys_mean_sqlalchemy_defaults() -> None:
    root = app_root("getredash__redash")
    c = read_connections(root, env(REDASH_DATABASE_URL="postgresql://postgres@postgres/postgres"),
                         server="gunicorn", app="redash.wsgi:app")
    assert c.library == "flask-sqlalchemy 2.5.1"
    assert c.per_process.value == 15 and c.per_process.state is State.DEFAULT
    settings = os.path.join(root, "redash/settings/__init__.py")
    assert c.pool_size is not None and line_of(c.pool_size) == (settings, 35)
    assert c.max_overflow is not None and line_of(c.max_overflow) == (settings, 34)


def test_redash_disable_pool_switches_to_null_pool() -> None:
    root = app_root("getredash__redash")
    c = read_connections(root, env(SQLALCHEMY_DISABLE_POOL="true"), server="gunicorn")
    assert c.unbounded is not None and "NullPool" in c.unbounded
    assert c.per_process.state is State.UNKNOWN


def test_redash_pool_keys_from_the_env() -> None:
    root = app_root("getredash__redash")
    c = read_connections(root, env(SQLALCHEMY_POOL_SIZE="8", SQLALCHEMY_MAX_OVERFLOW="2"))
    assert c.per_process.value == 10 and c.per_process.state is State.KNOWN


def test_healthchecks_postgres_branch_one_alias() -> None:
    root = app_root("healthchecks__healthchecks")
    c = read_connections(root, env(DB="postgres", DB_HOST="db", DB_CONN_MAX_AGE="0"), server="uwsgi", threads=1)
    assert c.library == "django"
    assert c.per_process.value == 1 and c.per_thread is not None and c.per_thread.value == 1
    settings = os.path.join(root, "hc/settings.py")
    assert c.where is not None and c.where.path == settings and 220 <= c.where.line <= 229
    assert c.persistent is False
    assert c.conn_max_age is not None and c.conn_max_age.value == 0


def test_healthchecks_without_db_is_sqlite_not_a_client() -> None:
    root = app_root("healthchecks__healthchecks")
    c = read_connections(root, env(), server="uwsgi", threads=1)
    assert c.library == "django"
    assert c.per_process.value == 0
    assert any("SQLite" in n.message for n in c.notices)


def test_bakerydemo_database_url_branch_threads_times_aliases() -> None:
    root = app_root("wagtail__bakerydemo")
    c = read_connections(root, env(DATABASE_URL="postgres://app_user:changeme@db/app_db",
                                   DJANGO_SETTINGS_MODULE="bakerydemo.settings.dev"), server="uwsgi", threads=4)
    assert c.library == "django"
    assert c.per_process.value == 4 and c.per_thread is not None and c.per_thread.value == 1
    assert line_of(c.where) == (os.path.join(root, "bakerydemo/settings/base.py"), 125)
    assert c.persistent is True
    assert c.conn_max_age is not None and c.conn_max_age.value == 500
    assert c.settings_module is not None and c.settings_module.value == "bakerydemo.settings.dev"


def test_bakerydemo_without_database_url_is_sqlite() -> None:
    root = app_root("wagtail__bakerydemo")
    c = read_connections(root, env(DJANGO_SETTINGS_MODULE="bakerydemo.settings.dev"), threads=4)
    assert c.per_process.value == 0


def test_doccano_environs_conn_max_age_and_one_alias() -> None:
    root = app_root("doccano__doccano", "backend")
    c = read_connections(root, env(DATABASE_URL="postgres://u:p@postgres:5432/d?sslmode=disable",
                                   DJANGO_SETTINGS_MODULE="config.settings.production"),
                         server="gunicorn", threads=1, app="config.wsgi")
    assert c.library == "django" and c.per_process.value == 1
    assert c.persistent is True
    assert c.conn_max_age is not None and c.conn_max_age.value == 500
    assert line_of(c.conn_max_age) == (os.path.join(root, "config/settings/base.py"), 205)


def test_doccano_settings_module_from_wsgi_when_the_env_does_not_say() -> None:
    root = app_root("doccano__doccano", "backend")
    c = read_connections(root, env(DATABASE_URL="postgres://u:p@postgres/d"), app="config.wsgi")
    assert c.settings_module is not None and c.settings_module.value == "config.settings.production"
    assert c.per_process.value == 1


def test_taiga_settings_copied_by_the_dockerfile_via_module_files() -> None:
    root = app_root("taigaio__taiga", "taiga-back")
    c = read_connections(root, env(POSTGRES_HOST="taiga-db", DJANGO_SETTINGS_MODULE="settings.config"),
                         server="gunicorn", threads=1, app="taiga.wsgi:application",
                         module_files={"settings.config": "docker/config.py"})
    assert c.library == "django" and c.per_process.value == 1
    assert line_of(c.where) == (os.path.join(root, "docker/config.py"), 18)
    assert c.persistent is False


def test_taiga_under_uvicorn_is_unbounded() -> None:
    root = app_root("taigaio__taiga", "taiga-back")
    c = read_connections(root, env(DJANGO_SETTINGS_MODULE="settings.config"), server="uvicorn",
                         module_files={"settings.config": "docker/config.py"})
    assert c.unbounded == "Django under uvicorn opens one connection per in-flight request"
    assert c.per_process.state is State.UNKNOWN and c.effective is None


def test_taiga_speed_and_files_parsed() -> None:
    """The largest tree (~550 files): a call reads each file at most once and parses only a few."""
    root = app_root("taigaio__taiga", "taiga-back")
    parsed: list[str] = []
    original = SourceTree.parse

    def counting(self: SourceTree, rel: str):  # type: ignore[no-untyped-def]
        if rel not in self._parsed:
            parsed.append(rel)
        return original(self, rel)

    SourceTree.parse = counting  # type: ignore[method-assign]
    try:
        started = time.perf_counter()
        c = read_connections(root, env(DJANGO_SETTINGS_MODULE="settings.config"), threads=1,
                             module_files={"settings.config": "docker/config.py"})
        elapsed = time.perf_counter() - started
    finally:
        SourceTree.parse = original  # type: ignore[method-assign]
    assert c.per_process.value == 1
    assert len(parsed) == len(set(parsed)) and len(parsed) <= 10
    assert elapsed < 2.0, f"{elapsed:.2f} s"


@pytest.mark.parametrize("name,sub", [
    ("fastapi__full-stack-fastapi-template", "backend"), ("CTFd__CTFd", ""), ("getredash__redash", ""),
    ("healthchecks__healthchecks", ""), ("wagtail__bakerydemo", ""), ("doccano__doccano", "backend"),
    ("taigaio__taiga", "taiga-back"), ("taigaio__taiga", ""),
])
def test_every_app_reads_without_a_parse_failure(name: str, sub: str) -> None:
    c = read_connections(app_root(name, sub), env())
    assert not [n for n in c.notices if n.message.startswith(("not read", "cannot read"))]
