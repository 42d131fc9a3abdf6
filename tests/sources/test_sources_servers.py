"""Server readers: command lines and config files of gunicorn, uvicorn, uWSGI, celery, supervisord..."""
from __future__ import annotations

import posixpath
from pathlib import Path

import pytest

from scalelint.findings import Loc
from scalelint.model import State, known
from scalelint.sources.located import FileOrigin, Word
from scalelint.sources.servers import Found, daphne, fastapi, granian, gunicorn, hypercorn, uvicorn
from scalelint.sources.servers_config import Ctx, Opened, read_procfile, read_unit
from scalelint.sources.servers_more import celery, devserver, honcho, rq, supervisord, uwsgi
from scalelint.sources.servers_python import read_python_settings


def at(path: str, text: str, needle: str, nth: int = 0) -> Loc:
    i = -1
    for _ in range(nth + 1):
        i = text.index(needle, i + 1)
    return Loc(path, text.count("\n", 0, i) + 1, i - (text.rfind("\n", 0, i) + 1) + 1)


def argv(line: str) -> list[Word]:
    """Tokens of one command line written on line 1 of cmd.sh, each at its column."""
    origin = FileOrigin("cmd.sh", line)
    out, i = [], 0
    for token in line.split(" "):
        if token:
            out.append(origin.word(i, i + len(token)))
        i += len(token) + 1
    return out


def ctx(files: dict[str, str] | None = None, env: dict[str, str] | None = None, cwd: str = "/app") -> Ctx:
    files = files or {}

    def opener(path: str, where: str | None) -> Opened:
        full = posixpath.normpath(path if path.startswith("/") else posixpath.join(where or "/", path))
        if full not in files:
            return Opened(None, full, f"{full} is not in the image")
        return Opened(FileOrigin(full.lstrip("/"), files[full]), full)

    values = {k: Word.of_val(known(v, Loc("compose.yml", 10 + i, 9)), k) for i, (k, v) in enumerate((env or {}).items())}
    return Ctx(values, cwd, opener)


def one(found: Found) -> tuple[object, object, object]:
    (proc,) = found.processes
    return proc.workers.value, proc.threads.value, proc.worker_class.value if proc.worker_class else None


# --- gunicorn ----------------------------------------------------------------------------------

@pytest.mark.parametrize("line, workers, column", [
    ("gunicorn -w 4 app:app", 4, 13),
    ("gunicorn -w4 app:app", 4, 12),
    ("gunicorn --workers=6 app:app", 6, 20),
    ("gunicorn app:app --workers 3 --workers 5", 5, 40),
    ("gunicorn --preload app:app", 1, 1),
])
def test_gunicorn_workers_from_the_command_line(line: str, workers: int, column: int) -> None:
    proc = gunicorn(argv(line), ctx()).processes[0]
    assert proc.workers.value == workers and proc.workers.loc == Loc("cmd.sh", 1, column)
    assert proc.app == "app:app"
    assert proc.workers.state is (State.DEFAULT if workers == 1 else State.KNOWN)


def test_gunicorn_precedence_config_then_env_args_then_cli() -> None:
    conf = "import multiprocessing, os\nworkers = int(os.environ.get('GW', '3'))\nthreads = 2\n"
    files = {"/app/gunicorn.conf.py": conf}
    proc = gunicorn(argv("gunicorn app:app"), ctx(files, {"WEB_CONCURRENCY": "9"})).processes[0]
    assert proc.workers.value == 3 and proc.workers.loc == at("app/gunicorn.conf.py", conf, "'3'")
    assert proc.threads.value == 2 and proc.worker_class is not None and proc.worker_class.value == "gthread"
    proc = gunicorn(argv("gunicorn app:app"), ctx(files, {"GW": "5"})).processes[0]
    assert proc.workers.value == 5 and proc.workers.loc == Loc("compose.yml", 10, 9)
    proc = gunicorn(argv("gunicorn app:app"), ctx(files, {"GUNICORN_CMD_ARGS": "--workers 7"})).processes[0]
    assert proc.workers.value == 7
    proc = gunicorn(argv("gunicorn -w 8 app:app"), ctx(files, {"GUNICORN_CMD_ARGS": "--workers 7"})).processes[0]
    assert proc.workers.value == 8
    proc = gunicorn(argv("gunicorn app:app"), ctx({}, {"WEB_CONCURRENCY": "9"})).processes[0]
    assert proc.workers.value == 9 and proc.workers.loc == Loc("compose.yml", 10, 9)


