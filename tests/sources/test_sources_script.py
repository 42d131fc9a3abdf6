"""The launch-script walker: which command a script ends in, with what, written where."""
from __future__ import annotations

import posixpath

import pytest

from scalelint.findings import Loc
from scalelint.model import State, known
from scalelint.sources.located import FileOrigin, Word
from scalelint.sources.script import ScriptResult, run_script

SERVERS = ("gunicorn", "uvicorn", "celery", "uwsgi", "supervisord")


def at(text: str, needle: str, nth: int = 0) -> Loc:
    i = -1
    for _ in range(nth + 1):
        i = text.index(needle, i + 1)
    return Loc("run.sh", text.count("\n", 0, i) + 1, i - (text.rfind("\n", 0, i) + 1) + 1)


def run(text: str, args: tuple[str, ...] = (), env: dict[str, str] | None = None, **kw: object) -> ScriptResult:
    words = [Word.plain(a, Loc("compose.yml", 9, 3 + i)) for i, a in enumerate(args)]
    values = {k: Word.of_val(known(v, Loc("compose.yml", 20 + i, 7)), k) for i, (k, v) in enumerate((env or {}).items())}
    return run_script(FileOrigin("run.sh", text).word(), words, values,
                      is_server=lambda ws: bool(ws) and ws[0].rsplit("/", 1)[-1] in SERVERS, **kw)  # type: ignore[arg-type]


def command(result: ScriptResult) -> list[str]:
    return [w.text for w in result.command or []]


def test_exec_with_a_default_located_at_the_default() -> None:
    text = "#!/bin/sh\nset -e\nWORKERS=${WORKERS:-4}\nexec gunicorn -w $WORKERS app:app\n"
    result = run(text)
    assert result.exec and command(result) == ["gunicorn", "-w", "4", "app:app"]
    assert result.command is not None and result.command[2].loc(0) == at(text, "4}")
    assert result.where == at(text, "exec")


def test_env_value_wins_and_points_at_the_manifest() -> None:
    result = run("W=${W:-4}\nexec gunicorn -w $W\n", env={"W": "8"})
    assert result.command is not None
    assert result.command[2].text == "8" and result.command[2].loc(0) == Loc("compose.yml", 20, 7)


def test_a_default_inside_a_token_is_found_by_offset() -> None:
    text = 'exec /usr/local/bin/gunicorn -b "$B" --name x -w${REDASH_WEB_WORKERS:-4} redash.wsgi:app\n'
    result = run(text)
    token = result.command[5] if result.command else Word("")  # "$B" stays an (empty) argument
    assert token.text == "-w4"
    assert token.loc(2) == at(text, "4}") and token.loc(0) == at(text, "-w$")
    assert token.value(2).value == "4" and token.value(2).loc == at(text, "4}")


@pytest.mark.parametrize("line, env, expected", [
    ("X=${V:-d}", {}, "d"),
    ("X=${V:-d}", {"V": ""}, "d"),
    ("X=${V-d}", {"V": ""}, ""),
    ("X=${V-d}", {}, "d"),
    ("X=${V:+alt}", {"V": "1"}, "alt"),
    ("X=${V:+alt}", {}, ""),
    ("X=${V:=set}; X=$X$V", {}, "setset"),
    ("X=${V:-${U:-nested}}", {}, "nested"),
    ("X=\"a b\"'c'\\ d", {}, "a bc d"),
    ("X=${#V}", {"V": "four"}, "4"),
    ("X=$((2 * 3 + 1))", {}, "7"),
    ("X=$(( ${V:-2} * 2 ))", {}, "4"),
])
def test_parameter_expansion(line: str, env: dict[str, str], expected: str) -> None:
    result = run(f"{line}\nexport X\nexec gunicorn\n", env=env)
    assert result.env["X"].text == expected


def test_only_exported_variables_reach_the_command() -> None:
    result = run("A=1\nexport B=2\nC=3 exec gunicorn\n", env={"D": "4"})
    assert {k: v.text for k, v in result.env.items()} == {"B": "2", "C": "3", "D": "4"}


