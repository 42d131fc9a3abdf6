"""Following a setting to its value: env readers, helper functions, branches, ini files.

Each case builds one engine whose ``pool_size`` is written with the idiom under test, so the
assertion is on what a user sees: the number, its status and where it was written.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from pysource import at, env, tree

from scalelint.findings import Loc
from scalelint.model import State, Val
from scalelint.sources.python import read_connections


def pool_of(tmp_path: Path, settings: str, e: dict[str, Val[str]] | None = None,
            extra: dict[str, str] | None = None) -> tuple[str, Val[int]]:
    """Build ``settings.py`` + an engine with ``pool_size=settings.POOL``; return the pool size read."""
    root = tree(tmp_path, {"settings.py": settings, "db.py": """
        from sqlalchemy import create_engine
        import settings
        engine = create_engine("postgresql://db/app", pool_size=settings.POOL)
    """, **(extra or {})})
    c = read_connections(root, e or {})
    assert c.pool_size is not None
    return root, c.pool_size


@pytest.mark.parametrize("code,value,needle", [
    ('POOL = int(os.getenv("POOL", "5"))', 5, '"5"'),
    ('POOL = int(os.environ.get("POOL", 6))', 6, "6)"),
    ('POOL = int(os.getenv("POOL") or 7)', 7, "7)"),
    ('POOL = int(os.environ["POOL"]) if "POOL" in os.environ else 8', 8, "8"),
    ('BASE = 4\nPOOL = BASE * 2 + 1', 9, "BASE * 2"),
    ('POOL = {"small": 3, "large": 10}[os.getenv("SIZE", "large")]', 10, "10}"),
    ('POOL = int(str(11))', 11, "11"),
    ('POOL = max(int(os.getenv("POOL", "2")), 12)', 12, "max("),
])
def test_stdlib_idioms(tmp_path: Path, code: str, value: int, needle: str) -> None:
    root, size = pool_of(tmp_path, "import os\n" + code + "\n")
    assert (size.value, size.state) == (value, State.KNOWN)
    assert size.loc == at(root, "settings.py", needle)


def test_env_wins_and_points_at_the_manifest(tmp_path: Path) -> None:
    _, size = pool_of(tmp_path, 'import os\nPOOL = int(os.getenv("POOL", "5"))\n', env(POOL=" 40 "))
    assert (size.value, size.loc) == (40, Loc("compose.yml", 1, 7))


def test_key_error_caught_by_the_settings_own_try(tmp_path: Path) -> None:
    code = """
        import os
        try:
            POOL = int(os.environ["POOL"])
        except (KeyError, ValueError):
            POOL = 13
    """
    assert pool_of(tmp_path, code)[1].value == 13
    assert pool_of(tmp_path, code, env(POOL="abc"))[1].value == 13
    assert pool_of(tmp_path, code, env(POOL="14"))[1].value == 14


def test_helper_function_wrapping_getenv_like_healthchecks_envint(tmp_path: Path) -> None:
    code = """
        import os

        def envint(s, default):
            v = os.getenv(s, default)
            if v == "None":
                return None
            return int(v)

        POOL = envint("POOL", "15")
    """
    root, size = pool_of(tmp_path, code)
    assert (size.value, size.loc) == (15, at(root, "settings.py", '"15"'))


def test_decouple_environs_and_django_environ(tmp_path: Path) -> None:
    assert pool_of(tmp_path / "a", 'from decouple import config\nPOOL = config("POOL", default=5, cast=int)\n',
                   env(POOL="9"))[1].value == 9
    assert pool_of(tmp_path / "b", 'from decouple import config\nPOOL = config("POOL", default="6", cast=int)\n'
                   )[1].value == 6
    assert pool_of(tmp_path / "c", 'from environs import Env\nenv = Env()\nenv.read_env()\nPOOL = env.int("P", 500)\n'
                   )[1].value == 500
    assert pool_of(tmp_path / "d", 'import environ\nenv = environ.Env(POOL=(int, 3))\nPOOL = env("POOL")\n'
                   )[1].value == 3
    assert pool_of(tmp_path / "e", 'import environ\nenv = environ.Env()\nPOOL = env.int("P", default=4)\n',
                   env(P="21"))[1].value == 21


@pytest.mark.parametrize("settings,e,value", [
    ("""
        from pydantic import BaseSettings
        class Settings(BaseSettings):
            pool: int = 5
            class Config:
                env_prefix = "DB_"
        s = Settings()
        POOL = s.pool
    """, {"DB_POOL": "16"}, 16),
    ("""
        from pydantic import AliasChoices, Field
        from pydantic_settings import BaseSettings
        class Settings(BaseSettings):
            pool: int = Field(7, validation_alias=AliasChoices("POOL_SIZE", "DB_POOL_SIZE"))
        POOL = Settings().pool
    """, {"DB_POOL_SIZE": "17"}, 17),
    ("""
        from pydantic_settings import BaseSettings
        class Base(BaseSettings):
            model_config = {"env_prefix": "APP_", "case_sensitive": True}
        class Settings(Base):
            pool: int = 18
        POOL = Settings().pool
    """, {"app_pool": "99"}, 18),
    ("""
        from pydantic_settings import BaseSettings
        class Settings(BaseSettings):
            pool: int = 5
        POOL = Settings(pool=19).pool
    """, {"POOL": "1"}, 19),
])
def test_pydantic_settings_variants(tmp_path: Path, settings: str, e: dict[str, str], value: int) -> None:
    assert pool_of(tmp_path, settings, env(**e))[1].value == value


def test_required_pydantic_field_without_env_is_unknown(tmp_path: Path) -> None:
    _, size = pool_of(tmp_path, """
        from pydantic_settings import BaseSettings
        class Settings(BaseSettings):
            pool: int
        POOL = Settings().pool
    """)
    assert size.state is State.UNKNOWN and "required setting pool" in size.reason


def test_configparser_with_env_fallback_interpolation(tmp_path: Path) -> None:
    settings = """
        import configparser
        import os

        class EnvInterpolation(configparser.BasicInterpolation):
            def before_get(self, parser, section, option, value, defaults):
                envvar = os.getenv(option)
                return envvar if value == "" and envvar else value

        def empty_str_cast(value, default=None):
            if value == "":
                return default
            return value

        ini = configparser.ConfigParser(interpolation=EnvInterpolation())
        ini.read(os.path.join(os.path.dirname(os.path.abspath(__file__)), "config.ini"))
        POOL = int(empty_str_cast(ini["optional"]["POOL"], default=20))
        OTHER = ini.getint("optional", "OTHER", fallback=3)
    """
    extra = {"config.ini": "[server]\nURL = x\n\n[optional]\n# the pool\nPOOL =\nOTHER = 8\n"}
    root, size = pool_of(tmp_path, settings, extra=extra)
    assert (size.value, size.loc) == (20, at(root, "settings.py", "20"))
    _, size = pool_of(tmp_path, settings, env(POOL="25"), extra=extra)
    assert size.value == 25
    extra["config.ini"] = "[optional]\nPOOL = 30\n"
    root, size = pool_of(tmp_path, settings, env(POOL="25"), extra=extra)
    assert (size.value, size.loc) == (30, Loc(os.path.join(root, "config.ini"), 2, 8))


def test_branch_that_cannot_be_decided(tmp_path: Path) -> None:
    e = env()
    e["MODE"] = Val(None, Loc("k8s.yaml", 3, 5), State.UNKNOWN, "from Secret mode")
    _, size = pool_of(tmp_path, """
        import os
        if os.getenv("MODE") == "big":
            POOL = 50
        else:
            POOL = 5
    """, e)
    assert size.state is State.UNKNOWN and "cannot be decided" in size.reason and "Secret mode" in size.reason


def test_value_assigned_on_one_side_of_an_undecided_branch_is_kept(tmp_path: Path) -> None:
    e = env()
    e["MODE"] = Val(None, Loc("k8s.yaml", 3, 5), State.UNKNOWN, "from Secret mode")
    _, size = pool_of(tmp_path, 'import os\nif os.getenv("MODE"):\n    POOL = 22\n', e)
    assert size.value == 22


def test_loop_assignments_are_unknown_not_guessed(tmp_path: Path) -> None:
    _, size = pool_of(tmp_path, "POOL = 5\nfor i in range(3):\n    POOL += 1\n")
    assert size.state is State.UNKNOWN and "loop" in size.reason


def test_import_cycle_and_recursive_helper(tmp_path: Path) -> None:
    extra = {"a.py": "from b import *\nA = 1\n", "b.py": "from a import *\nB = 2\n"}
    _, size = pool_of(tmp_path, "from a import *\nfrom b import B\nPOOL = B + 21\n", extra=extra)
    assert size.value == 23
    _, size = pool_of(tmp_path / "r", "def f(x):\n    return f(x)\nPOOL = f(1)\n")
    assert size.state is State.UNKNOWN