def test_gunicorn_cpu_formula_is_unknown_with_its_formula() -> None:
    conf = "import multiprocessing\n\nworkers = multiprocessing.cpu_count() * 2 + 1\nworker_class = 'gevent'\n"
    proc = gunicorn(argv("gunicorn -c conf/g.py app:app"), ctx({"/app/conf/g.py": conf})).processes[0]
    assert proc.workers.state is State.UNKNOWN and "CPU" in proc.workers.reason
    assert proc.cpu_formula == (2.0, 1.0) and proc.workers.loc == Loc("app/conf/g.py", 3, 11)
    assert proc.worker_class is not None and proc.worker_class.value == "gevent" and proc.asgi
    assert proc.threads.value == 1000 and proc.threads.state is State.DEFAULT


def test_gunicorn_python_module_config_and_missing_config() -> None:
    conf = "bind = ':8000'\nworkers = 2\n"
    proc = gunicorn(argv("gunicorn --config=python:settings.gunicorn app"), ctx({"/app/settings/gunicorn.py": conf}))
    assert proc.processes[0].workers.value == 2
    context = ctx()
    proc2 = gunicorn(argv("gunicorn -c missing.py app"), context).processes[0]
    assert proc2.workers.state is State.UNKNOWN and "missing.py" in proc2.workers.reason
    assert context.notices and context.notices[0].column == 13


@pytest.mark.parametrize("source, expected", [
    ("workers = 4", ("4", None)),
    ("workers = int(os.getenv('W') or 6)", ("6", None)),
    ("import os\nworkers = os.environ['W']", (None, None)),
    ("workers = os.cpu_count()", (None, (1.0, 0.0))),
    ("n = 3\nworkers = n * 2", ("6", None)),
    ("if True:\n    workers = 3", (None, None)),
    ("workers = compute()", (None, None)),
    ("workers = len(os.sched_getaffinity(0)) + 1", (None, (1.0, 1.0))),
    ("def broken(:", (None, None)),
])
def test_python_settings(source: str, expected: tuple[str | None, tuple[float, float] | None]) -> None:
    conf = read_python_settings(FileOrigin("g.py", source), {}, frozenset({"workers"}))
    value = conf.values.get("workers")
    assert (value.value if value else None, conf.cpu.get("workers")) == expected


# --- ASGI servers ------------------------------------------------------------------------------

def test_uvicorn_hypercorn_granian_daphne() -> None:
    assert one(uvicorn(argv("uvicorn app.main:app --workers 4"), ctx())) == (4, 1, None)
    reload = uvicorn(argv("uvicorn app:app --reload --workers 4"), ctx()).processes[0]
    assert reload.workers.value == 1 and reload.workers.loc == Loc("cmd.sh", 1, 17)
    env = uvicorn(argv("uvicorn app:app"), ctx(env={"WEB_CONCURRENCY": "3"})).processes[0]
    assert env.workers.value == 3 and env.asgi and env.app == "app:app"
    assert one(hypercorn(argv("hypercorn -w 2 -k uvloop app:app"), ctx())) == (2, 1, "uvloop")
    toml = "bind = ['0.0.0.0:80']\nworkers = 5\n"
    assert one(hypercorn(argv("hypercorn -c h.toml app:app"), ctx({"/app/h.toml": toml})))[0] == 5
    g = granian(argv("granian --interface wsgi --workers 3 --blocking-threads 8 app:app"), ctx()).processes[0]
    assert (g.workers.value, g.threads.value, g.asgi) == (3, 8, False)
    assert granian(argv("granian app:app"), ctx(env={"GRANIAN_WORKERS": "2"})).processes[0].workers.value == 2
    d = daphne(argv("daphne -b 0.0.0.0 -p 8000 proj.asgi:application"), ctx()).processes[0]
    assert d.workers.value == 1 and d.asgi and d.app == "proj.asgi:application"


def test_fastapi_run_and_dev() -> None:
    pyproject = '[project]\nname = "x"\n\n[tool.fastapi]\nentrypoint = "app.main:app"\n'
    files = {"/app/pyproject.toml": pyproject}
    run = fastapi(argv("fastapi run --workers 4"), ctx(files)).processes[0]
    assert (run.workers.value, run.workers.loc, run.app) == (4, Loc("cmd.sh", 1, 23), "app.main:app")
    dev = fastapi(argv("fastapi dev --host 0.0.0.0"), ctx(files)).processes[0]
    assert dev.workers.value == 1 and dev.label == "fastapi dev" and dev.asgi
    plain = fastapi(argv("fastapi run main.py"), ctx()).processes[0]
    assert plain.workers.state is State.DEFAULT and plain.app == "main.py"


# --- celery, rq, dev servers -------------------------------------------------------------------

