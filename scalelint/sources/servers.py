"""Server command lines: how many processes and threads a gunicorn/uvicorn/... invocation runs.

Each reader takes the server's argv (located words, wrappers already removed) and a
:class:`~scalelint.sources.servers_config.Ctx`, and applies the server's own precedence:
gunicorn reads its defaults, ``WEB_CONCURRENCY``, the config file, ``GUNICORN_CMD_ARGS``
and the command line, later ones winning; uvicorn and granian read their env fallbacks.
A documented default is a ``default`` value, a CPU-count default is ``unknown`` with its
formula (never 1).  uWSGI, celery, supervisord and friends live in
:mod:`scalelint.sources.servers_more`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from scalelint.findings import Loc
from scalelint.model import Val, default, known, unknown

from .located import Word
from .servers_config import Ctx, to_int

__all__ = [
    "Child", "Found", "Opt", "Process", "daphne", "fastapi", "granian", "gunicorn", "hypercorn", "last",
    "parse_options", "uvicorn", "via_loc",
]


@dataclass
class Process:
    """One long-running process group of a container (see :mod:`scalelint.sources.chain`)."""

    label: str
    server: str | None
    workers: Val[int]
    threads: Val[int]
    worker_class: Val[str] | None
    asgi: bool
    app: str | None
    argv: list[str]
    cpu_formula: tuple[float, float] | None = None
    #: where the worker setting is used when its value was written elsewhere (``--workers $W``)
    workers_via: Loc | None = None


@dataclass
class Child:
    """A command a process manager starts, to be followed like any command line."""

    label: str
    command: Word
    count: Val[int] | None = None
    env: dict[str, Word] = field(default_factory=dict)
    cwd: str | None = None


@dataclass
class Found:
    processes: list[Process] = field(default_factory=list)
    children: list[Child] = field(default_factory=list)


@dataclass(frozen=True)
class Opt:
    flag: str
    value: Word | None
    #: the token that holds the flag
    token: Word


def parse_options(
    words: list[Word], start: int, short_valued: str, booleans: frozenset[str] = frozenset(),
    long_valued: frozenset[str] | None = None,
) -> tuple[list[Opt], list[Word]]:
    """Options and operands, getopt-style.  A long option not in ``booleans`` takes a value
    (when ``long_valued`` is None), so an operand is never mistaken for an option's value."""
    opts: list[Opt] = []
    operands: list[Word] = []
    i = start
    while i < len(words):
        token = words[i]
        text = token.text
        if text == "--":
            operands.extend(words[i + 1:])
            break
        if text.startswith("--"):
            name, eq, _ = text.partition("=")
            takes = name not in booleans if long_valued is None else name in long_valued
            if eq:
                opts.append(Opt(name, token[len(name) + 1:], token))
            elif takes and i + 1 < len(words) and not words[i + 1].text.startswith("-"):
                opts.append(Opt(name, words[i + 1], token))
                i += 1
            else:
                opts.append(Opt(name, None, token))
        elif text.startswith("-") and len(text) > 1 and not text[1:].isdigit():
            flag = text[:2]
            if flag[1] in short_valued:
                if len(text) > 2:
                    skip = 3 if text[2] == "=" else 2
                    opts.append(Opt(flag, token[skip:], token))
                elif i + 1 < len(words):
                    opts.append(Opt(flag, words[i + 1], token))
                    i += 1
                else:
                    opts.append(Opt(flag, None, token))
            else:
                opts.extend(Opt("-" + letter, None, token) for letter in text[1:] if letter.isalnum())
        else:
            operands.append(token)
        i += 1
    return opts, operands


def last(opts: list[Opt], *flags: str) -> Opt | None:
    for opt in reversed(opts):
        if opt.flag in flags:
            return opt
    return None


def _via(opt: Opt, val: Val[int]) -> Loc | None:
    """The flag's position when the value it carries was written somewhere else."""
    return via_loc(opt.token.loc(0), val.loc)


def via_loc(where: Loc | None, value_loc: Loc | None) -> Loc | None:
    """``where`` (a flag) when the value it uses was written on another line or in another file."""
    if where is None or value_loc is None:
        return None
    return where if (value_loc.path, value_loc.line) != (where.path, where.line) else None


