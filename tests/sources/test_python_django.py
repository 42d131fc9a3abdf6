"""Django: aliases × threads, the settings module chosen, and servers without a thread bound."""
from __future__ import annotations

from pathlib import Path

import pytest
from pysource import at, env, read, tree

from scalelint.findings import Loc
from scalelint.model import State, unknown

SETTINGS = {
    "proj/__init__.py": "",
    "proj/settings/__init__.py": "",
    "proj/settings/base.py": """
        import os
        import dj_database_url
        DEBUG = False
        DATABASES = {
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                "HOST": os.getenv("DB_HOST", "db"),
                "CONN_MAX_AGE": int(os.getenv("CONN_MAX_AGE", "60")),
            }
        }
        if "DATABASE_URL" in os.environ:
            DATABASES["default"] = dj_database_url.config(conn_max_age=0)
    """,
    "proj/settings/production.py": """
        from .base import *  # noqa

        DATABASES["replica"] = {"ENGINE": "django.db.backends.postgresql", "HOST": "replica"}
        DATABASES["cache"] = {"ENGINE": "django.db.backends.sqlite3", "NAME": "cache.db"}
        try:
            from .local import *  # noqa
        except ImportError:
            pass
    """,
    "proj/wsgi.py": """
        import os
        from django.core.wsgi import get_wsgi_application
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings.production")
        application = get_wsgi_application()
    """,
    "manage.py": """
        import os
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings.base")
    """,
}


def test_settings_module_from_the_env_one_alias_per_thread(tmp_path: Path) -> None:
    root = tree(tmp_path, SETTINGS)
    c = read(root, env(DJANGO_SETTINGS_MODULE="proj.settings.base"), server="gunicorn", threads=3)
    assert c.library == "django"
    assert c.per_thread is not None and c.per_thread.value == 1
    assert (c.per_process.value, c.per_process.state) == (3, State.KNOWN)
    assert c.where == at(root, "proj/settings/base.py", "{\n")
    assert c.persistent is True
    assert c.conn_max_age is not None and c.conn_max_age.loc == at(root, "proj/settings/base.py", '"60"')
    assert c.pool_size is None and c.max_overflow is None  # no SQLAlchemy pool is assumed for Django


def test_settings_module_from_wsgi_setdefault_star_imports_and_missing_local(tmp_path: Path) -> None:
    root = tree(tmp_path, SETTINGS)
    c = read(root, env(CONN_MAX_AGE="0"), app="proj.wsgi:application", threads=2)
    assert c.settings_module is not None and c.settings_module.value == "proj.settings.production"
    assert c.settings_module.loc == at(root, "proj/wsgi.py", "proj.settings.production")
    assert c.per_thread is not None and c.per_thread.value == 2  # default + replica; the SQLite alias is not
    assert c.per_process.value == 4
    assert c.persistent is False


def test_database_url_branch_decided_by_the_env(tmp_path: Path) -> None:
    root = tree(tmp_path, SETTINGS)
    c = read(root, env(DJANGO_SETTINGS_MODULE="proj.settings.base", DATABASE_URL="mysql://u:p@mysql/app"))
    assert c.per_process.value == 1 and c.persistent is False
    c = read(root, env(DJANGO_SETTINGS_MODULE="proj.settings.base", DATABASE_URL="sqlite:///db.sqlite3"))
    assert c.per_process.value == 0
    assert any("SQLite" in n.message for n in c.notices)


def test_conn_max_age_none_is_persistent_without_limit(tmp_path: Path) -> None:
    root = tree(tmp_path, {"settings.py": """
        DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "CONN_MAX_AGE": None}}
    """})
    c = read(root, env(DJANGO_SETTINGS_MODULE="settings"))
    assert c.persistent is True and c.conn_max_age is not None and c.conn_max_age.value is None


@pytest.mark.parametrize("pool,size", [("True", 4), ('{"min_size": 2, "max_size": 8}', 8), ('{"min_size": 6}', 6)])
def test_psycopg_pool_option_replaces_the_per_thread_connection(tmp_path: Path, pool: str, size: int) -> None:
    root = tree(tmp_path, {"settings.py": f"""
        DATABASES = {{"default": {{"ENGINE": "django.db.backends.postgresql", "OPTIONS": {{"pool": {pool}}}}}}}
    """})
    c = read(root, env(DJANGO_SETTINGS_MODULE="settings"), server="uvicorn", threads=4)
    assert c.per_thread is not None and c.per_thread.value == 0
    assert c.per_process.value == size
    assert c.unbounded is None  # the pool bounds it even under ASGI


