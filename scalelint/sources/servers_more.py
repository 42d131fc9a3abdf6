"""Process managers and task workers: celery, rq, dev servers, uWSGI, supervisord, Procfile, Unit.

Like :mod:`scalelint.sources.servers`, each reader turns an argv into process groups;
the process managers (uWSGI daemons, supervisord programs, Procfile lines) also return the
commands they start as :class:`~scalelint.sources.servers.Child` entries, which the chain
follows like any other command line (a supervised program may itself be gunicorn).
"""
from __future__ import annotations

import posixpath

from scalelint.findings import Loc
from scalelint.model import State, Val, assumed, default, known, unknown

from .located import Word
from .servers import Child, Found, Opt, Process, last, parse_options, via_loc
from .servers_config import Ctx, UwsgiConf, read_procfile, read_supervisord, read_unit, read_uwsgi, to_int

__all__ = ["celery", "devserver", "honcho", "one_process", "rq", "supervisord", "unit", "uwsgi"]

_CELERY_BOOL = frozenset({
    "--beat", "--events", "--detach", "--without-gossip", "--without-mingle", "--without-heartbeat", "--purge",
    "--discard", "--quiet", "--no-color", "--help", "--version", "--optimization", "--skip-checks",
})


def one_process(label: str, server: str | None, words: list[Word], where: Loc | None = None,
                threads: Val[int] | None = None, asgi: bool = False, app: str | None = None) -> Process:
    """A program that is one process by construction (a daemon, a scheduler, a script)."""
    at = where or words[0].loc(0)
    return Process(label, server, known(1, at), threads or default(1, at, "one thread"), None, asgi, app,
                   [w.text for w in words])


def flower(label: str, words: list[Word], where: Loc | None = None, app: str | None = None) -> Process:
    """Celery's monitor: one process that reads the broker's events and opens no database connection,
    so it counts as no worker of the application."""
    at = where or words[0].loc(0)
    return Process(label, "flower", Val(0, at, State.KNOWN, "flower is a monitor, not a worker"),
                   default(1, at, "one thread"), None, True, app, [w.text for w in words])


def celery(words: list[Word], ctx: Ctx) -> Found:
    """``celery worker``: prefork children = ``--concurrency`` (default: one per CPU);
    ``solo`` is one process; ``threads``/``gevent``/``eventlet`` are one process with
    ``--concurrency`` threads or greenlets."""
    opts, operands = parse_options(words, 1, "AbcPQlnfOsXS", _CELERY_BOOL)
    sub = operands[0].text if operands else ""
    app_opt = last(opts, "-A", "--app")
    app = app_opt.value.text if app_opt is not None and app_opt.value is not None else None
    where = operands[0].loc(0) if operands else words[0].loc(0)
    if sub == "flower":
        return Found([flower("celery flower", words, where, app=app)])
    if sub != "worker":
        return Found([one_process(f"celery {sub}".strip(), "celery", words, where, app=app)])
    pool_opt = last(opts, "-P", "--pool")
    pool: Val[str] = pool_opt.value.value() if pool_opt is not None and pool_opt.value is not None else default(
        "prefork", where, "celery's default pool")
    concurrency, cpu, via = _concurrency(opts, ctx, where)
    if last(opts, "-B", "--beat") is not None:
        ctx.steps.append(("celery worker -B: the embedded beat scheduler is one more process", where or Loc("")))
    name = str(pool.value or "prefork")
    one = known(1, pool.loc)
    if name == "solo":
        proc = Process("celery worker", "celery", one, known(1, pool.loc), pool, False, app, [w.text for w in words])
    elif name in ("threads", "gevent", "eventlet"):
        proc = Process("celery worker", "celery", one, concurrency, pool, name != "threads", app,
                       [w.text for w in words], cpu)
    else:
        proc = Process("celery worker", "celery", concurrency, default(1, where, "prefork children are single-threaded"),
                       pool, False, app, [w.text for w in words], cpu, via)
    return Found([proc])