@pytest.mark.parametrize("line, workers, threads, pool", [
    ("celery -A proj worker -c 4", 4, 1, "prefork"),
    ("celery -A proj worker --concurrency=8 -l info", 8, 1, "prefork"),
    ("celery --app=config worker --loglevel=info --pool=solo", 1, 1, "solo"),
    ("celery -A proj worker -P threads -c 10", 1, 10, "threads"),
    ("celery -A proj worker --pool gevent --concurrency 500", 1, 500, "gevent"),
    ("celery -A proj worker --autoscale=10,3", 10, 1, "prefork"),
    ("celery -A proj worker -B --concurrency 4 -l INFO", 4, 1, "prefork"),
])
def test_celery_worker(line: str, workers: int, threads: int, pool: str) -> None:
    assert one(celery(argv(line), ctx())) == (workers, threads, pool)


def test_celery_without_concurrency_depends_on_the_cpu_count() -> None:
    proc = celery(argv("celery -A proj worker"), ctx()).processes[0]
    assert proc.workers.state is State.UNKNOWN and proc.cpu_formula == (1.0, 0.0)
    env = celery(argv("celery -A proj worker"), ctx(env={"CELERY_WORKER_CONCURRENCY": "3"})).processes[0]
    assert env.workers.value == 3 and env.workers.state is State.ASSUMED
    beat = celery(argv("celery -A proj beat"), ctx()).processes[0]
    assert beat.label == "celery beat" and beat.workers.value == 1
    flower = celery(argv("celery --app=config flower"), ctx()).processes[0]
    assert flower.server == "flower"


def test_rq_and_dev_servers() -> None:
    words = argv("./manage.py rq worker default")
    assert one(rq(words, ctx(), 2)) == (1, 1, None)
    pool = rq(argv("rq worker-pool -n 3"), ctx(), 1).processes[0]
    assert pool.workers.value == 3
    run = devserver("django-runserver", argv("python manage.py runserver 0:8000"), 2).processes[0]
    assert run.workers.value == 1 and run.threads.state is State.UNKNOWN
    single = devserver("django-runserver", argv("python manage.py runserver --nothreading"), 2).processes[0]
    assert single.threads.value == 1


# --- uWSGI -------------------------------------------------------------------------------------

UWSGI = """\
[uwsgi]
strict
master = true
if-not-env = UWSGI_PROCESSES
processes = 4
endif =
cores = 2
threads = %(cores)
enable-threads
chdir = /srv
module = proj.wsgi:application
http-socket = :$(PORT)
attach-daemon = ./manage.py sendalerts
attach-daemon2 = cmd=celery -A proj beat,freq=3
if-env = SMTPD_PORT
attach-daemon = ./manage.py smtpd --port %(_)
endif =
ini = extra.ini

[other]
processes = 9
"""


def test_uwsgi_ini_reads_processes_threads_and_daemons() -> None:
    files = {"/srv/u.ini": UWSGI, "/app/extra.ini": "[uwsgi]\nthreads = 3\n"}
    found = uwsgi(argv("uwsgi --ini /srv/u.ini"), ctx(files, {"PORT": "8000"}))
    proc = found.processes[0]
    assert (proc.workers.value, proc.workers.loc) == (4, at("srv/u.ini", UWSGI, "4\nendif"))
    assert proc.threads.value == 3 and proc.app == "proj.wsgi:application"
    assert [c.command.text for c in found.children] == ["./manage.py sendalerts", "celery -A proj beat"]
    assert all(c.cwd == "/srv" for c in found.children)
    assert found.children[0].count is not None and found.children[0].count.loc == at("srv/u.ini", UWSGI, "attach")


def test_uwsgi_env_blocks_and_overrides() -> None:
    files = {"/srv/u.ini": UWSGI, "/app/extra.ini": "[uwsgi]\n"}
    found = uwsgi(argv("uwsgi /srv/u.ini"), ctx(files, {"UWSGI_PROCESSES": "6", "SMTPD_PORT": "2525"}))
    assert found.processes[0].workers.value == 6 and found.processes[0].workers.loc == Loc("compose.yml", 10, 9)
    assert found.processes[0].threads.value == 2  # the %(cores) placeholder
    assert [c.command.text for c in found.children][-1] == "./manage.py smtpd --port 2525"
    cli = uwsgi(argv("uwsgi --ini /srv/u.ini:other --processes 2"), ctx(files)).processes[0]
    assert cli.workers.value == 2
    section = uwsgi(argv("uwsgi --ini /srv/u.ini:other"), ctx(files)).processes[0]
    assert section.workers.value == 9