@pytest.mark.parametrize("kw,word", [
    ({"server": "uvicorn"}, "Django under uvicorn opens one connection per in-flight request"),
    ({"server": "daphne"}, "Django under daphne opens one connection per in-flight request"),
    ({"server": "gunicorn", "worker_class": "uvicorn.workers.UvicornWorker"}, "(ASGI)"),
    ({"server": "gunicorn", "worker_class": "gevent"}, "gevent workers"),
    ({"server": "uwsgi", "worker_class": "eventlet"}, "eventlet workers"),
    ({"server": "granian", "app": "proj.asgi:application"}, "served as ASGI"),
])
def test_asgi_and_green_servers_are_unbounded(tmp_path: Path, kw: dict[str, str], word: str) -> None:
    root = tree(tmp_path, SETTINGS)
    c = read(root, env(DJANGO_SETTINGS_MODULE="proj.settings.base"), **kw)
    assert c.unbounded is not None and word in c.unbounded
    assert c.per_process.state is State.UNKNOWN and c.per_process.reason == c.unbounded
    assert c.effective is None


def test_django_environ_db_url_and_scheme_defaults(tmp_path: Path) -> None:
    root = tree(tmp_path, {"settings.py": """
        import environ
        env = environ.Env(DB_CONN_AGE=(int, 30))
        environ.Env.read_env(".env")
        DATABASES = {"default": env.db("DATABASE_URL", default="sqlite:///local.db")}
        DATABASES["default"]["CONN_MAX_AGE"] = env("DB_CONN_AGE")
        THREADS = env.int("THREADS", default=2)
    """})
    c = read(root, env(DJANGO_SETTINGS_MODULE="settings", DATABASE_URL="postgres://u:p@db/app"), threads=2)
    assert c.per_process.value == 2 and c.persistent is True
    assert c.conn_max_age is not None and c.conn_max_age.value == 30
    assert read(root, env(DJANGO_SETTINGS_MODULE="settings")).per_process.value == 0


def test_dj_database_url_parse_of_os_environ(tmp_path: Path) -> None:
    root = tree(tmp_path, {"settings.py": """
        import os
        import dj_database_url
        DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=600)}
    """})
    c = read(root, env(DJANGO_SETTINGS_MODULE="settings", DATABASE_URL="postgresql://db/app"))
    assert c.per_process.value == 1 and c.persistent is True


def test_dj_database_url_config_without_url_gives_no_alias(tmp_path: Path) -> None:
    root = tree(tmp_path, {"settings.py": """
        import dj_database_url
        DATABASES = {"default": dj_database_url.config()}
    """})
    c = read(root, env(DJANGO_SETTINGS_MODULE="settings"))
    assert c.per_process.value == 0
    assert any("has no ENGINE" in n.message for n in c.notices)


def test_branch_on_an_unknown_variable_leaves_databases_unknown(tmp_path: Path) -> None:
    root = tree(tmp_path, {"settings.py": """
        import os
        DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3"}}
        if os.getenv("DB") == "postgres":
            DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql"}}
    """})
    e = env(DJANGO_SETTINGS_MODULE="settings")
    e["DB"] = unknown(Loc("k8s.yaml", 4, 9), "from Secret db")
    c = read(root, e)
    assert c.per_process.state is State.UNKNOWN
    assert "cannot be decided" in c.per_process.reason and "Secret db" in c.per_process.reason


def test_module_files_map_a_settings_module_to_the_file_the_image_copies(tmp_path: Path) -> None:
    root = tree(tmp_path, {"settings/__init__.py": "", "settings/common.py": "DEBUG = False\n",
                           "docker/config.py": """
        from .common import *
        DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql"}}
    """})
    e = env(DJANGO_SETTINGS_MODULE="settings.config")
    c = read(root, e)
    assert c.library == "django" and c.per_process.state is State.UNKNOWN
    assert "not in the build context" in c.per_process.reason
    c = read(root, e, module_files={"settings.config": "docker/config.py"})
    assert c.per_process.value == 1 and c.where == at(root, "docker/config.py", "{\"default\"")


def test_settings_without_databases(tmp_path: Path) -> None:
    root = tree(tmp_path, {"settings.py": "DEBUG = True\n"})
    c = read(root, env(DJANGO_SETTINGS_MODULE="settings"))
    assert c.library == "django" and c.per_process.value == 0
    assert any("sets no DATABASES" in n.message for n in c.notices)


def test_not_django_at_all(tmp_path: Path) -> None:
    root = tree(tmp_path, {"main.py": "print('hello')\n"})
    c = read(root)
    assert c.library is None and c.per_process.state is State.UNKNOWN