def _concurrency(opts: list[Opt], ctx: Ctx, where: Loc | None) -> tuple[Val[int], tuple[float, float] | None,
                                                                             Loc | None]:
    opt = last(opts, "-c", "--concurrency")
    if opt is not None and opt.value is not None:
        val, cpu = to_int(opt.value, "celery --concurrency")
        return val, cpu, via_loc(opt.token.loc(0), val.loc)
    scale = last(opts, "--autoscale")
    if scale is not None and scale.value is not None:
        high = scale.value[:scale.value.text.find(",")] if "," in scale.value.text else scale.value
        val, cpu = to_int(high, "celery --autoscale maximum")
        return val, cpu, via_loc(scale.token.loc(0), val.loc)
    for name in ("CELERY_WORKER_CONCURRENCY", "CELERYD_CONCURRENCY"):
        word = ctx.env.get(name)
        if word is not None:
            val, cpu = to_int(word, name)
            if val.value is not None:
                return assumed(val.value, val.loc, f"{name} in the env, assuming the app's celery settings read it"), \
                    None, None
            return val, cpu, None
    return unknown(where, "celery worker without --concurrency starts one process per CPU: "
                          "depends on the CPU count"), (1.0, 0.0), None


def rq(words: list[Word], ctx: Ctx, start: int) -> Found:
    """``rq worker`` (one worker; it forks one work horse per job, one at a time); ``worker-pool -n N``."""
    sub = words[start].text if start < len(words) else "worker"
    where = words[start].loc(0) if start < len(words) else words[0].loc(0)
    if sub in ("scheduler", "rqscheduler"):
        return Found([one_process("rq scheduler", None, words, where)])
    if sub == "worker-pool":
        opts, _ = parse_options(words, start + 1, "nwcuq")
        count = last(opts, "-n", "--num-workers")
        workers = to_int(count.value, "rq worker-pool -n")[0] if count is not None and count.value is not None else \
            default(2, where, "rq worker-pool starts 2 workers by default")
        return Found([Process("rq worker-pool", "rq", workers, default(1, where, "one job at a time per worker"),
                              None, False, None, [w.text for w in words])])
    return Found([one_process("rq worker", "rq", words, where)])


def devserver(server: str, words: list[Word], start: int) -> Found:
    """Django's ``runserver`` and ``flask run``: one process, a thread per request unless turned off."""
    where = words[start].loc(0) if start < len(words) else words[0].loc(0)
    flags = {w.text for w in words[start:]}
    if flags & {"--nothreading", "--without-threads", "--no-threads"}:
        threads: Val[int] = known(1, where)
    else:
        threads = unknown(where, f"{server} starts one thread per request (threaded development server)")
    proc = one_process(f"{server}", server, words, where, threads=threads)
    proc.worker_class = known("threaded" if threads.value is None else "single-threaded", where)
    return Found([proc])


_UWSGI_BOOL = frozenset({
    "master", "enable-threads", "lazy-apps", "lazy", "vacuum", "die-on-term", "strict", "single-interpreter",
    "need-app", "thunder-lock", "auto-procname", "no-orphans", "honour-stdin", "disable-logging", "memory-report",
})
_UWSGI_SHORT = {"p": "processes", "w": "module", "M": "master", "s": "socket", "t": "harakiri", "T": "enable-threads",
                "H": "home", "b": "buffer-size", "L": "disable-logging", "i": "single-interpreter"}
_DAEMONS = ("attach-daemon", "attach-daemon2", "smart-attach-daemon", "smart-attach-daemon2", "attach-control-daemon")


def uwsgi(words: list[Word], ctx: Ctx) -> Found:
    """uWSGI: env ``UWSGI_*`` first, then the command line in order (``--ini``/``FILE.ini``
    read where they appear); the last value of an option wins."""
    conf = UwsgiConf()
    for name, value in sorted(ctx.env.items()):
        if name.startswith("UWSGI_") and name not in ("UWSGI_INI",):
            conf.options.append((name[6:].lower().replace("_", "-"), value, value.loc(0) or Loc("")))
    if "UWSGI_INI" in ctx.env:
        _read_ini(ctx.env["UWSGI_INI"], ctx, conf)
    i = 1
    while i < len(words):
        token = words[i]
        text = token.text
        where = token.loc(0) or Loc("")
        if not text.startswith("-"):
            if text.split(":")[0].endswith(".ini"):
                _read_ini(token, ctx, conf)
            i += 1
            continue
        name, eq, _ = text.lstrip("-").partition("=")
        if not text.startswith("--") and len(name) >= 1:
            name = _UWSGI_SHORT.get(name[0], name)
        following = words[i + 1] if i + 1 < len(words) else None
        if eq:
            value = token[text.index("=") + 1:]
        elif name not in _UWSGI_BOOL and following is not None and not following.text.startswith("-"):
            value, i = following, i + 1
        else:
            value = Word("true")
        if name == "ini":
            _read_ini(value, ctx, conf)
        else:
            conf.options.append((name, value, where))
        i += 1
    return _uwsgi_found(words, ctx, conf)


