"""pgbouncer.ini read as PgBouncer reads it: positions, comments, sections, refusals."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from scalelint.findings import Loc
from scalelint.model import State
from scalelint.sources.poolers import (
    PoolerSettings,
    parse_connstring,
    parse_pgbouncer_ini,
    server_connections_per_replica,
    settings_from_ini,
)
from scalelint.sources.poolers.model import c_int

INI = """\
;; pgbouncer for the api
[databases]
app = host=db port=5433 dbname=appdb pool_size=30 pool_mode=transaction
reports = host=replica1,replica2 user=reporter reserve_pool=4 max_db_connections=50
* = host=fallback

[users]
batch = pool_size=5 max_user_connections=7

[pgbouncer]
# comment
listen_port = 6000
pool_mode = session
max_client_conn = 0x200
default_pool_size = 010
reserve_pool_size = 2
%include /etc/pgbouncer/extra.ini
"""


def _pos(text: str, needle: str) -> tuple[int, int]:
    at = text.index(needle)
    return text.count("\n", 0, at) + 1, at - (text.rfind("\n", 0, at) + 1) + 1


def _read(text: str, path: str = "pgbouncer.ini") -> PoolerSettings:
    return settings_from_ini(parse_pgbouncer_ini(text, path), PoolerSettings("pgbouncer", "generic"))


def test_sections_entries_and_positions() -> None:
    ini = parse_pgbouncer_ini(INI, "pgbouncer.ini")
    assert [name for name, _ in ini.sections] == ["databases", "users", "pgbouncer"]
    assert ini.includes == [("/etc/pgbouncer/extra.ini", Loc("pgbouncer.ini", *_pos(INI, "%include")))]
    assert any("%include" in n.message for n in ini.notices)
    entry = next(e for e in ini.entries if e.key == "listen_port")
    assert (entry.section, entry.value.value) == ("pgbouncer", "6000")
    assert entry.key_loc == Loc("pgbouncer.ini", *_pos(INI, "listen_port"))
    assert entry.value.loc == Loc("pgbouncer.ini", *_pos(INI, "6000"))
    assert ini.problems == []


def test_settings_and_strtol_numbers() -> None:
    result = _read(INI)
    assert result.problems == []
    assert result.listen_port.value == 6000 and result.listen_port.state is State.KNOWN
    assert result.max_client_conn.value == 512  # 0x200, strtol base 0
    assert result.default_pool_size.value == 8  # 010 is octal for strtol
    assert result.mode.value == "session"
    assert result.max_db_connections.state is State.DEFAULT and result.max_db_connections.value == 0
    assert result.max_user_connections.value == 0
    app = next(d for d in result.databases if d.name == "app")
    assert app.pool_size is not None and app.pool_size.value == 30
    assert app.pool_size.loc == Loc("pgbouncer.ini", *_pos(INI, "30 pool_mode"))
    assert app.port is not None and app.port.value == 5433 and app.pool_mode is not None
    assert app.pool_mode.value == "transaction" and not app.forced_user
    reports = next(d for d in result.databases if d.name == "reports")
    assert reports.forced_user and reports.reserve_pool_size is not None and reports.reserve_pool_size.value == 4
    assert [(b.host, b.port) for b in result.backends] == [("db", 5433), ("replica1", 5432), ("replica2", 5432),
                                                           ("fallback", 5432)]
    batch = result.users[0]
    assert batch.max_user_connections is not None and batch.max_user_connections.value == 7


def test_comments_only_at_line_start() -> None:
    text = "[pgbouncer]\ndefault_pool_size = 20 ; twenty\n  ; indented comment\n#max_client_conn = abc\n"
    result = _read(text)
    assert result.default_pool_size.state is State.UNKNOWN
    assert result.max_client_conn.value == 100  # the commented line does not count
    message, loc = result.problems[0]
    assert "'20 ; twenty' is not a whole number" in message and "does not start" in message
    assert loc == Loc("pgbouncer.ini", 2, 21)


def test_unknown_keys_sections_and_syntax_errors() -> None:
    text = "listen_port = 1\n[pgbouncer]\npool_size = 10\nPool_Mode = session\nbad line\n[pgbouncer\n[extra]\nx = 1\n"
    result = _read(text)
    messages = [m for m, _ in result.problems]
    assert any("before any [section]" in m for m in messages)
    assert any("no setting 'pool_size' in [pgbouncer]" in m and "belongs in a [databases] entry" in m for m in messages)
    assert any("no setting 'Pool_Mode'" in m for m in messages)  # keys are case-sensitive
    assert any("'bad' is not followed by '='" in m for m in messages)
    assert any("no closing ']'" in m for m in messages)
    assert any("unknown section [extra]" in m for m in messages)
    where = {m.split(":")[0]: loc for m, loc in result.problems}
    assert where["syntax error"] is not None


def test_missing_main_section_and_bom_and_crlf() -> None:
    result = _read("\ufeff[databases]\r\napp = host=db\r\n")
    messages = [m for m, _ in result.problems]
    assert any("byte order mark" in m for m in messages)
    assert any("no [pgbouncer] section" in m for m in messages)
    assert result.databases[0].host is not None and result.databases[0].host.value == "db"
    assert result.databases[0].host.loc == Loc("pgbouncer.ini", 2, 12)


def test_database_entry_refusals() -> None:
    text = ("[pgbouncer]\n[databases]\npgbouncer = host=x\napp = host=db port=abc\nother = host=db frobnicate=1\n"
            "quoted = host=db connect_query='SELECT ''x'''\nbroken = host\nmode = host=db pool_mode=fast\n"
            "* = host=db pool_sise=3\n")
    result = _read(text)
    messages = [m for m, _ in result.problems]
    assert any("\"pgbouncer\" is reserved" in m for m in messages)
    assert any("port='abc' is not a whole number" in m for m in messages)
    assert any("unknown connection parameter 'frobnicate'" in m and "does not start" in m for m in messages)
    assert any("syntax error in the connection string" in m for m in messages)
    assert any("invalid pool_mode 'fast'" in m for m in messages)
    assert any("pool_sise" in m and "not listed" in m for m in messages)  # the fallback fails only at connect
    quoted = next(d for d in result.databases if d.name == "quoted")
    assert quoted.params["connect_query"].value == "SELECT 'x'"


def test_connstring_spaces_around_equals() -> None:
    # pgbouncer/pgbouncer writes "host = name" and PgBouncer accepts it (loader.c cstr_get_key)
    from scalelint.model import known

    pairs, errors = parse_connstring(known("host = db.example port=5439 user=u", Loc("f", 3, 10)))
    assert errors == []
    assert pairs["host"].value == "db.example" and pairs["host"].loc == Loc("f", 3, 17)
    assert pairs["port"].loc == Loc("f", 3, 33)


def test_unresolved_template_values_are_unknown() -> None:
    result = _read("[pgbouncer]\ndefault_pool_size = ${POOL}\n[databases]\napp = host=${DB_HOST}\n")
    assert result.default_pool_size.state is State.UNKNOWN
    assert result.backends == []
    assert any("not readable" in n.message or "unresolved" in n.message for n in result.notices)


def test_embedded_offsets_for_configmap_text() -> None:
    ini = parse_pgbouncer_ini("[pgbouncer]\nmax_client_conn = 5\n", "cm.yaml", line_offset=10, column_offset=4)
    assert ini.entries[0].value.loc == Loc("cm.yaml", 12, 23)


def test_c_int() -> None:
    assert [c_int(t) for t in ("20", " 20", "+7", "-1", "0x1f", "010", "0", "08", "20abc", "", "0x", "1e3")] == [
        20, 20, 7, -1, 31, 8, 0, None, None, None, None, None]


def test_transaction_mode_arithmetic_from_ini() -> None:
    # 2 databases, client users unknown: app 30 + 2 reserve; reports forced user: 20 + 4 → 56
    result = _read("[pgbouncer]\nreserve_pool_size = 2\n[databases]\napp = host=db pool_size=30\n"
                   "reports = host=db user=r reserve_pool=4\n")
    from scalelint.sources.poolers import PoolUse

    cap = server_connections_per_replica(result, [PoolUse("app", None), PoolUse("reports", "alice"),
                                                  PoolUse("reports", "bob")])
    assert cap.value == (30 + 2) + (20 + 4)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("[]=;#%' \t\n\r*abcxyz_-.0123456789\ufeff")), max_size=200))
def test_never_raises(text: str) -> None:
    result = _read(text)
    for _, loc in result.problems:
        assert loc is None or (loc.line >= 1 and loc.column >= 1)
