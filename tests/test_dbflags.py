"""Database connection limits from server argv, postgresql.conf and my.cnf."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scalelint.sources.argv import ArgHit
from scalelint.sources.dbflags import (
    mysql_settings,
    parse_my_cnf,
    parse_postgresql_conf,
    postgres_settings,
)


def _pg(value: str, index: int, flag: str = "-c", nested: bool = False) -> ArgHit:
    return ArgHit(value, index, "postgres", flag, nested)


def _my(value: str, index: int, flag: str, nested: bool = False) -> ArgHit:
    return ArgHit(value, index, "mysqld", flag, nested)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["postgres", "-c", "max_connections=200"], {"max_connections": _pg("200", 2)}),
        (
            ["-c", "max_connections=200", "-c", "shared_buffers=1GB"],
            {"max_connections": _pg("200", 1)},
        ),
        (["postgres", "--max_connections=300"], {"max_connections": _pg("300", 1,
                                                                        "--max_connections")}),
        (["postgres", "--max-connections=300"], {"max_connections": _pg("300", 1,
                                                                        "--max-connections")}),
        (["postgres", "-c", "max-connections=250"], {"max_connections": _pg("250", 2)}),
        (["postgres", "-c", "MAX_CONNECTIONS=250"], {"max_connections": _pg("250", 2)}),
        (["postgres", "-N", "50"], {"max_connections": _pg("50", 2, "-N")}),
        (["-N50"], {"max_connections": _pg("50", 0, "-N")}),
        (["postgres", "-cmax_connections=75"], {"max_connections": _pg("75", 1)}),
        (
            ["docker-entrypoint.sh", "postgres", "-c", "superuser_reserved_connections=5"],
            {"superuser_reserved_connections": _pg("5", 3)},
        ),
        (["docker-entrypoint.sh", "-c", "max_connections=9"], {"max_connections": _pg("9", 2)}),
        (
            ["postgres", "-c", "max_connections=100", "-c", "reserved_connections=3",
             "-c", "superuser_reserved_connections=2"],
            {
                "max_connections": _pg("100", 2),
                "reserved_connections": _pg("3", 4),
                "superuser_reserved_connections": _pg("2", 6),
            },
        ),
        (  # later wins
            ["postgres", "-c", "max_connections=100", "-N", "300"],
            {"max_connections": _pg("300", 4, "-N")},
        ),
        (
            ["postgres", "-c", "max_connections=$(PG_MAX)"],
            {"max_connections": _pg("$(PG_MAX)", 2)},
        ),
        (
            ["sh", "-c", "chown x /d && exec postgres -c max_connections=200"],
            {"max_connections": _pg("200", 2, nested=True)},
        ),
        (
            ["bash", "-c", "docker-entrypoint.sh postgres -c 'max_connections=${MAX:-80}'"],
            {"max_connections": _pg("${MAX:-80}", 2, nested=True)},
        ),
        (["/usr/lib/postgresql/16/bin/postgres", "-D", "/data", "-c", "max_connections=7"],
         {"max_connections": _pg("7", 4)}),
        (["postgres"], {}),
        (["postgres", "-c", "max_connections"], {}),
        (["postgres", "-c", "max_connections="], {}),
        (["postgres", "-c"], {}),
        (["postgres", "-N"], {}),
        (["postgres", "--max_connections", "300"], {}),  # postgres needs "=" here
        (["postgres", "-c", "shared_buffers=1GB"], {}),
        (["gunicorn", "-c", "max_connections=5"], {}),
        (["sh", "-c", "postgres -c 'max_connections=5"], {}),
        ([], {}),
    ],
)
def test_postgres_settings(argv: list[str], expected: dict[str, ArgHit]) -> None:
    assert postgres_settings(argv) == expected


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["mysqld", "--max-connections=500"], _my("500", 1, "--max-connections")),
        (["mysqld", "--max_connections=500"], _my("500", 1, "--max_connections")),
        (["mysqld", "--max-connections", "500"], _my("500", 2, "--max-connections")),
        (["mysqld", "--max_connections", "500"], _my("500", 2, "--max_connections")),
        (["mariadbd", "--max-connections=40"], _my("40", 1, "--max-connections")),
        (["--max-connections=40"], _my("40", 0, "--max-connections")),
        (
            ["--character-set-server=utf8mb4", "--max_connections=1000"],
            _my("1000", 1, "--max_connections"),
        ),
        (["docker-entrypoint.sh", "mysqld", "--max-connections=9"], _my("9", 2,
                                                                        "--max-connections")),
        (["mysqld", "--loose-max-connections=9"], _my("9", 1, "--loose-max-connections")),
        (
            ["mysqld", "--max-connections=10", "--max_connections=20"],
            _my("20", 2, "--max_connections"),
        ),
        (
            ["sh", "-c", "exec mysqld --max-connections=${MAXC}"],
            _my("${MAXC}", 2, "--max-connections", nested=True),
        ),
        (["mysqld_safe", "--max_connections=3"], _my("3", 1, "--max_connections")),
        (["mysqld"], None),
        (["mysqld", "--max-connections"], None),
        (["mysqld", "--max-connections", "--skip-name-resolve"], None),
        (["mysqld", "--max-connections="], None),
        (["mysqld", "--max-connect-errors=5"], None),
        (["mysqld", "-c", "max_connections=5"], None),
        (["nginx", "--max-connections=5"], None),
    ],
)
def test_mysql_settings(argv: list[str], expected: ArgHit | None) -> None:
    found = mysql_settings(argv)
    assert found == ({} if expected is None else {"max_connections": expected})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("max_connections = 200  # comment\n", {"max_connections": ("200", 1)}),
        ("max_connections=200", {"max_connections": ("200", 1)}),
        ("max_connections 200", {"max_connections": ("200", 1)}),
        ("max_connections = '200'", {"max_connections": ("200", 1)}),
        ("  max_connections\t=\t200\t", {"max_connections": ("200", 1)}),
        ("Max_Connections = 200", {"max_connections": ("200", 1)}),
        ("max_connections = 100\nmax_connections = 300\n", {"max_connections": ("300", 2)}),
        ("# max_connections = 100\n#max_connections=5\n", {}),
        ("\n\nmax_connections = 100 # was 50\n", {"max_connections": ("100", 3)}),
        ("max_connections = 100\r\nshared_buffers = '1GB'\r\n",
         {"max_connections": ("100", 1), "shared_buffers": ("1GB", 2)}),
        ("search_path = '\"$user\", public'", {"search_path": ('"$user", public', 1)}),
        ("application_name = 'it''s'", {"application_name": ("it's", 1)}),
        ("log_line_prefix = ''", {"log_line_prefix": ("", 1)}),
        ("pg_stat_statements.max = 10000", {"pg_stat_statements.max": ("10000", 1)}),
        ("include 'other.conf'\ninclude_dir 'conf.d'\ninclude_if_exists 'x.conf'", {}),
        ("max_connections =", {}),
        ("max_connections", {}),
        ("max_connections = 'unterminated", {}),
        ("= 5\n", {}),
        ("# a\fb\nmax_connections = 9", {"max_connections": ("9", 2)}),  # \f: no new line
    ],
)
def test_parse_postgresql_conf(text: str, expected: dict[str, tuple[str, int]]) -> None:
    assert parse_postgresql_conf(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[mysqld]\nmax_connections = 300\n", {"max_connections": ("300", 2)}),
        ("[mysqld]\nmax-connections=300\n", {"max_connections": ("300", 2)}),
        ("[mariadb]\nmax_connections = 50 # tuned\n", {"max_connections": ("50", 2)}),
        ("[server]\nmax_connections = '60'\n", {"max_connections": ("60", 2)}),
        ('[mysqld-8.0]\nmax_connections = "70"\n', {"max_connections": ("70", 2)}),
        ("[mariadbd]\nloose-max-connections = 80\n", {"max_connections": ("80", 2)}),
        ("[MYSQLD]\nmax_connections = 90\n", {"max_connections": ("90", 2)}),
        ("[client]\nmax_connections = 10\n[mysql]\nmax_connections = 11\n", {}),
        (
            (
                "[client]\nport=3306\n\n[mysqld]\n# max_connections = 1\n; max_connections = 2\n"
                "max_connections = 151\nskip-name-resolve\n[mysqldump]\nmax_connections = 9\n"
            ),
            {"max_connections": ("151", 7), "skip_name_resolve": ("", 8)},
        ),
        ("[mysqld]\nmax_connections = 100\nmax_connections = 200\n",
         {"max_connections": ("200", 3)}),
        ("max_connections = 100\n", {}),  # outside any group
        ("!include /etc/other.cnf\n!includedir /etc/mysql/conf.d/\n[mysqld]\nport = 3306",
         {"port": ("3306", 4)}),
        ("[mysqld]\nmax_connections = 'unterminated\n", {}),
        ("[mysqld\nmax_connections = 5\n", {}),
        ("[mysqld]\nbad key = 5\n", {}),
    ],
)
def test_parse_my_cnf(text: str, expected: dict[str, tuple[str, int]]) -> None:
    assert parse_my_cnf(text) == expected


_FLAG_TOKEN = st.one_of(
    st.text(max_size=25),
    st.sampled_from([
        "postgres", "mysqld", "-c", "-N", "max_connections=", "--max-connections", "=", "sh",
        "--", "-cmax_connections=1", "--max_connections=", "'", "docker-entrypoint.sh",
    ]),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_FLAG_TOKEN, max_size=10))
def test_random_db_argv_never_raises(argv: list[str]) -> None:
    for found in (postgres_settings(argv), mysql_settings(argv)):
        for hit in found.values():
            assert 0 <= hit.index < len(argv)
            if not hit.nested:
                assert hit.value in argv[hit.index]


_CONF_TEXT = st.one_of(
    st.text(max_size=200),
    st.lists(
        st.sampled_from([
            "[mysqld]", "[client]", "max_connections", "max-connections", " = ", "=", "'", '"',
            "\\", "#", ";", "!include x", "\n", "\r\n", " ", "200", "include", "[", "]",
        ]),
        max_size=30,
    ).map("".join),
)


@settings(max_examples=200, deadline=None)
@given(_CONF_TEXT)
def test_random_conf_text_never_raises(text: str) -> None:
    lines = text.split("\n")
    for parsed in (parse_postgresql_conf(text), parse_my_cnf(text)):
        for value, line in parsed.values():
            assert isinstance(value, str)
            assert 1 <= line <= len(lines)