def _read_ini(path: Word, ctx: Ctx, conf: UwsgiConf) -> None:
    why = read_uwsgi(path.text, ctx, conf)
    if why is not None:
        ctx.notice(f"uwsgi config {path.text!r} not read: {why}", path.loc(0))
        conf.options.append(("processes", Word.unknown(path.text, path.loc(0), f"uwsgi config not read: {why}"),
                             path.loc(0) or Loc("")))


def _uwsgi_found(words: list[Word], ctx: Ctx, conf: UwsgiConf) -> Found:
    program = words[0].loc(0)
    found = conf.last("processes", "workers", "p")
    workers, cpu = to_int(found[1], f"uwsgi {found[0]}") if found else (
        default(1, program, "uwsgi runs 1 process unless processes/workers is set"), None)
    thread_opt = conf.last("threads")
    threads = to_int(thread_opt[1], "uwsgi threads")[0] if thread_opt else default(
        1, program, "uwsgi runs 1 thread per process unless threads is set")
    klass: Val[str] | None = None
    asgi = False
    for loop in ("gevent", "async", "asyncio", "greenlet"):
        option = conf.last(loop)
        if option is not None:
            klass, asgi = known(loop, option[2]), True
            threads = to_int(option[1], f"uwsgi {loop} cores")[0]
            break
    app_opt = conf.last("module", "wsgi", "wsgi-file", "mount")
    chdir = conf.last("chdir")
    cwd = chdir[1].text if chdir is not None else ctx.cwd
    proc = Process("uwsgi", "uwsgi", workers, threads, klass, asgi, app_opt[1].text if app_opt else None,
                   [w.text for w in words], cpu, via_loc(found[2], workers.loc) if found else None)
    result = Found([proc])
    for name, value, where in conf.all(*_DAEMONS):
        command = value
        if name.endswith("2"):
            at = value.text.find("cmd=")
            end = value.text.find(",", at)
            command = value[at + 4:end if end > at else len(value.text)] if at >= 0 else value
        result.children.append(Child(f"uwsgi {name} {command.text}", command, known(1, where), cwd=cwd))
    mules = conf.last("mules")
    if mules is not None:
        count = to_int(mules[1], "uwsgi mules")[0]
        result.processes.append(Process("uwsgi mules", None, count, default(1, mules[2], "one thread"), None, False,
                                        None, []))
    for _name, value, where in conf.all("mule"):
        result.processes.append(Process(f"uwsgi mule {value.text}", None, known(1, where),
                                        default(1, where, "one thread"), None, False, None, []))
    return result


_SUPERVISORD_PATHS = ("supervisord.conf", "etc/supervisord.conf", "/etc/supervisord.conf",
                      "/etc/supervisor/supervisord.conf")


