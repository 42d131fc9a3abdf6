"""SQLAlchemy, SQLModel and Flask-SQLAlchemy pools read from synthetic build contexts."""
from __future__ import annotations

import os
from pathlib import Path

from pysource import at, env, read, tree

from scalelint.findings import Loc
from scalelint.model import State, Val, unknown


def test_create_engine_without_arguments_takes_sqlalchemy_defaults_at_the_call(tmp_path: Path) -> None:
    root = tree(tmp_path, {"app/__init__.py": "", "app/db.py": """
        from sqlalchemy import create_engine
        engine = create_engine("postgresql://u@db/app")
    """})
    c = read(root)
    call = at(root, "app/db.py", "create_engine(")
    assert c.library == "sqlalchemy" and c.where == call
    assert c.pool_size == Val(5, call, State.DEFAULT, "SQLAlchemy default pool_size 5")
    assert c.max_overflow == Val(10, call, State.DEFAULT, "SQLAlchemy default max_overflow 10")
    assert (c.per_process.value, c.per_process.state) == (15, State.DEFAULT)


def test_settings_followed_through_imported_constants_getenv_and_or_default(tmp_path: Path) -> None:
    root = tree(tmp_path, {"app/__init__.py": "", "app/config.py": """
        import os
        POOL_SIZE = int(os.getenv("DB_POOL_SIZE", "20"))
        MAX_OVERFLOW = int(os.environ.get("DB_MAX_OVERFLOW") or 5)
    """, "app/db.py": """
        from sqlalchemy.ext.asyncio import create_async_engine
        from app.config import POOL_SIZE, MAX_OVERFLOW
        engine = create_async_engine("postgresql+asyncpg://db/app", pool_size=POOL_SIZE, max_overflow=MAX_OVERFLOW)
    """})
    c = read(root)
    assert c.pool_size is not None and c.max_overflow is not None
    assert (c.pool_size.value, c.pool_size.loc) == (20, at(root, "app/config.py", '"20"'))
    assert (c.max_overflow.value, c.max_overflow.loc) == (5, at(root, "app/config.py", "5)"))
    assert (c.per_process.value, c.per_process.state) == (25, State.KNOWN)
    c = read(root, env(DB_POOL_SIZE="7", DB_MAX_OVERFLOW="0"))
    assert c.pool_size is not None and (c.pool_size.value, c.pool_size.loc) == (7, Loc("compose.yml", 1, 7))
    assert c.per_process.value == 7  # "0" is a non-empty string: `or 5` keeps it


def test_env_value_that_cannot_be_known_makes_the_pool_unknown(tmp_path: Path) -> None:
    root = tree(tmp_path, {"db.py": """
        import os
        from sqlalchemy import create_engine
        engine = create_engine(os.environ["DATABASE_URL"], pool_size=int(os.environ["POOL"]))
    """})
    c = read(root, {"POOL": unknown(Loc("k8s.yaml", 9, 3), "from Secret db-pool")})
    assert c.per_process.state is State.UNKNOWN
    assert "Secret db-pool" in c.per_process.reason


def test_engine_options_dict_constant_spread_with_double_star(tmp_path: Path) -> None:
    root = tree(tmp_path, {"db.py": """
        import sqlalchemy as sa
        ENGINE_OPTIONS = {"pool_size": 3, "max_overflow": 2, "pool_pre_ping": True}
        engine = sa.create_engine("postgresql://db/app", **ENGINE_OPTIONS)
    """})
    c = read(root)
    assert c.per_process.value == 5
    assert c.pool_size is not None and c.pool_size.loc == at(root, "db.py", "3,")


def test_null_pool_and_pool_size_zero_are_unbounded(tmp_path: Path) -> None:
    root = tree(tmp_path / "a", {"db.py": """
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool
        engine = create_engine("postgresql://db/app", poolclass=NullPool)
    """})
    c = read(root)
    assert c.unbounded is not None and "NullPool" in c.unbounded
    assert c.per_process.state is State.UNKNOWN and c.effective is None
    root = tree(tmp_path / "b", {"db.py": """
        from sqlalchemy import create_engine
        engine = create_engine("postgresql://db/app", pool_size=0)
    """})
    c = read(root)
    assert c.unbounded is not None and "pool_size=0" in c.unbounded


