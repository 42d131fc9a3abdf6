"""Broken and hostile trees: the reader says what it could not read and goes on, quickly."""
from __future__ import annotations

import os
import textwrap
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scalelint.findings import Loc
from scalelint.model import State, Val, known
from scalelint.sources.python import read_connections
from scalelint.sources.python.tree import MAX_SOURCE_BYTES, SourceTree

ENGINE = "from sqlalchemy import create_engine\nengine = create_engine('postgresql://db/app', pool_size=3)\n"


def tree(tmp_path: Path, files: dict[str, str | bytes]) -> str:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(textwrap.dedent(text).lstrip("\n"))
    return str(tmp_path)


def env(**values: str) -> dict[str, Val[str]]:
    return {k: known(v, Loc("compose.yml", 1, 1)) for k, v in values.items()}


def test_a_file_that_does_not_parse_is_a_notice_with_its_position(tmp_path: Path) -> None:
    root = tree(tmp_path, {"db.py": ENGINE, "broken.py": "import os\ncreate_engine(\n  x = = 1\n"})
    c = read_connections(root, {})
    assert c.per_process.value == 13
    broken = [n for n in c.notices if n.path == os.path.join(root, "broken.py")]
    assert len(broken) == 1 and broken[0].message.startswith("not read") and broken[0].line >= 2
    assert broken[0].column > 0


def test_a_50_mb_source_is_skipped_quickly_without_reading_it(tmp_path: Path) -> None:
    root = tree(tmp_path, {"db.py": ENGINE})
    with open(tmp_path / "generated.py", "wb") as handle:
        handle.truncate(50_000_000)  # sparse: its size is what the reader checks first
    started = time.perf_counter()
    c = read_connections(root, {})
    assert time.perf_counter() - started < 2.0
    assert c.per_process.value == 13
    assert any(n.path.endswith("generated.py") and "50 MB" in n.message for n in c.notices)
    assert MAX_SOURCE_BYTES < 50_000_000


def test_settings_that_read_files_at_import_time(tmp_path: Path) -> None:
    root = tree(tmp_path, {"settings.py": """
        import json
        from pathlib import Path
        with open("/run/secrets/db") as handle:
            PASSWORD = handle.read()
        SECRET = open(".secret").read().strip()
        EXTRA = json.loads(Path("extra.json").read_text())
        BASE_DIR = Path(__file__).resolve().parent.parent
        DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "PASSWORD": PASSWORD,
                                 "NAME": BASE_DIR / "db", "CONN_MAX_AGE": EXTRA.get("age", 0)}}
    """})
    c = read_connections(root, env(DJANGO_SETTINGS_MODULE="settings"), threads=2)
    assert c.per_process.value == 2
    assert c.persistent is None  # CONN_MAX_AGE comes from a file read at run time


def test_deeply_nested_and_very_long_expressions(tmp_path: Path) -> None:
    nested = "POOL = " + "(" * 150 + "4" + ")" * 150 + "\n"
    chain = "OVERFLOW = " + " + ".join(["1"] * 2_000) + "\n"
    root = tree(tmp_path, {"settings.py": nested + chain, "db.py": """
        from sqlalchemy import create_engine
        from settings import POOL, OVERFLOW
        engine = create_engine("postgresql://db/app", pool_size=POOL, max_overflow=OVERFLOW)
    """, "calls.py": "create_engine = " + "int(" * 500 + "1" + ")" * 500 + "\n",
        "lists.py": "create_engine = " + "[" * 5_000 + "]" * 5_000 + "\n",
        "chain.py": "create_engine = " + " + ".join(["1"] * 50_000) + "\n"})
    started = time.perf_counter()
    c = read_connections(root, {})
    assert time.perf_counter() - started < 5.0
    assert c.pool_size is not None and c.pool_size.value == 4
    assert c.max_overflow is not None and c.max_overflow.state is State.UNKNOWN
    assert "nested too deeply" in c.max_overflow.reason
    unreadable = {os.path.basename(n.path) for n in c.notices if n.message.startswith("not read")}
    # CPython 3.11+ cannot build the AST of the 50,000-term chain; 3.10 can, and it holds no call
    assert {"calls.py", "lists.py"} <= unreadable <= {"calls.py", "lists.py", "chain.py"}


def test_recursion_through_imports_and_helpers_is_cycle_safe(tmp_path: Path) -> None:
    root = tree(tmp_path, {
        "pkg/__init__.py": "from pkg.a import *\n",
        "pkg/a.py": "from pkg.b import *\nfrom pkg import c\nA = B + 1\n",
        "pkg/b.py": "from pkg.a import *\nfrom pkg.c import size\nB = size(2)\n",
        "pkg/c.py": "import pkg\ndef size(n):\n    return size(n) if n > 100 else n * pkg.a.A\n",
        "db.py": "from sqlalchemy import create_engine\nfrom pkg.a import A\n"
                 "engine = create_engine('postgresql://db/app', pool_size=A)\n",
    })
    c = read_connections(root, {})
    assert c.library == "sqlalchemy"  # whatever A is, the reader returns


def test_symlink_loops_and_dangling_links_do_not_hang(tmp_path: Path) -> None:
    root = tree(tmp_path, {"app/db.py": ENGINE})
    os.symlink(tmp_path / "app", tmp_path / "app" / "loop")
    os.symlink(tmp_path / "self.py", tmp_path / "self.py")
    os.symlink(tmp_path / "missing.py", tmp_path / "dangling.py")
    started = time.perf_counter()
    c = read_connections(root, {})
    assert time.perf_counter() - started < 2.0
    assert c.per_process.value == 13
    assert any("cannot read" in n.message for n in c.notices)


