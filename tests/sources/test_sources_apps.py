"""The launch chain on the real applications in /work/shared/apps (their EXPECTED.md gives the numbers).

Each test builds the Source and the manifest tokens that the compose integration will
pass (command/entrypoint and env as written in the compose files), so that this module
tests the chain alone.  Skipped when the shared directory is not there.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from scalelint.findings import Loc
from scalelint.model import State, Val, known
from scalelint.sources.chain import Arg, Launch, Process, Source, resolve

APPS = Path(__file__).resolve().parents[3] / "shared" / "apps"


def app(name: str) -> Path:
    path = APPS / name
    if not path.is_dir():
        pytest.skip(f"{path} not available")
    return path


def tokens(path: str, line: int, *texts: str) -> list[Arg]:
    return [Arg(t, Loc(path, line, 5 + i)) for i, t in enumerate(texts)]


def where(root: Path, loc: Loc | None) -> tuple[str, int]:
    assert loc is not None
    return os.path.relpath(loc.path, root), loc.line


def only(launch: Launch) -> Process:
    assert len(launch.processes) == 1, [p.label for p in launch.processes]
    return launch.processes[0]


def test_fastapi_template() -> None:
    root = app("fastapi__full-stack-fastapi-template")
    source = Source(str(root), str(root / "backend/Dockerfile"))
    proc = only(resolve(source, None, None, {}, kubernetes=False))
    assert (proc.server, proc.workers.value, proc.workers.state) == ("fastapi", 4, State.KNOWN)
    assert where(root, proc.workers.loc) == ("backend/Dockerfile", 65)
    assert proc.workers.loc is not None and proc.workers.loc.column == 38  # the "4" itself
    assert proc.asgi and proc.app == "app.main:app"  # [tool.fastapi] of backend/pyproject.toml
    dev = only(resolve(source, None, tokens("compose.override.yml", 41, "fastapi", "dev", "--host", "0.0.0.0"), {},
                       kubernetes=False))
    assert (dev.label, dev.workers.value) == ("fastapi dev", 1)
    assert dev.workers.loc is not None and dev.workers.loc.path == "compose.override.yml"


def test_healthchecks_uwsgi_with_attached_daemons() -> None:
    root = app("healthchecks__healthchecks")
    command = tokens("docker/docker-compose.yml", 28, "bash", "-c",
                     "while !</dev/tcp/db/5432; do sleep 1; done; uwsgi /opt/healthchecks/docker/uwsgi.ini")
    launch = resolve(Source(str(root), str(root / "docker/Dockerfile")), None, command, {}, kubernetes=False)
    web, alerts, reports = launch.processes
    assert (web.server, web.workers.value, where(root, web.workers.loc)) == ("uwsgi", 4, ("docker/uwsgi.ini", 15))
    assert (web.threads.value, where(root, web.threads.loc)) == (1, ("docker/uwsgi.ini", 19))
    assert web.app == "hc.wsgi:application"
    assert alerts.label == "uwsgi attach-daemon ./manage.py sendalerts --skip-checks"
    assert (alerts.workers.value, where(root, alerts.workers.loc)) == (1, ("docker/uwsgi.ini", 35))
    assert (reports.workers.value, where(root, reports.workers.loc)) == (1, ("docker/uwsgi.ini", 36))
    assert not any("smtpd" in p.label for p in launch.processes)
    with_smtpd = resolve(Source(str(root), str(root / "docker/Dockerfile")), None, command,
                         {"SMTPD_PORT": known("2525", Loc("docker/.env", 65, 1))}, kubernetes=False)
    assert with_smtpd.processes[-1].label == "uwsgi attach-daemon ./manage.py smtpd --port 2525 --skip-checks"


def test_ctfd_workers_from_compose_env_and_gevent_from_the_script() -> None:
    root = app("CTFd__CTFd")
    env: dict[str, Val[str]] = {"WORKERS": known("1", Loc("docker-compose.yml", 11, 9))}
    proc = only(resolve(Source(str(root), str(root / "Dockerfile")), None, None, env, kubernetes=False))
    assert (proc.server, proc.workers.value, proc.workers.loc) == ("gunicorn", 1, Loc("docker-compose.yml", 11, 9))
    assert where(root, proc.workers_via) == ("docker-entrypoint.sh", 35)
    assert proc.worker_class is not None and proc.worker_class.value == "gevent"
    assert where(root, proc.worker_class.loc) == ("docker-entrypoint.sh", 5)
    assert proc.threads.value == 1000 and proc.asgi
    unset = only(resolve(Source(str(root), str(root / "Dockerfile")), None, None, {}, kubernetes=False))
    assert (unset.workers.value, where(root, unset.workers.loc)) == (1, ("docker-entrypoint.sh", 4))


@pytest.mark.parametrize("command, label, server, workers, line", [
    ("server", "gunicorn", "gunicorn", 4, ("bin/docker-entrypoint", 50)),
    ("worker", "supervisord program worker (rq worker)", "rq", 2, ("bin/docker-entrypoint", 19)),
    ("scheduler", "rq scheduler", None, 1, ("bin/docker-entrypoint", 7)),
    ("dev_server", "flask", "flask", 1, ("bin/docker-entrypoint", 119)),
    ("dev_worker", "rq worker", "rq", 1, ("bin/docker-entrypoint", 41)),
    ("dev_scheduler", "rq scheduler", None, 1, ("bin/docker-entrypoint", 13)),
])
def test_redash_entrypoint_branches(command: str, label: str, server: str | None, workers: int,
                                    line: tuple[str, int]) -> None:
    root = app("getredash__redash")
    launch = resolve(Source(str(root), str(root / "Dockerfile")), None, tokens("compose.yaml", 27, command), {},
                     kubernetes=False)
    proc = only(launch)
    assert (proc.label, proc.server, proc.workers.value) == (label, server, workers)
    assert where(root, proc.workers.loc) == line


def test_redash_server_points_at_the_default_inside_the_token() -> None:
    root = app("getredash__redash")
    launch = resolve(Source(str(root), str(root / "Dockerfile")), None, tokens(".ci/compose.cypress.yaml", 18, "server"),
                     {}, kubernetes=False)
    proc = only(launch)
    text = (root / "bin/docker-entrypoint").read_text().splitlines()[49]
    assert proc.workers.loc is not None and proc.workers.loc.column == text.index("4}") + 1
    override = resolve(Source(str(root), str(root / "Dockerfile")), None, tokens("c.yaml", 18, "worker"),
                       {"WORKERS_COUNT": known("5", Loc("c.yaml", 12, 22))}, kubernetes=False)
    assert (only(override).workers.value, only(override).workers.loc) == (5, Loc("c.yaml", 12, 22))


def test_wagtail_uwsgi_through_exec_dollar_at() -> None:
    root = app("wagtail__bakerydemo")
    proc = only(resolve(Source(str(root), str(root / "Dockerfile")), None, None, {}, kubernetes=False))
    assert (proc.server, proc.workers.value, where(root, proc.workers.loc)) == ("uwsgi", 2, ("etc/uwsgi.ini", 4))
    assert (proc.threads.value, where(root, proc.threads.loc)) == (4, ("etc/uwsgi.ini", 5))


DOCCANO_ENV = {"ADMIN_USERNAME": "admin", "ADMIN_PASSWORD": "password", "ADMIN_EMAIL": "admin@example.com"}


def doccano(entrypoint: str | None, **extra: str) -> tuple[Path, Launch]:
    root = app("doccano__doccano")
    env: dict[str, Val[str]] = {k: known(v, Loc("docker/.env.example", i + 2, 1))
                                for i, (k, v) in enumerate({**DOCCANO_ENV, **extra}.items())}
    entry = tokens("docker/docker-compose.prod.yml", 30, entrypoint) if entrypoint else None
    return root, resolve(Source(str(root), str(root / "docker/Dockerfile.prod")), entry, None, env, kubernetes=False)


def test_doccano_backend_celery_and_flower() -> None:
    root, backend = doccano(None)
    proc = only(backend)
    assert (proc.server, proc.workers.value, where(root, proc.workers.loc)) == ("gunicorn", 4, ("tools/prod-django.sh", 36))
    assert proc.threads.value == 1 and proc.app == "config.wsgi"
    root, celery = doccano("/opt/bin/prod-celery.sh")
    worker = only(celery)
    assert (worker.server, worker.workers.value, where(root, worker.workers.loc)) == (
        "celery", 1, ("tools/prod-celery.sh", 13))
    assert worker.worker_class is not None and worker.worker_class.value == "solo"
    root, flower = doccano("/opt/bin/prod-flower.sh", FLOWER_BASIC_AUTH="")
    assert flower.processes == []
    assert any("one-off" in n.message for n in flower.notices)
    root, started = doccano("/opt/bin/prod-flower.sh", FLOWER_BASIC_AUTH="user:pass")
    assert only(started).server == "flower"
    # Flower reads the broker's events and never the Django database (EXPECTED.md: 0)
    assert only(started).workers.value == 0 and "monitor" in only(started).workers.reason


def test_doccano_backend_exits_without_admin_variables() -> None:
    root = app("doccano__doccano")
    launch = resolve(Source(str(root), str(root / "docker/Dockerfile.prod")), None, None, {}, kubernetes=False)
    assert launch.processes == []
    assert any("exits" in n.message and n.line == 5 for n in launch.notices)


def test_taiga_back_and_async_through_the_copy_mapping() -> None:
    root = app("taigaio__taiga")
    source = Source(str(root / "taiga-back"), str(root / "taiga-back/docker/Dockerfile"))
    back = only(resolve(source, None, None, {}, kubernetes=False))
    assert (back.server, back.workers.value, where(root, back.workers.loc)) == (
        "gunicorn", 3, ("taiga-back/docker/entrypoint.sh", 28))
    async_ = only(resolve(source, tokens("docker-compose.yml", 73, "/taiga-back/docker/async_entrypoint.sh"), None, {},
                          kubernetes=False))
    assert (async_.server, async_.workers.value, where(root, async_.workers.loc)) == (
        "celery", 4, ("taiga-back/docker/async_entrypoint.sh", 18))
    assert async_.worker_class is not None and async_.worker_class.value == "prefork"
    plain = only(resolve(Source(str(root / "taiga-back"), None), tokens("docker-compose.yml", 73,
                                                                          "/taiga-back/docker/async_entrypoint.sh"),
                         None, {}, kubernetes=False))
    assert plain.workers.value == 4


def test_image_only_services_without_a_source_are_unknown() -> None:
    app("taigaio__taiga")
    proc = only(resolve(None, None, None, {}, kubernetes=False))
    assert proc.workers.state is State.UNKNOWN and "no build context" in proc.workers.reason