def test_sqlmodel_reexport_and_aliased_import(tmp_path: Path) -> None:
    root = tree(tmp_path, {"app/__init__.py": "", "app/db.py": """
        from sqlmodel import create_engine as make
        engine = make("postgresql://db/app", pool_size=8)
    """})
    c = read(root)
    assert c.library == "sqlmodel" and c.per_process.value == 18


def test_engine_from_config_reads_prefixed_keys(tmp_path: Path) -> None:
    root = tree(tmp_path, {"db.py": """
        from sqlalchemy import engine_from_config
        CONFIG = {"sqlalchemy.url": "postgresql://db/app", "sqlalchemy.pool_size": "8"}
        engine = engine_from_config(CONFIG, prefix="sqlalchemy.")
    """})
    assert read(root).per_process.value == 18


def test_throw_away_engines_and_scripts_are_not_counted(tmp_path: Path) -> None:
    root = tree(tmp_path, {"app/__init__.py": "", "app/db.py": """
        from sqlalchemy import create_engine
        engine = create_engine("postgresql://db/app", pool_size=4, max_overflow=0)

        def check_database(url):
            probe = create_engine(url)
            with probe.connect():
                pass
            probe.dispose()

        if __name__ == "__main__":
            other = create_engine("postgresql://db/app", pool_size=50)
    """, "wait_for_db.py": """
        import sys
        from sqlalchemy import create_engine
        engine = create_engine("postgresql://db/app")
        while True:
            sys.exit(0)
    """, "scripts/seed.py": """
        from sqlalchemy import create_engine
        engine = create_engine("postgresql://db/app", pool_size=99)
    """, "tests/conftest.py": "from sqlalchemy import create_engine\nengine = create_engine('x', pool_size=77)\n",
        "migrations/env.py": "from sqlalchemy import create_engine\nengine = create_engine('x', pool_size=66)\n",
        "alembic/env.py": "from sqlalchemy import create_engine\nengine = create_engine('x', pool_size=55)\n"})
    c = read(root)
    assert c.per_process.value == 4 and len(c.pools) == 1
    skipped = [n.message for n in c.notices if n.message.startswith("not counted")]
    assert any("throw-away" in m and "check_database" in m for m in skipped)
    assert any("__main__" in m for m in skipped)
    assert any("start-up script" in m for m in skipped)


def test_engines_that_outlive_their_function_count(tmp_path: Path) -> None:
    root = tree(tmp_path, {"app/__init__.py": "", "app/main.py": """
        from contextlib import asynccontextmanager
        from functools import lru_cache
        from sqlalchemy import create_engine
        from sqlalchemy.ext.asyncio import create_async_engine

        @lru_cache
        def get_engine():
            return create_engine("postgresql://db/app", pool_size=2, max_overflow=0)

        @asynccontextmanager
        async def lifespan(app):
            app.state.engine = create_async_engine("postgresql+asyncpg://db/app", pool_size=3, max_overflow=0)
            yield

        _engine = None

        def init():
            global _engine
            _engine = create_engine("postgresql://db/app", pool_size=4, max_overflow=0)
    """})
    c = read(root)
    assert c.per_process.value == 9 and len(c.pools) == 3
    assert any("3 pools in one process, counted together" in n.message for n in c.notices)


def test_application_import_closure_decides_between_engines(tmp_path: Path) -> None:
    root = tree(tmp_path, {"svc/__init__.py": "", "svc/main.py": "from svc import db\n", "svc/db.py": """
        from sqlalchemy import create_engine
        engine = create_engine("postgresql://db/app", pool_size=6, max_overflow=0)
    """, "svc/report.py": """
        from sqlalchemy import create_engine
        engine = create_engine("postgresql://db/app", pool_size=40, max_overflow=0)
    """})
    assert read(root).per_process.value == 46  # no application named: both count
    c = read(root, app="svc.main:app")
    assert c.per_process.value == 6
    assert any("not imported by the application" in n.message for n in c.notices)


