"""asyncpg, psycopg_pool, psycopg2, databases, aiopg, aiomysql and Tortoise pools."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from pysource import at, tree

from scalelint.model import State
from scalelint.sources.python import read_connections


@pytest.mark.parametrize("code,library,value,state", [
    ("import asyncpg\npool = asyncpg.create_pool(DSN)\n", "asyncpg", 10, State.DEFAULT),
    ("import asyncpg\npool = asyncpg.create_pool(DSN, min_size=2, max_size=20)\n", "asyncpg", 20, State.KNOWN),
    ("from psycopg_pool import ConnectionPool\npool = ConnectionPool(DSN, max_size=12)\n", "psycopg_pool", 12,
     State.KNOWN),
    ("from psycopg_pool import AsyncConnectionPool\npool = AsyncConnectionPool(DSN, min_size=2)\n", "psycopg_pool",
     2, State.KNOWN),
    ("from psycopg_pool import ConnectionPool\npool = ConnectionPool(DSN)\n", "psycopg_pool", 4, State.DEFAULT),
    ("from psycopg2 import pool\np = pool.ThreadedConnectionPool(1, 20, DSN)\n", "psycopg2", 20, State.KNOWN),
    ("import databases\ndb = databases.Database(DSN, min_size=5, max_size=15)\n", "databases", 15, State.KNOWN),
    ("from databases import Database\ndb = Database(DSN + '?min_size=1&max_size=7')\n", "databases", 7, State.KNOWN),
    ("from databases import Database\ndb = Database(DSN)\n", "databases", 10, State.DEFAULT),
    ("import aiopg\npool = aiopg.create_pool(DSN, maxsize=6)\n", "aiopg", 6, State.KNOWN),
    ("from aiopg.sa import create_engine\nengine = create_engine(dsn=DSN)\n", "aiopg", 10, State.DEFAULT),
    ("import aiomysql\npool = aiomysql.create_pool(host='db', maxsize=3)\n", "aiomysql", 3, State.KNOWN),
])
def test_pool_sizes_and_library_defaults(tmp_path: Path, code: str, library: str, value: int, state: State) -> None:
    root = tree(tmp_path, {"db.py": 'DSN = "postgresql://u:p@db/app"\n' + code})
    c = read_connections(root, {})
    assert (c.library, c.per_process.value, c.per_process.state) == (library, value, state)
    assert c.where is not None and c.where.path == os.path.join(root, "db.py") and c.where.line == 3


def test_asyncpg_pool_created_in_a_lifespan_and_stored_on_app_state(tmp_path: Path) -> None:
    root = tree(tmp_path, {"main.py": """
        import os
        import asyncpg
        from fastapi import FastAPI

        async def lifespan(app):
            app.state.pool = await asyncpg.create_pool(os.environ["DATABASE_URL"],
                                                       max_size=int(os.getenv("PG_POOL_MAX", "25")))
            yield
            await app.state.pool.close()

        async def healthcheck():
            conn_pool = await asyncpg.create_pool(os.environ["DATABASE_URL"], max_size=1)
            await conn_pool.close()

        app = FastAPI(lifespan=lifespan)
    """})
    c = read_connections(root, {}, server="uvicorn")
    assert c.per_process.value == 25 and c.per_process.loc == at(root, "main.py", '"25"')
    assert c.effective is not None and c.effective.value == 25
    assert any("throw-away" in n.message and "healthcheck" in n.message for n in c.notices)


def test_tortoise_register_with_url_query_and_config_credentials(tmp_path: Path) -> None:
    root = tree(tmp_path, {"main.py": """
        from fastapi import FastAPI
        from tortoise.contrib.fastapi import register_tortoise
        app = FastAPI()
        register_tortoise(app, db_url="postgres://u:p@db/app?maxsize=9", modules={"models": ["models"]})
    """})
    c = read_connections(root, {})
    assert (c.library, c.per_process.value) == ("tortoise", 9)
    root = tree(tmp_path / "b", {"app.py": """
        from tortoise import Tortoise
        TORTOISE_ORM = {
            "connections": {
                "default": {"engine": "tortoise.backends.asyncpg", "credentials": {"host": "db", "maxsize": 12}},
                "cache": "sqlite://:memory:",
            },
            "apps": {"models": {"models": ["models"]}},
        }

        async def init():
            await Tortoise.init(config=TORTOISE_ORM)
    """})
    c = read_connections(root, {})
    assert (c.library, c.per_process.value) == ("tortoise", 12)
    root = tree(tmp_path / "c", {"app.py": """
        from tortoise import Tortoise
        async def init():
            await Tortoise.init(db_url="postgres://u:p@db/app", modules={"models": ["models"]})
    """})
    c = read_connections(root, {})
    assert (c.per_process.value, c.per_process.state) == (5, State.DEFAULT)


def test_pool_arguments_through_unknown_kwargs_are_unknown(tmp_path: Path) -> None:
    root = tree(tmp_path, {"db.py": """
        import asyncpg
        from settings import load
        OPTIONS = load()
        pool = asyncpg.create_pool(**OPTIONS)
    """})
    c = read_connections(root, {})
    assert c.library == "asyncpg" and c.per_process.state is State.UNKNOWN