def _count(opt: Opt | None, label: str) -> tuple[Val[int] | None, tuple[float, float] | None, Loc | None]:
    if opt is None or opt.value is None:
        return None, None, None
    val, cpu = to_int(opt.value, label)
    return val, cpu, _via(opt, val)


def _app(operands: list[Word]) -> str | None:
    for word in reversed(operands):
        if re.fullmatch(r"[A-Za-z_][\w.]*(:[^\s]+)?", word.text):
            return word.text
    return None


_GUNICORN_BOOL = frozenset({
    "--preload", "--reload", "--daemon", "--capture-output", "--enable-stdio-inheritance", "--no-sendfile",
    "--reuse-port", "--check-config", "--print-config", "--strip-header-spaces", "--suppress-ragged-eofs",
    "--do-handshake-on-connect", "--log-syslog", "--disable-redirect-access-to-syslog", "--proxy-protocol",
    "--spew", "--initgroups", "--version", "--help", "--sendfile",
})
_GUNICORN_KEYS = frozenset({"workers", "threads", "worker_class", "worker_connections", "wsgi_app"})
_GUNICORN_FLAGS = {"workers": ("-w", "--workers"), "threads": ("--threads",),
                   "worker_class": ("-k", "--worker-class"), "worker_connections": ("--worker-connections",)}
_EVENT_LOOP = ("gevent", "eventlet", "tornado", "uvicorn", "asgi", "aiohttp")


def gunicorn(words: list[Word], ctx: Ctx) -> Found:
    """gunicorn: default < WEB_CONCURRENCY < config file < GUNICORN_CMD_ARGS < command line."""
    opts, operands = parse_options(words, 1, "cbwktegumnp", _GUNICORN_BOOL)
    program = words[0].loc(0)
    layers: list[dict[str, tuple[Val[str], tuple[float, float] | None, Loc | None]]] = []
    web = ctx.env.get("WEB_CONCURRENCY")
    if web is not None:
        layers.append({"workers": (web.value(), _cpu(web), None)})
    layers.append(_gunicorn_config(opts, ctx, program))
    cmd_args = ctx.env.get("GUNICORN_CMD_ARGS")
    if cmd_args is not None and cmd_args.unknown_span() is None:
        env_opts, _ = parse_options(cmd_args.split(), 0, "cbwktegumnp", _GUNICORN_BOOL)
        layers.append(_gunicorn_flags(env_opts))
    layers.append(_gunicorn_flags(opts))
    merged: dict[str, tuple[Val[str], tuple[float, float] | None, Loc | None]] = {}
    for layer in layers:
        merged.update(layer)
    workers, cpu, via = _setting_int(merged.get("workers"), "workers")
    if workers is None:
        workers = default(1, program, "gunicorn runs 1 worker unless --workers, WEB_CONCURRENCY or a config sets it")
    threads, _, _ = _setting_int(merged.get("threads"), "threads")
    if threads is None:
        threads = default(1, program, "gunicorn runs 1 thread per worker by default")
    klass = merged["worker_class"][0] if "worker_class" in merged else default("sync", program, "gunicorn default")
    if klass.value == "sync" and threads.value is not None and threads.value > 1:
        klass = known("gthread", threads.loc)  # gunicorn switches sync to gthread when threads > 1
    name = str(klass.value or "").lower()
    if klass.value is not None and any(k in name for k in ("gevent", "eventlet")):
        conns, _, _ = _setting_int(merged.get("worker_connections"), "worker_connections")
        threads = conns or default(1000, program, "gunicorn worker_connections default: 1000 greenlets per worker")
    app = str(merged["wsgi_app"][0].value) if "wsgi_app" in merged and merged["wsgi_app"][0].known else None
    return Found([Process(
        "gunicorn", "gunicorn", workers, threads, klass, any(k in name for k in _EVENT_LOOP), _app(operands) or app,
        [w.text for w in words], cpu, via,
    )])


def _cpu(word: Word) -> tuple[float, float] | None:
    span = word.unknown_span()
    return span.cpu if span is not None else None