def test_sqlite_engines_are_not_network_clients(tmp_path: Path) -> None:
    root = tree(tmp_path, {"db.py": """
        from sqlalchemy import create_engine
        engine = create_engine("sqlite:///app.db")
    """})
    c = read(root)
    assert c.library is None and c.per_process.state is State.UNKNOWN


def test_threads_bound_what_a_sync_worker_uses(tmp_path: Path) -> None:
    root = tree(tmp_path, {"db.py": "from sqlalchemy import create_engine\nengine = create_engine('postgresql://db')\n"})
    c = read(root, server="gunicorn", worker_class="gthread", threads=4)
    assert c.per_process.value == 15 and c.effective is not None and c.effective.value == 4
    c = read(root, server="gunicorn", worker_class="gevent")
    assert c.effective is not None and c.effective.value == 15


def test_pydantic_settings_with_env_prefix_drive_the_pool(tmp_path: Path) -> None:
    root = tree(tmp_path, {"app/__init__.py": "", "app/settings.py": """
        from functools import lru_cache
        from pydantic import Field
        from pydantic_settings import BaseSettings, SettingsConfigDict

        class Settings(BaseSettings):
            model_config = SettingsConfigDict(env_prefix="APP_", env_file=".env")
            database_url: str = "postgresql://db/app"
            pool_size: int = 12
            max_overflow: int = Field(default=3, alias="DB_OVERFLOW")

        @lru_cache
        def get_settings() -> Settings:
            return Settings()
    """, "app/db.py": """
        from sqlalchemy import create_engine
        from app.settings import get_settings
        settings = get_settings()
        engine = create_engine(settings.database_url, pool_size=settings.pool_size,
                               max_overflow=settings.max_overflow)
    """})
    c = read(root)
    assert c.per_process.value == 15
    assert c.pool_size is not None and c.pool_size.loc == at(root, "app/settings.py", "12")
    c = read(root, env(app_pool_size="30", DB_OVERFLOW="1"))  # pydantic matches names case-insensitively
    assert c.pool_size is not None and c.pool_size.value == 30 and c.per_process.value == 31


# -- Flask-SQLAlchemy ---------------------------------------------------------------------------
FLASK_APP = """
    from flask import Flask
    from flask_sqlalchemy import SQLAlchemy
    db = SQLAlchemy()

    def create_app():
        app = Flask(__name__)
        app.config.from_object("app.config.ProductionConfig")
        db.init_app(app)
        return app
"""


def test_flask_sqlalchemy_3_engine_options_and_ignored_pool_keys(tmp_path: Path) -> None:
    root = tree(tmp_path, {"requirements.txt": "flask==3.0.0\nflask-sqlalchemy==3.1.1\n", "app/__init__.py": FLASK_APP,
                           "app/config.py": """
        import os
        class Config:
            SQLALCHEMY_DATABASE_URI = os.getenv("DATABASE_URL", "sqlite:///dev.db")
            SQLALCHEMY_POOL_SIZE = 50
        class ProductionConfig(Config):
            SQLALCHEMY_ENGINE_OPTIONS = {"pool_size": int(os.getenv("POOL", "6")), "max_overflow": 4}
        class TestingConfig(Config):
            SQLALCHEMY_ENGINE_OPTIONS = {"pool_size": 1}
    """})
    c = read(root, env(DATABASE_URL="postgresql://db/app"))
    assert c.library == "flask-sqlalchemy 3.1.1"
    assert c.per_process.value == 10
    assert any("SQLALCHEMY_POOL_SIZE is ignored by Flask-SQLAlchemy 3" in n.message for n in c.notices)
    assert c.where == at(root, "app/__init__.py", "SQLAlchemy()")


def test_flask_sqlalchemy_2_pool_keys_from_app_config(tmp_path: Path) -> None:
    root = tree(tmp_path, {"requirements.txt": "Flask-SQLAlchemy==2.5.1\n", "app/__init__.py": """
        import os
        from flask import Flask
        from flask_sqlalchemy import SQLAlchemy
        app = Flask(__name__)
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
        app.config["SQLALCHEMY_POOL_SIZE"] = 20
        db = SQLAlchemy(app)
    """})
    c = read(root, env(DATABASE_URL="postgresql://db/app"))
    assert c.library == "flask-sqlalchemy 2.5.1" and c.per_process.value == 30
    assert c.pool_size is not None and c.pool_size.loc == at(root, "app/__init__.py", "20")