def test_encodings_bom_crlf_and_binary_files(tmp_path: Path) -> None:
    root = tree(tmp_path, {
        "bom.py": b"\xef\xbb\xbf" + ENGINE.replace("pool_size=3", "pool_size=2").replace("\n", "\r\n").encode(),
        "latin.py": b"# -*- coding: latin-1 -*-\nNAME = '\xe9t\xe9'\ncreate_engine = 1\n",
        "binary.py": b"\x00\x01\x02create_engine\xff\xfe",
        "utf8.py": "# café\nfrom sqlalchemy import create_engine\né = create_engine('postgresql://db', pool_size=1)\n",
    })
    c = read_connections(root, {})
    assert c.per_process.value == 12 + 11  # bom.py (2 + 10) and utf8.py (1 + 10)
    utf8 = next(p for p in c.pools if p.where.path.endswith("utf8.py"))
    assert utf8.where.column == 5  # characters, not UTF-8 bytes
    assert any(n.path.endswith("binary.py") for n in c.notices)


def test_skipped_directories_are_not_read(tmp_path: Path) -> None:
    root = tree(tmp_path, {
        "app/db.py": ENGINE, ".venv/lib/x.py": ENGINE, "venv/x.py": ENGINE, "node_modules/x/y.py": ENGINE,
        "site-packages/x.py": ENGINE, ".hidden/x.py": ENGINE, "tests/test_db.py": ENGINE, "app/test_x.py": ENGINE,
        "app/migrations/0001.py": ENGINE, "alembic/env.py": ENGINE,
    })
    assert SourceTree(root).files == [os.path.join("app", "db.py")]
    assert read_connections(root, {}).per_process.value == 13


def test_missing_root_is_an_answer_not_an_exception(tmp_path: Path) -> None:
    c = read_connections(str(tmp_path / "nope"), {})
    assert c.library is None and c.per_process.state is State.UNKNOWN


def test_an_internal_error_is_a_notice_not_a_traceback(tmp_path: Path, monkeypatch: object) -> None:
    import scalelint.sources.python as reader

    def boom(*_: object) -> None:
        raise RuntimeError("bug")

    root = tree(tmp_path, {"db.py": ENGINE})
    monkeypatch.setattr(reader, "find_sqlalchemy", boom)  # type: ignore[attr-defined]
    c = read_connections(root, {})
    assert c.library is None and c.per_process.state is State.UNKNOWN
    assert any("internal error RuntimeError: bug" in n.message for n in c.notices)


SNIPPETS = [
    "import os\n", "from sqlalchemy import create_engine\n", "from . import missing\n", "from .x import *\n",
    "POOL = int(os.getenv('POOL', '5'))\n", "POOL = POOL * 2\n", "if os.getenv('A'):\n    POOL = 1\n",
    "try:\n    from .local import *\nexcept ImportError:\n    pass\n", "for i in range(3):\n    POOL += i\n",
    "def f(x=POOL):\n    return f(x)\n", "POOL = f()\n", "class C:\n    POOL = POOL\n", "POOL = C.POOL\n",
    "engine = create_engine('postgresql://db', pool_size=POOL)\n", "DATABASES = {'default': {'ENGINE': POOL}}\n",
    "DATABASES['default'].update(POOL)\n", "x = [*POOL, **{}]\n", "del POOL\n", "raise SystemExit(1)\n",
    "while True:\n    pass\n", "lambda: (yield)\n", "x = {**POOL}\n", "x = POOL[::2]\n", "x = f'{POOL!r:>{3}}'\n",
    "with open('x') as f:\n    POOL = f.read()\n", "match POOL:\n    case 1:\n        POOL = 2\n",
    "global POOL\n", "x: int\n", "async def g():\n    engine = create_engine('x')\n    return engine\n",
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(SNIPPETS), min_size=1, max_size=12), st.sampled_from(["settings.py", "pkg/db.py"]))
def test_any_mix_of_idioms_never_raises(tmp_path: Path, parts: list[str], name: str) -> None:
    root = tree(tmp_path / str(abs(hash((tuple(parts), name)))), {
        name: "".join(parts), "pkg/__init__.py": "", "pkg/x.py": "".join(reversed(parts))})
    c = read_connections(root, env(DJANGO_SETTINGS_MODULE="settings", A="1"), threads=2)
    assert isinstance(c.per_process, Val)
    assert not any("internal error" in n.message for n in c.notices)


def test_names_imported_in_a_cycle_and_never_assigned(tmp_path: Path) -> None:
    root = tree(tmp_path, {"a.py": "from b import POOL\n", "b.py": "from a import POOL\n",
                           "self_import.py": "from self_import import X\n",
                           "db.py": "from sqlalchemy import create_engine\nfrom a import POOL\nimport self_import\n"
                                    "engine = create_engine('postgresql://db', pool_size=POOL)\n"})
    started = time.perf_counter()
    c = read_connections(root, {})
    assert time.perf_counter() - started < 2.0
    assert c.pool_size is not None and c.pool_size.state is State.UNKNOWN
    assert "cycle" in c.pool_size.reason