def _setting_int(
    entry: tuple[Val[str], tuple[float, float] | None, Loc | None] | None, label: str
) -> tuple[Val[int] | None, tuple[float, float] | None, Loc | None]:
    if entry is None:
        return None, None, None
    val, cpu, via = entry
    if val.value is None:
        return unknown(val.loc, val.reason if label in val.reason else f"{label}: {val.reason}"), cpu, via
    text = str(val.value).strip()
    if not text.isdigit():
        return unknown(val.loc, f"{label}: {text!r} is not a number"), None, via
    return Val(int(text), val.loc, val.state, val.reason), None, via


def _gunicorn_flags(opts: list[Opt]) -> dict[str, tuple[Val[str], tuple[float, float] | None, Loc | None]]:
    out: dict[str, tuple[Val[str], tuple[float, float] | None, Loc | None]] = {}
    for key, flags in _GUNICORN_FLAGS.items():
        opt = last(opts, *flags)
        if opt is not None and opt.value is not None:
            val = opt.value.value()
            out[key] = (val, _cpu(opt.value), via_loc(opt.token.loc(0), val.loc))
    return out


def _gunicorn_config(
    opts: list[Opt], ctx: Ctx, program: Loc | None
) -> dict[str, tuple[Val[str], tuple[float, float] | None, Loc | None]]:
    """Settings of the gunicorn config file: ``-c FILE``, ``python:module``, else ./gunicorn.conf.py."""
    opt = last(opts, "-c", "--config")
    chdir = last(opts, "--chdir")
    cwd = chdir.value.text if chdir is not None and chdir.value is not None else ctx.cwd
    if opt is not None and opt.value is not None:
        name = opt.value.text
        path = name[len("python:"):].replace(".", "/") + ".py" if name.startswith("python:") else name
        explicit = True
    else:
        path, explicit = "gunicorn.conf.py", False
    opened = ctx.open(path, cwd)
    if opened.origin is None:
        if not explicit:
            return {}
        where = opt.value.loc(0) if opt is not None and opt.value is not None else program
        ctx.notice(f"gunicorn config {path!r} not read: {opened.reason}", where)
        why = f"gunicorn config {path!r} not read ({opened.reason}): it may set them"
        return {k: (unknown(where, why), None, None) for k in ("workers", "threads")}
    ctx.steps.append((f"gunicorn config {opened.path}", Loc(opened.origin.path, 1, 1)))
    from .servers_python import read_python_settings  # a gunicorn.conf.py: imported when one is read

    conf = read_python_settings(opened.origin, ctx.env, _GUNICORN_KEYS)
    if conf.error is not None:
        ctx.notice(f"gunicorn config {opened.path}: {conf.error}", Loc(opened.origin.path, 1, 1))
    return {key: (val, conf.cpu.get(key), None) for key, val in conf.values.items()}


def uvicorn(words: list[Word], ctx: Ctx) -> Found:
    """uvicorn: ``--workers`` (fallback ``WEB_CONCURRENCY``); ``--reload`` runs one process."""
    opts, operands = parse_options(words, 1, "", frozenset({
        "--reload", "--factory", "--use-colors", "--no-use-colors", "--proxy-headers", "--no-proxy-headers",
        "--server-header", "--no-server-header", "--date-header", "--no-date-header", "--access-log",
        "--no-access-log", "--version", "--help", "--reset-contextvars",
    }))
    return Found([_single_server("uvicorn", words, ctx, opts, operands, ("--workers",), "WEB_CONCURRENCY", True)])


def _single_server(
    server: str, words: list[Word], ctx: Ctx, opts: list[Opt], operands: list[Word], flags: tuple[str, ...],
    env_name: str | None, asgi: bool, klass: Val[str] | None = None, threads: Val[int] | None = None,
) -> Process:
    program = words[0].loc(0)
    workers, cpu, via = _count(last(opts, *flags), f"{server} workers")
    if workers is None and env_name is not None and env_name in ctx.env:
        workers, cpu = to_int(ctx.env[env_name], env_name)
    if last(opts, "--reload") is not None:
        where = last(opts, "--reload")
        workers = known(1, where.token.loc(0) if where is not None else program)
        cpu = None
    if workers is None:
        workers = default(1, program, f"{server} runs 1 worker process by default")
    threads = threads or default(1, program, f"{server} serves from one event loop per process" if asgi
                                 else f"{server} runs 1 thread per process by default")
    return Process(server, server, workers, threads, klass, asgi, _app(operands), [w.text for w in words], cpu, via)