def test_flask_sqlalchemy_2_mysql_default_pool_is_10_at_the_pin(tmp_path: Path) -> None:
    files = {"requirements.txt": "# pinned\nflask==2.3.3\nflask-sqlalchemy==2.5.1  # via app\n",
             "app/__init__.py": FLASK_APP, "app/config.py": "class ProductionConfig:\n    pass\n"}
    root = tree(tmp_path, files)
    c = read(root, db_scheme="mysql+pymysql")
    assert c.pool_size is not None
    assert (c.pool_size.value, c.pool_size.state) == (10, State.DEFAULT)
    assert c.pool_size.loc == Loc(os.path.join(root, "requirements.txt"), 3, 1)
    assert c.per_process.value == 20
    assert read(root, db_scheme="postgresql").per_process.value == 15


def test_flask_sqlalchemy_constructor_engine_options_win_in_2x(tmp_path: Path) -> None:
    root = tree(tmp_path, {"pyproject.toml": '[project]\ndependencies = ["flask-sqlalchemy>=2.4,<3"]\n',
                           "app/__init__.py": """
        from flask_sqlalchemy import SQLAlchemy
        SQLALCHEMY_ENGINE_OPTIONS = {"pool_size": 9}
        db = SQLAlchemy(engine_options={"pool_size": 4, "max_overflow": 1})
    """})
    c = read(root, db_scheme="mysql")
    assert c.library == "flask-sqlalchemy" and c.per_process.value == 5


def test_flask_sqlalchemy_unpinned_is_read_as_3x_with_a_notice(tmp_path: Path) -> None:
    root = tree(tmp_path, {"app.py": "from flask_sqlalchemy import SQLAlchemy\ndb = SQLAlchemy()\n"})
    c = read(root, db_scheme="mysql")
    assert c.per_process.value == 15
    assert any("not pinned" in n.message for n in c.notices)


def test_flask_sqlalchemy_subclass_hook_switching_to_null_pool(tmp_path: Path) -> None:
    root = tree(tmp_path, {"requirements.txt": "flask-sqlalchemy==2.5.1\n", "app/__init__.py": "",
                           "app/settings.py": """
        import os
        DISABLE_POOL = os.environ.get("DISABLE_POOL", "false").lower() in ("1", "true", "yes")
    """, "app/models.py": """
        from flask_sqlalchemy import SQLAlchemy
        from sqlalchemy.pool import NullPool
        from app import settings

        class AppSQLAlchemy(SQLAlchemy):
            def apply_pool_defaults(self, app, options):
                super().apply_pool_defaults(app, options)
                if settings.DISABLE_POOL:
                    options["poolclass"] = NullPool
                return options

        db = AppSQLAlchemy()
    """})
    assert read(root).per_process.value == 15
    c = read(root, env(DISABLE_POOL="True"))
    assert c.unbounded is not None and "NullPool" in c.unbounded


def test_flask_sqlalchemy_binds_are_said_not_counted(tmp_path: Path) -> None:
    root = tree(tmp_path, {"requirements.txt": "flask-sqlalchemy==3.1.1\n", "app.py": """
        from flask import Flask
        from flask_sqlalchemy import SQLAlchemy
        app = Flask(__name__)
        app.config.update(SQLALCHEMY_DATABASE_URI="postgresql://db/main",
                          SQLALCHEMY_BINDS={"analytics": "postgresql://warehouse/a"})
        db = SQLAlchemy(app)
    """})
    c = read(root)
    assert c.per_process.value == 15
    assert any("SQLALCHEMY_BINDS adds 1 engine" in n.message for n in c.notices)


def test_null_pool_connections_are_not_persistent(tmp_path: Path) -> None:
    root = tree(tmp_path, {"db.py": """
        from sqlalchemy import create_engine, pool
        engine = create_engine("postgresql://db/app", poolclass=pool.NullPool)
    """})
    assert read(root).persistent is False
