"""Worker processes per container (SPEC §3 SL002, §8), one function for every rule and ``report``.

First match wins: a worker flag on the manifest's own command line; with a source (a build
context or a ``sources`` mapping), the launch chain behind it (Dockerfile, scripts, server
configs: :mod:`scalelint.sources.chain`); ``GUNICORN_CMD_ARGS``, ``WEB_CONCURRENCY`` and the
configured ``workers-env`` names; else what the command line alone says (a server's default,
one process for a plain program). A container whose command is the image's and whose image
cannot be read has *unknown* workers: an unknown never silently becomes 1.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from scalelint.analyze.env import Env, expand_value
from scalelint.config import Config
from scalelint.findings import Loc
from scalelint.model import Container, State, Val, default, known, unknown
from scalelint.sources import argv as argvmod
from scalelint.sources.chain import Launch, Process
from scalelint.sources.chain_programs import looks_like_script

#: servers that read WEB_CONCURRENCY (gunicorn's own setting; uvicorn reads it too)
_WEB_CONCURRENCY = {"gunicorn", "uvicorn"}
#: servers that count as application workers even without a workers flag
_PY_SERVERS = {"gunicorn", "uvicorn", "hypercorn", "granian", "uwsgi", "celery", "fastapi"}


@dataclass(frozen=True)
class Workers:
    count: Val[int]
    #: how the count was found, for messages: "--workers 4", "WEB_CONCURRENCY=4 (env)"
    source: str
    server: str | None
    #: counts toward the pod's sum: a known server or an explicit worker setting
    app: bool
    #: where the setting was written when the count came from somewhere else (the flag token)
    via: Loc | None = None
    #: the process groups behind the count when the launch chain was followed (uWSGI workers and its
    #: daemons, supervisord programs): each with its own workers and threads
    groups: tuple[Process, ...] = field(default_factory=tuple)

    @property
    def threads(self) -> Val[int] | None:
        """Threads per worker process of the main group, when the chain read them."""
        return self.groups[0].threads if self.groups else None


def _int(text: str) -> int | None:
    text = text.strip().strip("'\"")
    if text.isdigit():
        return int(text)
    return None


def _from_text(text: str, loc: Loc | None, env: Env, kube: bool, label: str) -> tuple[Val[int], Loc | None]:
    """A count written as text (maybe through variables) → Val located where the number was set."""
    source, expanded, reasons = expand_value(text, env, kube)
    where = source.loc if source is not None and source.loc is not None else loc
    via = loc if where is not loc else None
    if reasons:
        return unknown(where, f"{label}: {reasons[0]}"), via
    value = _int(expanded)
    if value is None:
        return unknown(where, f"{label}: {expanded!r} is not a number"), via
    return known(value, where), via


def workers(c: Container, env: Env, config: Config, kube: bool,
            chain: Callable[[], Launch | None] = lambda: None, sourced: bool = False) -> Workers:
    """``chain`` resolves the container's launch chain when asked (it is read only when needed);
    ``sourced``: the image's files are known (a build context or a ``sources`` mapping)."""
    server = argvmod.server_of(c.argv) if c.argv else None
    hit = argvmod.find_workers(c.argv) if c.argv else None
    if hit is not None:
        loc = c.token_loc(hit.index, _needles(c, hit.index, hit.nested, [hit.flag, hit.value]))
        label = f"{hit.server} {hit.flag} {hit.value}"
        count, via = _from_text(hit.value, loc, env, kube, label)
        return Workers(count, label, hit.server, True, via)
    empty = argvmod.empty_worker_flag(c.argv) if c.argv else None
    if empty is not None:
        loc = c.token_loc(empty.index, _needles(c, empty.index, empty.nested, [empty.flag]))
        why = f"{empty.server} {empty.flag} has no value (an unset variable?): the server would not start"
        return Workers(unknown(loc, why), f"{empty.server} {empty.flag}", empty.server, True)
    if sourced:
        launch = chain()
        if launch is not None and launch.processes:
            return _from_launch(launch)
        if launch is not None:  # the image's launch chain starts no long-running process
            said = next((n for n in launch.notices if n.line), None)
            stop = Loc(said.path, said.line, said.column) if said is not None else c.loc
            return Workers(known(0, stop), said.message if said is not None else "no long-running process",
                           None, False)
    unreadable = c.default_command or server is None
    gca = env.get("GUNICORN_CMD_ARGS")
    if gca is not None and (server == "gunicorn" or unreadable):
        if not gca.known:
            return Workers(unknown(gca.loc, f"GUNICORN_CMD_ARGS: {gca.reason}"), "GUNICORN_CMD_ARGS", "gunicorn", True)
        value = argvmod.gunicorn_cmd_args_workers(str(gca.value))
        if value is not None:
            flag = "--workers" if "--workers" in str(gca.value) else "-w"
            where = gca.spot.find(str(gca.value), [flag, value]) if gca.spot else gca.loc
            count, via = _from_text(value, where, env, kube, "GUNICORN_CMD_ARGS")
            return Workers(count, f"GUNICORN_CMD_ARGS {gca.value!s}", "gunicorn", True, via)
    conf = _gunicorn_config(c.argv) if server == "gunicorn" else None
    if conf is not None:
        # `gunicorn -c conf.py`: the file's workers override WEB_CONCURRENCY; read it when it can be
        launch = chain()
        if launch is not None and launch.processes and not _plain(launch):
            return _from_launch(launch)
        why = f"gunicorn -c {conf}: its workers setting is in that file, which is not in the files linted"
        return Workers(unknown(c.loc, why), f"gunicorn -c {conf}", server, True)
    web = env.get("WEB_CONCURRENCY")
    if web is not None and (server in _WEB_CONCURRENCY or unreadable):
        count = _env_count(web, "WEB_CONCURRENCY")
        if count.known and count.value == 0:
            # Puma's single mode, uvicorn below 2 workers: one process serves, none is forked
            count = known(1, count.loc)
            return Workers(count, "WEB_CONCURRENCY=0 → 1 process (no worker is forked)", server, True)
        return Workers(count, f"WEB_CONCURRENCY={web.value}", server, True)
    referenced = argvmod.env_references(c.argv) if c.argv else set()
    for name in config.workers_env:
        var = env.get(name)
        if var is not None and (name in referenced or unreadable):
            return Workers(_env_count(var, name), f"{name}={var.value}", server, True)
    if c.default_command and not sourced:
        why = ("the image's own command runs and the image is not in the files linted (add a build: context, "
               "a `sources:` mapping or the annotation scalelint.io/source)")
        return Workers(unknown(c.loc, why), "the image's command", None, False)
    first = argvmod.expand_shell(c.argv)[0][0][0] if c.argv and argvmod.expand_shell(c.argv) else ""
    if server in _CHAIN_SERVERS or (server is None and looks_like_script(first)):
        launch = chain()  # a config file, the CPU count or a script in the image decides: say so
        if launch is not None and launch.processes and not _plain(launch):
            return _from_launch(launch)
    reason = f"{server} without a workers setting runs 1 worker" if server else "no worker setting: 1 process"
    return Workers(default(1, c.loc, reason), "1 (default)", server, server in _PY_SERVERS)