def test_case_on_the_argument_calls_a_function_after_shift() -> None:
    text = (
        "server() {\n  exec gunicorn -w ${WEB:-4} app\n}\nworker() {\n  export N=${N:-2}\n  exec supervisord -c w.conf\n}\n"
        'case "$1" in\n  server)\n    shift\n    server\n    ;;\n  worker|w)\n    shift; worker;;\n  *)\n    exec "$@"\n    ;;\nesac\n'
    )
    assert command(run(text, ("server",))) == ["gunicorn", "-w", "4", "app"]
    worker = run(text, ("w",))
    assert command(worker) == ["supervisord", "-c", "w.conf"] and worker.env["N"].loc(0) == at(text, "2}")
    other = run(text, ("celery", "worker"))
    assert command(other) == ["celery", "worker"] and other.command is not None
    assert other.command[0].loc(0) == Loc("compose.yml", 9, 3)  # exec "$@": the arguments as written


def test_exec_dollar_at_keeps_each_argument_whole() -> None:
    result = run('set -- "$@" --extra\nexec "$@"\n', ("uwsgi", "/code/etc/uwsgi ini"))
    assert command(result) == ["uwsgi", "/code/etc/uwsgi ini", "--extra"]


def test_decidable_if_takes_its_branch() -> None:
    text = 'if [ "$1" = web ]; then\n  exec gunicorn app\nelif [ "$1" = "worker" ]; then\n  exec celery worker\nelse\n  exec uwsgi x.ini\nfi\n'
    assert command(run(text, ("web",))) == ["gunicorn", "app"]
    assert command(run(text, ("worker",))) == ["celery", "worker"]
    result = run(text, ("other",))
    assert command(result) == ["uwsgi", "x.ini"] and result.notices == []


def test_undecidable_if_prefers_the_branch_that_starts_a_server_and_says_so() -> None:
    text = "if [ -f /config ]; then\n  echo missing; exit 1\nfi\nexec gunicorn app\n"
    result = run(text)
    assert command(result) == ["gunicorn", "app"]
    assert [(n.line, n.column) for n in result.notices] == [(1, 1)]
    assert "cannot be decided" in result.notices[0].message


@pytest.mark.parametrize("test, env, taken", [
    ('[[ -n "${AUTH:-}" ]]', {"AUTH": ""}, False),
    ('[[ -n "${AUTH:-}" ]]', {"AUTH": "u:p"}, True),
    ('[ "$W" -gt 1 ] && [ -z "$KEY" ]', {"W": "2", "KEY": ""}, True),
    ('[ "$W" -gt 1 -a -n "$KEY" ]', {"W": "2", "KEY": ""}, False),
    ('[[ $MODE == prod* || $MODE == stage ]]', {"MODE": "production"}, True),
    ("test ! -z \"$X\"", {"X": "x"}, True),
    ("! [ \"$X\" != x ]", {"X": "x"}, True),
    ("true", {}, True),
    ("false", {}, False),
])
def test_tests_decide_branches(test: str, env: dict[str, str], taken: bool) -> None:
    text = f"if {test}; then\n  exec celery worker\nfi\npython manage.py migrate\n"
    result = run(text, env=env)
    assert command(result)[0] == ("celery" if taken else "python")
    assert result.notices == []


def test_the_last_command_runs_when_nothing_is_execed() -> None:
    text = "python ping.py\nflask db upgrade\necho starting\ngunicorn app\n"
    result = run(text)
    assert not result.exec and command(result) == ["gunicorn", "app"]
    assert [[w.text for w in c] for c in result.ran] == [["python", "ping.py"], ["flask", "db", "upgrade"]]


def test_background_servers_are_listed() -> None:
    result = run("celery worker -c 2 &\nexec gunicorn app\n")
    assert [[w.text for w in c] for c in result.background] == [["celery", "worker", "-c", "2"]]


def test_exit_before_a_server() -> None:
    text = 'if [ -z "$SECRET" ]; then echo "no secret" >&2; exit 1; fi\nexec gunicorn app\n'
    result = run(text)
    assert result.command is None and result.exited == at(text, "exit")
    assert command(run(text, env={"SECRET": "s"})) == ["gunicorn", "app"]


def test_unset_required_variable_exits() -> None:
    text = 'exec gunicorn -w "${WORKERS:?set WORKERS}"\n'
    assert run(text).exited == at(text, "${")
    assert command(run(text, env={"WORKERS": "3"})) == ["gunicorn", "-w", "3"]