def supervisord(words: list[Word], ctx: Ctx) -> Found:
    """supervisord: every ``[program:x]`` with autostart is a process group of numprocs copies."""
    opts, _ = parse_options(words, 1, "cdlyuqjki", frozenset({"--nodaemon", "--silent", "--help", "--version"}))
    config = last(opts, "-c", "--configuration")
    paths = [config.value.text] if config is not None and config.value is not None else list(_SUPERVISORD_PATHS)
    where = config.value.loc(0) if config is not None and config.value is not None else words[0].loc(0)
    result = Found()
    reasons = []
    for path in paths:
        opened = ctx.open(path, ctx.cwd)
        if opened.origin is None:
            reasons.append(f"{path}: {opened.reason}")
            continue
        ctx.steps.append((f"supervisord config {opened.path}", Loc(opened.origin.path, 1, 1)))
        programs, includes = read_supervisord(opened.origin, opened.path, ctx.env)
        here = posixpath.dirname(opened.path)
        for pattern in includes:
            matches = ctx.glob(pattern, here) if ctx.glob is not None else []
            if not matches:
                ctx.notice(f"supervisord [include] {pattern!r} matches no file copied into the image",
                           Loc(opened.origin.path, 1, 1))
            for match in matches[:32]:
                extra = ctx.open(match, here)
                if extra.origin is not None:
                    programs.extend(read_supervisord(extra.origin, extra.path, ctx.env)[0])
        for program in programs:
            if program.command is None or not program.autostart:
                ctx.steps.append((f"supervisord program {program.name} not started (autostart or command)",
                                  program.loc))
                continue
            cwd = program.directory or ctx.cwd
            if program.directory is None and ctx.cwd is None:
                cwd = posixpath.dirname(opened.path)
            result.children.append(Child(f"supervisord program {program.name}", program.command, program.numprocs,
                                         program.env, cwd))
        return result
    ctx.notice(f"supervisord config not read ({'; '.join(reasons)[:300]}): its programs are unknown", where)
    result.processes.append(Process("supervisord", None, unknown(where, "supervisord config not read"),
                                    unknown(where, "supervisord config not read"), None, False, None,
                                    [w.text for w in words]))
    return result


def honcho(words: list[Word], ctx: Ctx) -> Found:
    """``honcho start`` / ``foreman start`` / ``forego start``: every Procfile line (but release)."""
    opts, operands = parse_options(words, 1, "fdcmpe", frozenset({"--no-colour", "--no-prefix", "--help"}))
    path_opt = last(opts, "-f", "--procfile")
    path = path_opt.value.text if path_opt is not None and path_opt.value is not None else "Procfile"
    wanted = {w.text for w in operands[1:]}
    counts: dict[str, Val[int]] = {}
    concurrency = last(opts, "-c", "-m", "--concurrency", "--formation")
    if concurrency is not None and concurrency.value is not None:
        text = concurrency.value.text
        at = 0
        for item in text.split(","):
            name, _, number = item.partition("=")
            start = text.find(number, at + len(name))
            counts[name.strip()] = to_int(concurrency.value[start:start + len(number)], f"{name} concurrency")[0]
            at += len(item) + 1
    opened = ctx.open(path, ctx.cwd)
    if opened.origin is None:
        where = words[0].loc(0)
        ctx.notice(f"Procfile {path!r} not read: {opened.reason}", where)
        return Found([Process(words[0].text, None, unknown(where, f"Procfile not read: {opened.reason}"),
                              unknown(where, "Procfile not read"), None, False, None, [w.text for w in words])])
    result = Found()
    for name, command, where in read_procfile(opened.origin):
        if (wanted and name not in wanted) or (not wanted and name == "release"):
            continue
        result.children.append(Child(f"Procfile {name}", command, counts.get(name, counts.get("all")), cwd=ctx.cwd))
    return result


def unit(words: list[Word], ctx: Ctx, configs: list[str]) -> Found:
    """NGINX Unit: applications of the JSON configs the image loads at start."""
    result = Found()
    for path in configs:
        opened = ctx.open(path, ctx.cwd)
        if opened.origin is None:
            continue
        apps, error = read_unit(opened.origin)
        if error is not None:
            ctx.notice(f"Unit config {path}: {error}", Loc(opened.origin.path, 1, 1))
        for app in apps:
            result.processes.append(Process(f"unit application {app.name}", "unit", app.processes, app.threads,
                                            known(app.type, app.loc), False, app.module, [w.text for w in words]))
    if not result.processes:
        where = words[0].loc(0)
        ctx.notice("NGINX Unit: no application config found in the image", where)
        result.processes.append(Process("unitd", "unit", unknown(where, "Unit application config not found"),
                                        unknown(where, "Unit application config not found"), None, False, None,
                                        [w.text for w in words]))
    return result