def hypercorn(words: list[Word], ctx: Ctx) -> Found:
    opts, operands = parse_options(words, 1, "bcwkm", frozenset({"--reload", "--debug", "--help"}))
    proc = _single_server("hypercorn", words, ctx, opts, operands, ("-w", "--workers"), None, True)
    klass = last(opts, "-k", "--worker-class")
    if klass is not None and klass.value is not None:
        proc.worker_class = klass.value.value()
    config = last(opts, "-c", "--config")
    if config is not None and config.value is not None and last(opts, "-w", "--workers") is None:
        proc.workers, proc.cpu_formula = _toml_workers(config.value, ctx, proc.workers)
    return Found([proc])


def _toml_workers(path: Word, ctx: Ctx, fallback: Val[int]) -> tuple[Val[int], tuple[float, float] | None]:
    opened = ctx.open(path.text, ctx.cwd) if not path.text.startswith("python:") else None
    if opened is None or opened.origin is None:
        why = opened.reason if opened is not None else "python: configs are not read"
        return unknown(path.loc(0), f"hypercorn config {path.text!r} not read ({why}): it may set workers"), None
    match = re.search(r"(?m)^[ \t]*workers[ \t]*=[ \t]*(\S+)", opened.origin.text)
    if match is None:
        return fallback, None
    return to_int(opened.origin.word(match.start(1), match.end(1)), "hypercorn workers")


def granian(words: list[Word], ctx: Ctx) -> Found:
    opts, operands = parse_options(words, 1, "", frozenset({"--reload", "--no-reload", "--help", "--version"}))
    interface = last(opts, "--interface")
    kind = interface.value.text if interface is not None and interface.value is not None else (
        ctx.env["GRANIAN_INTERFACE"].text if "GRANIAN_INTERFACE" in ctx.env else "rsgi")
    threads = None
    blocking = last(opts, "--blocking-threads")
    if kind == "wsgi" and blocking is not None and blocking.value is not None:
        threads = to_int(blocking.value, "granian blocking threads")[0]
    proc = _single_server("granian", words, ctx, opts, operands, ("--workers",), "GRANIAN_WORKERS", kind != "wsgi",
                          threads=threads)
    proc.worker_class = known(kind, interface.token.loc(0)) if interface is not None else default(
        kind, words[0].loc(0), "granian's default interface")
    return Found([proc])


def fastapi(words: list[Word], ctx: Ctx) -> Found:
    """``fastapi run`` (uvicorn, ``--workers`` default 1) / ``fastapi dev`` (reload: 1 process)."""
    opts, operands = parse_options(words, 1, "", frozenset({"--reload", "--no-reload", "--proxy-headers",
                                                            "--no-proxy-headers", "--help"}))
    sub = operands[0].text if operands else ""
    if sub == "dev" and last(opts, "--reload") is None:
        opts.append(Opt("--reload", None, operands[0]))
    proc = _single_server("fastapi", words, ctx, opts, operands[1:], ("--workers",), None, True)
    proc.label = f"fastapi {sub}".strip()
    proc.worker_class = known("uvicorn", words[0].loc(0))
    entry = last(opts, "--entrypoint", "--app")
    proc.app = entry.value.text if entry is not None and entry.value is not None else _fastapi_entrypoint(ctx)
    if proc.app is None and len(operands) > 1:
        proc.app = operands[1].text
    return Found([proc])


def _fastapi_entrypoint(ctx: Ctx) -> str | None:
    """``[tool.fastapi] entrypoint`` of the pyproject.toml in the working directory."""
    opened = ctx.open("pyproject.toml", ctx.cwd)
    if opened.origin is None:
        return None
    section = re.search(r"(?ms)^\[tool\.fastapi\][ \t]*\n(.*?)(?=^\[|\Z)", opened.origin.text)
    if section is None:
        return None
    match = re.search(r"(?m)^[ \t]*entrypoint[ \t]*=[ \t]*[\"']([^\"']+)[\"']", section.group(1))
    return match.group(1) if match else None


def daphne(words: list[Word], ctx: Ctx) -> Found:
    opts, operands = parse_options(words, 1, "bpuev", frozenset({"--help", "--verbosity", "--proxy-headers"}))
    return Found([_single_server("daphne", words, ctx, opts, operands, (), None, True)])
