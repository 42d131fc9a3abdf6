"""Worker processes per container (SPEC §3 SL002), one function for every rule and ``report``.

First match wins: the server's command line, ``GUNICORN_CMD_ARGS``,
``WEB_CONCURRENCY``, the configured ``workers-env`` names, else 1.
"""
from __future__ import annotations

from dataclasses import dataclass

from scalelint.analyze.env import Env, expand_value
from scalelint.config import Config
from scalelint.findings import Loc
from scalelint.model import Container, State, Val, default, known, unknown
from scalelint.sources import argv as argvmod

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


def workers(c: Container, env: Env, config: Config, kube: bool) -> Workers:
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
    web = env.get("WEB_CONCURRENCY")
    if web is not None and (server in _WEB_CONCURRENCY or unreadable):
        return Workers(_env_count(web, "WEB_CONCURRENCY"), f"WEB_CONCURRENCY={web.value}", server, True)
    referenced = argvmod.env_references(c.argv) if c.argv else set()
    for name in config.workers_env:
        var = env.get(name)
        if var is not None and (name in referenced or unreadable):
            return Workers(_env_count(var, name), f"{name}={var.value}", server, True)
    reason = f"{server} without a workers setting runs 1 worker" if server else "no worker setting: 1 process"
    return Workers(default(1, c.loc, reason), "1 (default)", server, server in _PY_SERVERS)


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