def test_uwsgi_cpu_cores_placeholder_and_missing_file() -> None:
    files = {"/app/u.ini": "[uwsgi]\nworkers = %k\n"}
    proc = uwsgi(argv("uwsgi u.ini"), ctx(files)).processes[0]
    assert proc.workers.state is State.UNKNOWN and proc.cpu_formula == (1.0, 0.0)
    context = ctx()
    missing = uwsgi(argv("uwsgi --ini nope.ini"), context).processes[0]
    assert missing.workers.state is State.UNKNOWN and "nope.ini" in missing.workers.reason
    assert context.notices[0].column == 13
    default = uwsgi(argv("uwsgi --http :80 -w app"), ctx()).processes[0]
    assert default.workers.state is State.DEFAULT and default.app == "app"


# --- supervisord, Procfile, Unit -----------------------------------------------------------------

SUPERVISOR = """\
[supervisord]
nodaemon=true

[program:worker]
command=./manage.py rq worker %(ENV_QUEUES)s
process_name=%(program_name)s-%(process_num)s
numprocs=%(ENV_WORKERS_COUNT)s
directory=/app
environment=A="1",B=two

[program:off]
command=sleep infinity
autostart=false

[eventlistener:health]
command=./manage.py rq healthcheck

[include]
files = conf.d/*.conf
"""


def test_supervisord_programs_are_children_with_numprocs() -> None:
    files = {"/etc/sv.conf": SUPERVISOR, "/etc/conf.d/web.conf": "[program:web]\ncommand=gunicorn app ; comment\n"}
    context = ctx(files, {"WORKERS_COUNT": "2", "QUEUES": "default"})
    context.glob = lambda pattern, cwd: ["/etc/conf.d/web.conf"]
    found = supervisord(argv("supervisord -c /etc/sv.conf"), context)
    worker, web = found.children
    assert worker.command.text == "./manage.py rq worker default" and worker.cwd == "/app"
    assert worker.count is not None and (worker.count.value, worker.count.loc) == (2, Loc("compose.yml", 10, 9))
    assert {k: v.text for k, v in worker.env.items()} == {"A": "1", "B": "two"}
    assert web.command.text == "gunicorn app" and web.count is not None and web.count.state is State.DEFAULT


def test_supervisord_unset_env_and_missing_config() -> None:
    found = supervisord(argv("supervisord -c /etc/sv.conf"), ctx({"/etc/sv.conf": SUPERVISOR}, {"QUEUES": ""}))
    count = found.children[0].count
    assert count is not None and count.state is State.UNKNOWN and "WORKERS_COUNT" in count.reason
    missing = supervisord(argv("supervisord -n"), ctx())
    assert missing.processes[0].workers.state is State.UNKNOWN


def test_procfile_and_honcho() -> None:
    text = "release: python manage.py migrate\nweb: gunicorn app -w 3\nworker: celery -A app worker\n\n# note\n"
    assert [(n, c.text) for n, c, _ in read_procfile(FileOrigin("Procfile", text))] == [
        ("release", "python manage.py migrate"), ("web", "gunicorn app -w 3"), ("worker", "celery -A app worker")]
    found = honcho(argv("honcho start -c worker=2"), ctx({"/app/Procfile": text}))
    assert [c.label for c in found.children] == ["Procfile web", "Procfile worker"]
    assert found.children[1].count is not None and found.children[1].count.value == 2
    only = honcho(argv("honcho start web"), ctx({"/app/Procfile": text}))
    assert [c.label for c in only.children] == ["Procfile web"]


def test_nginx_unit_config() -> None:
    text = '{"applications": {"api": {"type": "python 3.12", "module": "wsgi",\n "processes": {"max": 6, "spare": 2},\n' \
           ' "threads": 4}, "static": {"type": "python", "processes": 2}}}'
    apps, error = read_unit(FileOrigin("unit.json", text))
    assert error is None
    assert [(a.name, a.processes.value, a.threads.value) for a in apps] == [("api", 6, 4), ("static", 2, 1)]
    assert apps[0].processes.loc == Loc("unit.json", 2, 2)
    assert read_unit(FileOrigin("bad.json", "{nope"))[1] is not None


def test_a_cpu_count_setting_is_named_once_in_the_notice(tmp_path: Path) -> None:
    """Each layer used to prefix its own label: "gunicorn: gunicorn workers: workers: depends on the CPU count"."""
    from conftest import lint

    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "gunicorn.conf.py").write_text("import multiprocessing\n"
                                                       "workers = multiprocessing.cpu_count() * 2 + 1\n")
    (tmp_path / "app" / "Dockerfile").write_text(
        'FROM python:3.12\nWORKDIR /app\nCOPY . .\nCMD ["gunicorn", "app:app"]\n')
    r = lint(tmp_path, {"compose.yaml": "services:\n  api:\n    build: ./app\n"})
    [notice] = [n.message for n in r.result.notices if "worker count" in n.message]
    assert "(gunicorn: workers: depends on the CPU count)" in notice, notice
