"""The launch-chain resolver on small build contexts: override rules, env, wrappers, hostile input."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from scalelint.findings import Loc
from scalelint.model import State, Val, known, unknown
from scalelint.sources.chain import Arg, Launch, Source, resolve


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def args(*tokens: str, line: int = 5) -> list[Arg]:
    return [Arg(t, Loc("compose.yml", line, 10 + 10 * i)) for i, t in enumerate(tokens)]


def env(**values: str) -> dict[str, Val[str]]:
    return {k: known(v, Loc("compose.yml", 20 + i, 9)) for i, (k, v) in enumerate(values.items())}


def go(root: Path, entrypoint: list[Arg] | None = None, command: list[Arg] | None = None,
       values: dict[str, Val[str]] | None = None, *, dockerfile: str | None = "Dockerfile",
       kubernetes: bool = False) -> Launch:
    source = Source(str(root), str(root / dockerfile) if dockerfile else None)
    return resolve(source, entrypoint, command, values or {}, kubernetes=kubernetes)


def summary(launch: Launch) -> list[tuple[str, str | None, int | None]]:
    return [(p.label, p.server, p.workers.value) for p in launch.processes]


def rel(root: Path, loc: Loc | None) -> tuple[str, int, int] | None:
    return None if loc is None else (os.path.relpath(loc.path, root), loc.line, loc.column)


ENTRY = '#!/bin/sh\ncase "$1" in\n  web) shift; exec gunicorn -w ${WEB:-2} app "$@" ;;\n  *) exec "$@" ;;\nesac\n'
IMAGE = 'FROM python\nWORKDIR /app\nCOPY . .\nENTRYPOINT ["/app/entry.sh"]\nCMD ["web"]\n'


@pytest.mark.parametrize("entrypoint, command, expected", [
    (None, None, [("gunicorn", "gunicorn", 2)]),                                  # image ENTRYPOINT + CMD
    (None, ["web", "--workers", "5"], [("gunicorn", "gunicorn", 5)]),           # command replaces CMD only
    (None, ["celery", "-A", "app", "worker", "-c", "3"], [("celery worker", "celery", 3)]),
    (["uvicorn", "app:app", "--workers", "6"], None, [("uvicorn", "uvicorn", 6)]),  # entrypoint clears CMD
    (["/app/entry.sh"], None, []),                                                 # ... even the same script
    (["/app/entry.sh"], ["web"], [("gunicorn", "gunicorn", 2)]),
])
def test_override_rules(tmp_path: Path, entrypoint: list[str] | None, command: list[str] | None,
                        expected: list[tuple[str, str, int]]) -> None:
    write(tmp_path, {"Dockerfile": IMAGE, "entry.sh": ENTRY})
    launch = go(tmp_path, args(*entrypoint) if entrypoint is not None else None,
                args(*command) if command is not None else None)
    assert summary(launch) == expected


def test_steps_and_locations_through_the_script(tmp_path: Path) -> None:
    write(tmp_path, {"Dockerfile": IMAGE, "entry.sh": ENTRY})
    launch = go(tmp_path)
    proc = launch.processes[0]
    assert rel(tmp_path, proc.workers.loc) == ("entry.sh", 3, 39)
    assert [name for name, _ in launch.steps][:3] == ["ENTRYPOINT", "CMD", f"script {tmp_path / 'entry.sh'}"]
    assert launch.workdir == "/app"


def test_env_precedence_manifest_over_env_over_arg(tmp_path: Path) -> None:
    dockerfile = "FROM python\nARG W=2\nARG T=9\nENV T=3 MODE=${W}x\nCMD gunicorn -w $W --threads $T app\n"
    write(tmp_path, {"Dockerfile": dockerfile})
    launch = go(tmp_path)
    proc = launch.processes[0]
    assert (proc.workers.value, rel(tmp_path, proc.workers.loc)) == (2, ("Dockerfile", 2, 7))
    assert (proc.threads.value, rel(tmp_path, proc.threads.loc)) == (3, ("Dockerfile", 4, 7))
    assert launch.env["MODE"].value == "2x"
    launch = go(tmp_path, values=env(W="7"))
    assert (launch.processes[0].workers.value, launch.processes[0].workers.loc) == (7, Loc("compose.yml", 20, 9))
    assert launch.env["W"].loc == Loc("compose.yml", 20, 9)


def test_kubernetes_expands_dollar_parens_from_the_container_env(tmp_path: Path) -> None:
    write(tmp_path, {"Dockerfile": "FROM python\nENV X=1\n"})
    launch = go(tmp_path, args("gunicorn"), args("--workers", "$(W)", "--threads", "$(X)", line=6),
                env(W="4"), kubernetes=True)
    proc = launch.processes[0]
    assert (proc.workers.value, proc.workers.loc, proc.workers_via) == (4, Loc("compose.yml", 20, 9),
                                                                       Loc("compose.yml", 6, 10))
    assert proc.threads.state is State.UNKNOWN  # $(X) is not in the pod spec: the shell sees $(X)


def test_wrappers_and_entrypoint_found_in_path(tmp_path: Path) -> None:
    dockerfile = ("FROM python\nCOPY docker-entrypoint.sh /usr/local/bin/\nWORKDIR /srv\n"
                  'ENTRYPOINT ["tini", "--", "gosu", "app", "docker-entrypoint.sh"]\nCMD ["uvicorn", "m:app"]\n')
    script = '#!/bin/bash\nset -euo pipefail\npython -m alembic upgrade head\nexec "$@" --workers 3\n'
    write(tmp_path, {"Dockerfile": dockerfile, "docker-entrypoint.sh": script})
    launch = go(tmp_path)
    assert summary(launch) == [("uvicorn", "uvicorn", 3)]
    assert launch.processes[0].app == "m:app"


def test_sh_c_strings_keep_their_positions(tmp_path: Path) -> None:
    write(tmp_path, {"Dockerfile": "FROM python\n"})
    script = "python manage.py migrate && exec gunicorn -w ${GW:-3} proj.wsgi"
    arg = Arg(script, Loc("compose.yml", 7, 14), find=lambda needles: Loc("compose.yml", 7, 14 + len(needles[0])))
    launch = go(tmp_path, None, [Arg("sh", Loc("compose.yml", 7, 4)), Arg("-c", Loc("compose.yml", 7, 8)), arg])
    proc = launch.processes[0]
    assert proc.workers.value == 3 and proc.workers.loc == Loc("compose.yml", 7, 14 + script.index("3}"))


def test_supervisord_include_glob_and_programs(tmp_path: Path) -> None:
    dockerfile = ("FROM python\nWORKDIR /app\nCOPY . .\nCOPY deploy/supervisor/ /etc/supervisor/conf.d/\n"
                  'ENV WORKERS=3\nCMD ["supervisord", "-c", "/etc/supervisor/conf.d/main.conf"]\n')
    write(tmp_path, {
        "Dockerfile": dockerfile,
        "deploy/supervisor/main.conf": "[supervisord]\nnodaemon=true\n[include]\nfiles = /etc/supervisor/conf.d/*.ini\n",
        "deploy/supervisor/web.ini": "[program:web]\ncommand=gunicorn -w 4 app\nnumprocs=2\n",
        "deploy/supervisor/jobs.ini": "[program:jobs]\ncommand=celery -A app worker -c %(ENV_WORKERS)s\n",
    })
    launch = go(tmp_path)
    assert summary(launch) == [("supervisord program jobs (celery worker)", "celery", 3),
                               ("supervisord program web (gunicorn)", "gunicorn", 8)]
    assert rel(tmp_path, launch.processes[1].workers.loc) == ("deploy/supervisor/web.ini", 3, 10)


def test_uwsgi_daemon_runs_celery_and_procfile_via_honcho(tmp_path: Path) -> None:
    write(tmp_path, {
        "Dockerfile": 'FROM python\nWORKDIR /app\nCOPY . /app/\nCMD ["honcho", "start"]\n',
        "Procfile": "release: ./manage.py migrate\nweb: uwsgi --ini uwsgi.ini\n",
        "uwsgi.ini": "[uwsgi]\nprocesses = 3\nattach-daemon = celery -A app worker --concurrency 2\n",
    })
    launch = go(tmp_path)
    assert summary(launch) == [
        ("Procfile web (uwsgi)", "uwsgi", 3),
        ("Procfile web (uwsgi attach-daemon celery -A app worker --concurrency 2 (celery worker))", "celery", 2)]


def test_gunicorn_default_config_in_the_workdir(tmp_path: Path) -> None:
    write(tmp_path, {
        "Dockerfile": 'FROM python\nWORKDIR /srv\nCOPY src/ /srv/\nCMD ["gunicorn", "app:app"]\n',
        "src/gunicorn.conf.py": "import multiprocessing\nworkers = multiprocessing.cpu_count() * 2 + 1\n",
    })
    proc = go(tmp_path).processes[0]
    assert proc.workers.state is State.UNKNOWN and proc.cpu_formula == (2.0, 1.0)
    assert "CPU" in proc.workers.reason


def test_a_one_off_last_command_starts_no_server(tmp_path: Path) -> None:
    write(tmp_path, {"Dockerfile": 'FROM python\nCOPY run.sh /run.sh\nENTRYPOINT ["/run.sh"]\n',
                     "run.sh": 'python manage.py wait_for_db\nif [ -n "$AUTH" ]; then celery flower; fi\n'})
    launch = go(tmp_path, values=env(AUTH=""))
    assert launch.processes == [] and "one-off" in launch.notices[-1].message
    assert summary(go(tmp_path, values=env(AUTH="u:p"))) == [("celery flower", "flower", 0)]  # a monitor: no worker


def test_plain_directory_source_maps_by_suffix(tmp_path: Path) -> None:
    write(tmp_path, {"docker/async.sh": "exec celery -A t worker --concurrency 4\n"})
    launch = go(tmp_path, args("/taiga-back/docker/async.sh"), None, dockerfile=None)
    assert summary(launch) == [("celery worker", "celery", 4)]
    unknown_image = go(tmp_path, None, None, dockerfile=None)
    assert unknown_image.processes[0].workers.state is State.UNKNOWN


def test_no_source_at_all() -> None:
    launch = resolve(None, None, None, {}, kubernetes=False)
    proc = launch.processes[0]
    assert proc.workers.state is State.UNKNOWN and "no build context" in proc.workers.reason
    launch = resolve(None, None, args("gunicorn", "-w", "3", "app"), {}, kubernetes=False)
    assert summary(launch) == [("gunicorn", "gunicorn", 3)]
    script = resolve(None, args("/opt/bin/start.sh"), None, {}, kubernetes=False).processes[0]
    assert script.workers.state is State.UNKNOWN
    dispatch = resolve(None, None, args("server"), {}, kubernetes=False).processes[0]
    assert dispatch.workers.state is State.UNKNOWN and "ENTRYPOINT" in dispatch.workers.reason
    plain = resolve(None, args("/usr/bin/app"), args("server"), {}, kubernetes=False).processes[0]
    assert plain.workers.value == 1 and plain.server is None  # the manifest names the program itself


def test_unknown_env_values_stay_unknown(tmp_path: Path) -> None:
    write(tmp_path, {"Dockerfile": 'FROM python\nCMD gunicorn -w "$W" app\n'})
    launch = go(tmp_path, values={"W": unknown(Loc("k8s.yaml", 30, 15), "from Secret web")})
    proc = launch.processes[0]
    assert proc.workers.state is State.UNKNOWN and proc.workers.loc == Loc("k8s.yaml", 30, 15)
    assert "Secret" in proc.workers.reason


# --- what cannot be read -------------------------------------------------------------------------

def test_missing_dockerfile_and_context(tmp_path: Path) -> None:
    launch = go(tmp_path)
    proc = launch.processes[0]
    assert proc.workers.state is State.UNKNOWN and "Dockerfile" in proc.workers.reason
    assert launch.notices
    gone = resolve(Source(str(tmp_path / "nope"), None), None, None, {}, kubernetes=False)
    assert "not found" in gone.processes[0].workers.reason


def test_script_not_copied_into_the_image(tmp_path: Path) -> None:
    write(tmp_path, {"Dockerfile": 'FROM python\nENTRYPOINT ["/entry.sh"]\n', "entry.sh": "exec gunicorn app\n"})
    launch = go(tmp_path)
    proc = launch.processes[0]
    assert proc.workers.state is State.UNKNOWN and "/entry.sh is not copied" in proc.workers.reason
    assert launch.notices[-1].path == "compose.yml" or launch.notices[-1].path.endswith("Dockerfile")


@pytest.mark.parametrize("content, reason", [
    ("x" * (5 * 1024 * 1024), "larger than 2 MB"),
    ("\x00\x01\x02\xff" * 100, "binary file"),
    ("echo starting\n" * 30000 + "exec gunicorn app\n", "larger than 256 KB"),
])
def test_big_and_binary_scripts(tmp_path: Path, content: str, reason: str) -> None:
    write(tmp_path, {"Dockerfile": 'FROM python\nCOPY . /\nENTRYPOINT ["/entry.sh"]\n', "entry.sh": content})
    proc = go(tmp_path).processes[0]
    assert proc.workers.state is State.UNKNOWN and reason in proc.workers.reason


def test_hostile_dockerfiles(tmp_path: Path) -> None:
    write(tmp_path, {"Dockerfile": "FROBNICATE\nFROM x\nBOGUS ~~\nCMD [\"gunicorn\", \"-w\", \"2\"\n" + "\\\n" * 1000,
                     "junk/Dockerfile": "\x00\xff" * 1000})
    launch = go(tmp_path)
    assert {n.line for n in launch.notices if "unknown" in n.message} == {1, 3}
    binary = go(tmp_path, dockerfile="junk/Dockerfile")
    assert binary.processes[0].workers.state is State.UNKNOWN and "binary" in binary.processes[0].workers.reason
    huge = tmp_path / "huge"
    huge.write_text("FROM x\n" + "RUN true\n" * 300_000)
    assert go(tmp_path, dockerfile="huge").processes[0].workers.state is State.UNKNOWN


def test_symlink_loop_and_escape(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write(outside, {"secret.sh": "exec gunicorn -w 99 app\n"})
    context = tmp_path / "ctx"
    write(context, {"Dockerfile": 'FROM python\nCOPY . /app/\nENTRYPOINT ["/app/entry.sh"]\n'})
    os.symlink("loop_b", context / "loop_a")
    os.symlink("loop_a", context / "loop_b")
    os.symlink(str(outside / "secret.sh"), context / "entry.sh")
    launch = go(context)
    proc = launch.processes[0]
    assert proc.workers.state is State.UNKNOWN and proc.workers.value is None
    looped = go(context, args("/app/loop_a"))
    assert looped.processes[0].workers.state is State.UNKNOWN
    escape = go(context, args("/app/../../outside/secret.sh"))
    assert escape.processes[0].workers.state is State.UNKNOWN


def test_a_script_that_runs_itself_stops(tmp_path: Path) -> None:
    write(tmp_path, {"Dockerfile": 'FROM python\nCOPY . /app/\nENTRYPOINT ["/app/a.sh"]\n',
                     "a.sh": "exec /app/b.sh\n", "b.sh": "exec /app/a.sh\n"})
    launch = go(tmp_path)
    assert launch.processes == [] and any("runs itself" in n.message for n in launch.notices)


def test_script_syntax_error_is_a_notice_and_the_server_is_still_found(tmp_path: Path) -> None:
    write(tmp_path, {"Dockerfile": 'FROM python\nCOPY . /app/\nENTRYPOINT ["/app/e.sh"]\n',
                     "e.sh": "if [ x; then\n  echo 'open\nfi\nexec gunicorn -w 2 app\n"})
    launch = go(tmp_path)
    assert summary(launch) == [("gunicorn", "gunicorn", 2)]
    assert any(n.message.startswith("shell syntax error") and n.line == 2 for n in launch.notices)


def test_background_servers_then_wait(tmp_path: Path) -> None:
    write(tmp_path, {"Dockerfile": 'FROM python\nCOPY run.sh /run.sh\nCMD ["sh", "/run.sh"]\n',
                     "run.sh": "python manage.py migrate\ncelery -A app worker -c 2 &\ngunicorn -w 3 app &\nwait\n"})
    launch = go(tmp_path)
    assert summary(launch) == [("celery worker", "celery", 2), ("gunicorn", "gunicorn", 3)]
    assert not any("one-off" in n.message for n in launch.notices)
