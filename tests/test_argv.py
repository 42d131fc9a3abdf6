"""Reading worker counts, servers and variable references out of container argv."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scalelint.sources.argv import (
    ArgHit,
    env_references,
    expand_shell,
    find_workers,
    gunicorn_cmd_args_workers,
    server_name,
    server_of,
)

# (argv, value, index, server, flag, nested)
WORKER_FORMS = [
    # gunicorn
    (["gunicorn", "-w", "4", "app:app"], "4", 2, "gunicorn", "-w", False),
    (["gunicorn", "-w4", "app:app"], "4", 1, "gunicorn", "-w", False),
    (["gunicorn", "-w=4", "app:app"], "4", 1, "gunicorn", "-w", False),
    (["gunicorn", "app:app", "--workers", "4"], "4", 3, "gunicorn", "--workers", False),
    (["gunicorn", "--workers=4"], "4", 1, "gunicorn", "--workers", False),
    (["/usr/local/bin/gunicorn", "-b", ":80", "-w", "2"], "2", 4, "gunicorn", "-w", False),
    (["gunicorn3", "--workers", "3"], "3", 2, "gunicorn", "--workers", False),
    (["gunicorn", "-w", "$(WORKERS)"], "$(WORKERS)", 2, "gunicorn", "-w", False),
    (["gunicorn", "-w", "$WORKERS"], "$WORKERS", 2, "gunicorn", "-w", False),
    (["gunicorn", "-w$WORKERS"], "$WORKERS", 1, "gunicorn", "-w", False),
    (["gunicorn", "-w", "2", "-w", "5"], "5", 4, "gunicorn", "-w", False),  # last one wins
    # uvicorn
    (["uvicorn", "app:app", "--workers", "4"], "4", 3, "uvicorn", "--workers", False),
    (["uvicorn", "app:app", "--workers=8"], "8", 2, "uvicorn", "--workers", False),
    (
        ["uvicorn", "--workers", "${UVICORN_WORKERS:-4}"],
        "${UVICORN_WORKERS:-4}", 2, "uvicorn", "--workers", False,
    ),
    # hypercorn
    (["hypercorn", "-w", "3", "app:app"], "3", 2, "hypercorn", "-w", False),
    (["hypercorn", "--workers", "3"], "3", 2, "hypercorn", "--workers", False),
    (["hypercorn", "--workers=3"], "3", 1, "hypercorn", "--workers", False),
    # granian
    (["granian", "--interface", "asgi", "--workers", "2"], "2", 4, "granian", "--workers", False),
    (["granian", "--workers=2", "app:app"], "2", 1, "granian", "--workers", False),
    # uwsgi
    (["uwsgi", "--processes", "4"], "4", 2, "uwsgi", "--processes", False),
    (["uwsgi", "--processes=4"], "4", 1, "uwsgi", "--processes", False),
    (["uwsgi", "-p", "4"], "4", 2, "uwsgi", "-p", False),
    (["uwsgi", "--workers", "6"], "6", 2, "uwsgi", "--workers", False),
    (["uwsgi", "--workers=6"], "6", 1, "uwsgi", "--workers", False),
    # celery
    (["celery", "-A", "proj", "worker", "--concurrency", "8"], "8", 5, "celery",
     "--concurrency", False),
    (["celery", "-A", "proj", "worker", "--concurrency=8"], "8", 4, "celery", "--concurrency",
     False),
    (["celery", "--app=proj", "worker", "-c", "8"], "8", 4, "celery", "-c", False),
    (["celery", "worker", "-A", "proj", "-c8"], "8", 4, "celery", "-c", False),
    # fastapi CLI
    (["fastapi", "run", "main.py", "--workers", "4"], "4", 4, "fastapi", "--workers", False),
    # python -m and wrappers
    (["python", "-m", "gunicorn", "-w", "3"], "3", 4, "gunicorn", "-w", False),
    (["python3.12", "-u", "-m", "uvicorn", "a:b", "--workers", "2"], "2", 6, "uvicorn",
     "--workers", False),
    (["python", "-mgunicorn", "-w", "3"], "3", 3, "gunicorn", "-w", False),
    (["ddtrace-run", "gunicorn", "-w", "3"], "3", 3, "gunicorn", "-w", False),
    (["tini", "--", "gunicorn", "-w", "3"], "3", 4, "gunicorn", "-w", False),
    (["dumb-init", "--single-child", "gunicorn", "-w", "3"], "3", 4, "gunicorn", "-w", False),
    (["/usr/bin/env", "A=1", "gunicorn", "-w", "3"], "3", 4, "gunicorn", "-w", False),
    (["env", "-i", "A=1", "gunicorn", "-w", "3"], "3", 5, "gunicorn", "-w", False),
    (["poetry", "run", "uvicorn", "a:b", "--workers", "2"], "2", 5, "uvicorn", "--workers",
     False),
    (["pipenv", "run", "gunicorn", "-w", "2"], "2", 4, "gunicorn", "-w", False),
    (["uv", "run", "--no-sync", "gunicorn", "-w", "2"], "2", 5, "gunicorn", "-w", False),
    (["opentelemetry-instrument", "--traces_exporter", "otlp", "gunicorn", "-w", "2"], "2", 5,
     "gunicorn", "-w", False),
    (["newrelic-admin", "run-program", "gunicorn", "-w", "2"], "2", 4, "gunicorn", "-w", False),
    (["watchmedo", "auto-restart", "-d", ".", "-p", "*.py", "--", "celery", "worker", "-c",
      "2"], "2", 10, "celery", "-c", False),
    (["nohup", "exec", "gunicorn", "-w", "2"], "2", 4, "gunicorn", "-w", False),
    (["docker-entrypoint.sh", "gunicorn", "-w", "2"], "2", 3, "gunicorn", "-w", False),
    (["gosu", "app", "gunicorn", "-w", "2"], "2", 4, "gunicorn", "-w", False),
    (["wait-for-it.sh", "db:5432", "--", "gunicorn", "-w", "2"], "2", 5, "gunicorn", "-w",
     False),
    # shell scripts: the index is the script token's
    (["sh", "-c", "exec gunicorn -w 4 app:app"], "4", 2, "gunicorn", "-w", True),
    (
        ["bash", "-c", "alembic upgrade head && uvicorn app:app --workers ${UVICORN_WORKERS:-4}"],
        "${UVICORN_WORKERS:-4}", 2, "uvicorn", "--workers", True,
    ),
    (["/bin/sh", "-ec", "python manage.py migrate\nexec gunicorn -w 3 app"], "3", 2,
     "gunicorn", "-w", True),
    (["/bin/bash", "-euo", "pipefail", "-c", "gunicorn -w 5"], "5", 4, "gunicorn", "-w", True),
    (["bash", "-lc", "cd /app; gunicorn --workers=2 app"], "2", 2, "gunicorn", "--workers",
     True),
    (["tini", "--", "sh", "-c", "gunicorn -w 7"], "7", 4, "gunicorn", "-w", True),
    (["sh", "-c", "sh -c 'gunicorn -w 6'"], "6", 2, "gunicorn", "-w", True),
    (["sh", "-c", "gunicorn -w $(nproc) app"], "$(nproc)", 2, "gunicorn", "-w", True),
    (["sh", "-c", "gunicorn -w $((2 * $(nproc) + 1)) app"], "$((2 * $(nproc) + 1))", 2,
     "gunicorn", "-w", True),
    (["sh", "-c", "gunicorn -w \"${W:-2 }\" app"], "${W:-2 }", 2, "gunicorn", "-w", True),
    (["sh", "-c", "gunicorn -w $(WORKERS) app"], "$(WORKERS)", 2, "gunicorn", "-w", True),
    (["sh", "-c", "# start\ngunicorn \\\n  -w 3 app # three workers"], "3", 2, "gunicorn",
     "-w", True),
    (["sh", "-c", "gunicorn app -w 2 2>&1 | tee log"], "2", 2, "gunicorn", "-w", True),
    (["sh", "-c", "if [ -n \"$X\" ]; then exec gunicorn -w 9; fi"], "9", 2, "gunicorn", "-w",
     True),
    (["sh", "-c", "WEB=1 ddtrace-run gunicorn -w 4 &\nwait"], "4", 2, "gunicorn", "-w", True),
    (["sh", "-c", "(cd /srv && exec uvicorn a:b --workers 2)"], "2", 2, "uvicorn", "--workers",
     True),
    (["sh", "-c", "celery -A p beat & celery -A p worker -c 3"], "3", 2, "celery", "-c", True),
    # "$@" hands the arguments after $0 back to a top-level command
    (["sh", "-c", "migrate && exec \"$@\"", "--", "gunicorn", "-w", "2"], "2", 6, "gunicorn",
     "-w", False),
    (["sh", "-c", "sh -c 'exec \"$@\"' zero gunicorn -w 3"], "3", 2, "gunicorn", "-w", True),
]


@pytest.mark.parametrize(("argv", "value", "index", "server", "flag", "nested"), WORKER_FORMS)
def test_find_workers_forms(
    argv: list[str], value: str, index: int, server: str, flag: str, nested: bool
) -> None:
    assert find_workers(argv) == ArgHit(value, index, server, flag, nested)


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["uvicorn", "app:app"],
        ["uvicorn", "app:app", "-w", "4"],  # uvicorn has no -w
        ["granian", "-w", "4"],
        ["celery", "-A", "proj", "beat", "-c", "4"],
        ["celery", "-A", "proj", "flower", "--concurrency", "4"],
        ["celery", "-c", "4", "worker"],  # -c before the subcommand is no worker option
        ["fastapi", "dev", "main.py", "--workers", "4"],
        ["gunicorn", "--workers"],  # no value
        ["gunicorn", "--workers", "--bind", ":80"],
        ["gunicorn", "-wsgi"],
        ["gunicorn", "--", "-w", "4"],
        ["uwsgi", "-w", "app"],  # uwsgi's -w is the module
        ["python", "app.py", "-w", "4"],
        ["python", "-c", "import gunicorn", "-w", "4"],
        ["nginx", "-g", "daemon off;"],
        ["sh", "-c", "gunicorn -w 'unbalanced"],
        ["sh", "-c", "gunicorn -w \"4"],
        ["bash", "-c", "gunicorn -w 4 \\"],
        ["sh", "-c"],
        ["sh", "start.sh", "-w", "4"],
        ["sh", "-c", "echo gunicorn -w 4"],
        ["wait-for-it.sh", "db:5432", "gunicorn", "-w", "4"],  # no "--": it runs nothing
    ],
)
def test_find_workers_none(argv: list[str]) -> None:
    assert find_workers(argv) is None


def test_unbalanced_script_is_unreadable_not_an_error() -> None:
    assert expand_shell(["sh", "-c", "exec gunicorn -w 4 'app"]) == []
    assert server_of(["sh", "-c", "exec gunicorn -w 4 'app"]) is None


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["gunicorn", "app"], [(["gunicorn", "app"], 0, False)]),
        (["tini", "--", "gunicorn"], [(["gunicorn"], 2, False)]),
        (["python", "-m", "gunicorn", "x"], [(["gunicorn", "x"], 2, False)]),
        (["python", "-mgunicorn", "x"], [(["gunicorn", "x"], 1, False)]),
        (
            ["sh", "-c", "a b && c d || e; f | g & h\ni"],
            [(["a", "b"], 2, True), (["c", "d"], 2, True), (["e"], 2, True), (["f"], 2, True),
             (["g"], 2, True), (["h"], 2, True), (["i"], 2, True)],
        ),
        (["sh", "-c", "exec env A=1 B=2 gunicorn"], [(["gunicorn"], 2, True)]),
        (["sh", "-c", "echo 'a;b' \"c && d\""], [(["echo", "a;b", "c && d"], 2, True)]),
        (["sh", "-c", "echo 'multi\nline'"], [(["echo", "multi\nline"], 2, True)]),
        (["sh", "-c", "echo a#b # comment"], [(["echo", "a#b"], 2, True)]),
        (["sh", "-c", "x > /dev/null 2>&1"], [(["x", "2"], 2, True)]),
        (["sh", "-c", "echo `date +%s`"], [(["echo", "`date +%s`"], 2, True)]),
        (["sh", "-x", "-c", "a", "arg0", "arg1"], [(["a"], 3, True)]),
        (["sh", "-c", ""], []),
        (["tini", "--"], []),
        (["sh", "run.sh"], [(["sh", "run.sh"], 0, False)]),
        (["sh", "-c", "exec \"${@}\"", "sh", "tini", "--", "x"], [(["x"], 6, False)]),
        (["sh", "-c", "exec \"$@\""], []),
        (["-c", "max_connections=1"], [(["-c", "max_connections=1"], 0, False)]),
    ],
)
def test_expand_shell(argv: list[str], expected: list[tuple[list[str], int, bool]]) -> None:
    assert expand_shell(argv) == expected


def test_expand_shell_does_not_touch_input() -> None:
    argv = ["python", "-mgunicorn", "-w", "2"]
    expand_shell(argv)
    assert argv == ["python", "-mgunicorn", "-w", "2"]


@pytest.mark.parametrize(
    ("argv", "server"),
    [
        (["gunicorn", "app"], "gunicorn"),
        (["/usr/local/bin/uvicorn", "app"], "uvicorn"),
        (["python", "-m", "hypercorn", "app"], "hypercorn"),
        (["granian", "app"], "granian"),
        (["uwsgi", "--ini", "x.ini"], "uwsgi"),
        (["celery", "-A", "p", "beat"], "celery"),
        (["postgres", "-c", "max_connections=5"], "postgres"),
        (["docker-entrypoint.sh", "postgres"], "postgres"),
        (["mariadbd", "--max-connections=5"], "mysqld"),
        (["sh", "-c", "alembic upgrade head && exec uvicorn app"], "uvicorn"),
        (["python", "app.py"], None),
        (["sh", "-c", "gunicorn 'x"], None),
        ([], None),
    ],
)
def test_server_of(argv: list[str], server: str | None) -> None:
    assert server_of(argv) == server


def test_server_name() -> None:
    assert server_name("/usr/bin/gunicorn") == "gunicorn"
    assert server_name("postmaster") == "postgres"
    assert server_name("nginx") is None


@pytest.mark.parametrize(
    ("argv", "names"),
    [
        (["gunicorn", "-w", "$(WORKERS)"], {"WORKERS"}),
        (["gunicorn", "-w", "$$(WORKERS)"], set()),
        (["gunicorn", "-w", "$$$(WORKERS)"], {"WORKERS"}),  # "$$" then $(WORKERS)
        (["uvicorn", "--workers", "${UVICORN_WORKERS:-4}"], {"UVICORN_WORKERS"}),
        (["x", "${A}", "${B:?err}", "${C-1}", "${D:=2}", "${E+x}", "${#F}"],
         {"A", "B", "C", "D", "E", "F"}),
        (["x", "${A:-${B}}"], {"A", "B"}),
        (["x", "$HOME/$USER"], {"HOME", "USER"}),
        (["x", "$$SHELL_VAR"], {"SHELL_VAR"}),  # reaches the shell as $SHELL_VAR
        (["sh", "-c", "gunicorn -w $WORKERS --bind $(HOST):$PORT"], {"WORKERS", "HOST", "PORT"}),
        (["x", "$1", "$@", "$?", "$$", "$", "$(ls -l)", "$(1x)"], set()),
        (["x", "price: 5$"], set()),
        (["x", "$\u00e9t\u00e9"], set()),
    ],
)
def test_env_references(argv: list[str], names: set[str]) -> None:
    assert env_references(argv) == names


@pytest.mark.parametrize(
    ("value", "workers"),
    [
        ("--bind 0.0.0.0 -w 4", "4"),
        ("--workers=3", "3"),
        ("--workers 3 --threads 2", "3"),
        ("-w2", "2"),
        ("--bind :80", None),
        ("", None),
        ("-w 'unbalanced", None),
        ("--workers", None),
    ],
)
def test_gunicorn_cmd_args_workers(value: str, workers: str | None) -> None:
    assert gunicorn_cmd_args_workers(value) == workers


_TOKEN = st.one_of(
    st.text(max_size=30),
    st.sampled_from([
        "sh", "-c", "bash", "-ec", "-o", "gunicorn", "uvicorn", "celery", "worker", "-w",
        "--workers", "-c", "python", "-m", "--", "tini", "env", "exec", "$(X)", "$$(X)", "${",
        "'", '"', "\\", "&&", ";", "\n", "uv", "run", "watchmedo", "auto-restart", "gosu",
    ]),
)
_SCRIPT = st.lists(
    st.sampled_from([
        "gunicorn", "-w", "4", " ", "'", '"', "\\", "\n", "$(", ")", "${", "}", "`", "#", "&&",
        ";", "|", ">", "sh -c ", "exec ", "A=1 ", "uvicorn", "--workers=", "$W",
    ]),
    max_size=25,
).map("".join)


@settings(max_examples=200, deadline=None)
@given(st.lists(_TOKEN, max_size=12))
def test_random_argv_never_raises(argv: list[str]) -> None:
    hit = find_workers(argv)
    if hit is not None:
        assert 0 <= hit.index < len(argv)
        if not hit.nested:
            assert hit.value in argv[hit.index]
    for tokens, origin, nested in expand_shell(argv):
        assert tokens
        assert 0 <= origin < len(argv)
        if not nested:
            assert all(
                token == argv[origin + i] or argv[origin + i].endswith(token)
                for i, token in enumerate(tokens)
            )
    server_of(argv)
    assert env_references(argv) <= {
        name for token in argv for name in env_references([token])
    }


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=60), _SCRIPT))
def test_random_scripts_never_raise(script: str) -> None:
    for argv in (["sh", "-c", script], ["bash", "-euo", "pipefail", "-c", script]):
        hit = find_workers(argv)
        assert hit is None or hit.index == len(argv) - 1
        server_of(argv)
        env_references(argv)
    gunicorn_cmd_args_workers(script)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(["app:app", "--bind", ":80", "--threads", "2", "-k", "gevent"]),
             max_size=6),
    st.sampled_from(["-w", "--workers"]),
    st.integers(min_value=1, max_value=64),
)
def test_gunicorn_index_points_at_value(prefix: list[str], flag: str, workers: int) -> None:
    argv = ["gunicorn", *prefix, flag, str(workers)]
    hit = find_workers(argv)
    assert hit is not None
    assert argv[hit.index] == hit.value == str(workers)