#: servers whose worker count may live in a config file or depend on the CPU count: the chain says which
_CHAIN_SERVERS = {"uwsgi", "celery"}


def _gunicorn_config(argv: list[str]) -> str | None:
    """The file of gunicorn's ``-c FILE`` / ``--config FILE`` / ``--config=FILE``, if any."""
    for tokens, _origin, _nested in argvmod.expand_shell(argv):
        for i, token in enumerate(tokens):
            if token.startswith("--config="):
                return token.split("=", 1)[1]
            if token in ("-c", "--config") and i + 1 < len(tokens):
                return tokens[i + 1]
    return None


def _plain(launch: Launch) -> bool:
    """One process of a program that is no server, with nothing unknown: what the command line alone said."""
    return (len(launch.processes) == 1 and launch.processes[0].server is None
            and launch.processes[0].workers.known and not launch.steps)


def _from_launch(launch: Launch) -> Workers:
    """Workers from the process groups the launch chain found: their sum, unknown when any is."""
    groups = tuple(launch.processes)
    main = max(groups, key=lambda p: (p.workers.known, p.workers.value or 0))
    server = next((p.server for p in groups if p.server), None)
    app = any(p.server in _PY_SERVERS or p.server is not None for p in groups)
    unknown_group = next((p for p in groups if not p.workers.known), None)
    where = _where(main.workers.loc)
    if len(groups) == 1:
        label = f"{main.label} → {main.workers.value}{where}" if main.workers.known else main.label
    else:
        label = " + ".join(f"{p.label} {p.workers.value if p.workers.known else '?'}" for p in groups)
    if unknown_group is not None:
        w = unknown_group.workers
        return Workers(Val(None, w.loc, w.state, f"{unknown_group.label}: {w.reason}"), label, server, app,
                       unknown_group.workers_via, groups)
    total = sum(int(p.workers.value or 0) for p in groups)
    state = State.DEFAULT if all(p.workers.state is State.DEFAULT for p in groups) else State.KNOWN
    count: Val[int] = Val(total, main.workers.loc, state, main.workers.reason if state is State.DEFAULT else "")
    return Workers(count, label, server, app, main.workers_via, groups)


def _where(loc: Loc | None) -> str:
    return f" ({loc})" if loc is not None and loc.line else ""


def _needles(c: Container, index: int, nested: bool, needles: list[str]) -> list[str] | None:
    """What to look for to point inside a token: only when the token is part of a longer string
    (a ``sh -c`` script, a compose command string); a token that is its own YAML scalar
    (``- --workers=4``) is located at its start, and so is ``--workers=4`` inside a string."""
    spot = c.argv_spots[index] if index < len(c.argv_spots) else None
    if not (nested or (spot is not None and spot.part)):
        return None
    written = spot.source if spot is not None and spot.source is not None else c.argv[index]
    flag = needles[0]
    at = written.find(flag)
    if len(needles) > 1 and at >= 0 and written[at + len(flag):at + len(flag) + 1] not in (" ", "\t", "\n", ""):
        return [flag]  # `--workers=16` / `-w4`: the argument is one word
    return needles


def _env_count(var: Val[str], name: str) -> Val[int]:
    if not var.known:
        return unknown(var.loc, f"{name}: {var.reason}")
    value = _int(str(var.value))
    if value is None:
        return unknown(var.loc, f"{name}={var.value!r} is not a number")
    return known(value, var.loc)


__all__ = ["State", "Workers", "workers"]