def test_subshell_keeps_its_variables() -> None:
    result = run("(\n  X=inner\n  celery worker --pool=solo\n)\nexport X=${X:-outer}\n")
    assert command(result) == ["celery", "worker", "--pool=solo"] and result.env["X"].text == "outer"


def test_cd_and_source() -> None:
    files = {"/app/env.sh": "export WORKERS=6\n"}

    def include(path: str, cwd: str | None) -> Word | None:
        full = posixpath.normpath(path if path.startswith("/") else f"{cwd}/{path}")
        return FileOrigin("env.sh", files[full]).word() if full in files else None

    result = run("cd /app\n. ./env.sh\nsource missing.sh\nexec gunicorn -w $WORKERS\n", include=include)
    assert command(result) == ["gunicorn", "-w", "6"] and result.cwd == "/app"
    assert result.command is not None and result.command[2].loc(0) == Loc("env.sh", 1, 16)
    assert [n.line for n in result.notices] == [3]


def test_command_substitution_is_unknown_and_nproc_keeps_its_formula() -> None:
    result = run("W=$(( $(nproc) * 2 + 1 ))\nT=$(cat /etc/threads)\nexec gunicorn -w $W --threads $T\n")
    assert result.command is not None
    workers, threads = result.command[2], result.command[4]
    span = workers.unknown_span()
    assert span is not None and span.cpu == (2.0, 1.0) and "CPU" in span.reason
    value = threads.value()
    assert value.state is State.UNKNOWN and "cat /etc/threads" in value.reason


def test_bashisms_and_heredocs_are_skipped_safely() -> None:
    text = (
        "#!/usr/bin/env bash\nset -euo pipefail\nshopt -s nullglob\n"
        "cat <<EOF > /tmp/conf\nexec nope\n$(rm -rf /)\nEOF\n"
        "readarray -t lines < <(ls)\nVER=`python -V`\n"
        "[[ $VER =~ ^Python ]] && echo ok\n"
        "declare -x MODE=prod\nexec uvicorn app:app --workers 2\n"
    )
    result = run(text)
    assert command(result) == ["uvicorn", "app:app", "--workers", "2"]
    assert result.env["MODE"].text == "prod"


def test_syntax_errors_are_notices_and_the_rest_is_read() -> None:
    text = "if [ x ]; then\n  echo 'unclosed\nexec gunicorn app\n"
    result = run(text)
    assert result.notices and result.notices[0].message.startswith("shell syntax error")
    assert (result.notices[0].path, result.notices[0].line) == ("run.sh", 2)
    text2 = "echo )\nfi\nexec gunicorn app\n"
    result2 = run(text2)
    assert command(result2) == ["gunicorn", "app"]
    assert [n.line for n in result2.notices] == [1, 2]


def test_loops_are_not_iterated_unless_they_start_a_server() -> None:
    assert command(run("until pg_isready; do sleep 1; done\nexec gunicorn app\n")) == ["gunicorn", "app"]
    result = run("while true; do\n  gunicorn app\ndone\n")
    assert command(result) == ["gunicorn", "app"] and "loop" in result.notices[0].message


def test_unknown_case_subject_prefers_a_server_branch() -> None:
    text = 'case "$(hostname)" in\n  a) echo a ;;\n  *) exec celery worker ;;\nesac\n'
    result = run(text)
    assert command(result) == ["celery", "worker"] and "case subject" in result.notices[0].message


@pytest.mark.parametrize("text", [
    "f() { f; }\nf\n",
    "${" * 5000,
    "(" * 3000 + "echo" + ")" * 3000,
    "\x00\x01\x02binary\xff junk\n" * 100,
    "if then fi esac done ;; ) } \n" * 50,
    "x=$(( 1 / 0 ))\nexec gunicorn -w $x\n",
])
def test_hostile_scripts_never_raise(text: str) -> None:
    result = run(text)
    assert isinstance(result, ScriptResult)


def test_notices_are_capped_and_deduplicated() -> None:
    text = "".join(f"if [ -f /x{i} ]; then echo {i}; fi\n" for i in range(100)) + "exec gunicorn app\n"
    result = run(text)
    assert command(result) == ["gunicorn", "app"]
    assert len(result.notices) == 21 and result.notices[-1].message == "80 more notices about this script not shown"
    repeated = run("f() { if [ -f /x ]; then :; fi; }\nf\nf\nf\nexec gunicorn app\n")
    assert len(repeated.notices) == 1
