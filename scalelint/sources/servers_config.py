"""Read the process managers' config files: uWSGI ini, supervisord, Procfile, NGINX Unit JSON.

These files, not the manifest, often say how many processes a container runs: ``processes =
4`` in ``uwsgi.ini``, ``numprocs=%(ENV_WORKERS_COUNT)s`` in ``supervisord.conf``, one line per
process type in a Procfile.  Each reader returns what is written, located, with the
file's own substitutions applied from the container environment (uWSGI ``$(VAR)``,
``if-env`` blocks; supervisord ``%(ENV_X)s``).  Commands they start (attach-daemons,
programs, Procfile lines) are returned as text for the caller to follow like any other
command line.  Files are opened through the caller's :class:`Ctx`, which keeps every read
inside the build context.
"""
from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from scalelint.findings import Loc, Notice
from scalelint.model import Val, default, known, unknown

from .located import FileOrigin, Word, WordBuilder

__all__ = [
    "Ctx", "Opened", "Program", "UnitApp", "UwsgiConf", "read_procfile", "read_supervisord", "read_unit", "read_uwsgi",
    "to_int",
]


@dataclass(frozen=True)
class Opened:
    """A file the chain asked for: its text, or why it could not be read."""

    origin: FileOrigin | None
    path: str
    reason: str = ""


@dataclass
class Ctx:
    """What a reader may use: the container env, the working directory, files, and a log."""

    env: dict[str, Word]
    cwd: str | None
    open: Callable[[str, str | None], Opened]
    #: container paths matching a glob (``/etc/supervisor/conf.d/*.conf``) among the copied files
    glob: Callable[[str, str | None], list[str]] | None = None
    notices: list[Notice] = field(default_factory=list)
    steps: list[tuple[str, Loc]] = field(default_factory=list)

    def notice(self, message: str, where: Loc | None) -> None:
        if where is None:
            self.notices.append(Notice(message))
        else:
            self.notices.append(Notice(message, where.path, where.line, where.column))


def to_int(word: Word, label: str) -> tuple[Val[int], tuple[float, float] | None]:
    """A written number as a value; unknown (with its CPU formula, if any) when it is not one."""
    val = word.value()
    if val.value is None:
        span = word.unknown_span()
        return unknown(val.loc, f"{label}: {val.reason}"), span.cpu if span is not None else None
    text = str(val.value).strip().strip("'\"")
    if not re.fullmatch(r"[0-9]+", text):
        return unknown(val.loc, f"{label}: {text!r} is not a number"), None
    return Val(int(text), val.loc, val.state, val.reason), None


# --- ini-style lines -----------------------------------------------------------------------------

@dataclass(frozen=True)
class _Line:
    section: str | None
    key: str
    value: Word
    loc: Loc


def _ini(origin: FileOrigin, *, inline_comments: bool, continuation: bool) -> list[_Line]:
    """Lines of an ini file as (section, key, value); a section header is a line with key ''."""
    out: list[_Line] = []
    text = origin.text
    section: str | None = None
    offset = 0
    for raw in text.splitlines(keepends=True):
        start, offset = offset, offset + len(raw)
        line = raw.rstrip("\r\n")
        stripped = line.strip()
        if not stripped or stripped[0] in ";#":
            continue
        indent = len(line) - len(line.lstrip())
        if continuation and indent and out and out[-1].key:
            last = out[-1]
            joined = WordBuilder()
            joined.add(last.value)
            joined.add_text("\n")
            joined.add(origin.word(start + indent, start + len(line)).strip())
            out[-1] = _Line(last.section, last.key, joined.build(), last.loc)
            continue
        if stripped.startswith("[") and "]" in stripped:
            section = stripped[1:stripped.index("]")].strip()
            out.append(_Line(section, "", Word(""), origin.loc(start + indent)))
            continue
        match = re.match(r"\s*([^=:\s][^=:]*?)\s*(?:[=:]\s*(.*?))?\s*$", line)
        if not match:
            continue
        value_at = match.start(2) if match.group(2) is not None else len(line)
        value_end = match.end(2) if match.group(2) is not None else len(line)
        value = origin.word(start + value_at, start + value_end)
        if inline_comments:
            cut = re.search(r"\s[;#]", value.text)
            value = value[:cut.start()].strip() if cut else value
        out.append(_Line(section, match.group(1).strip().lower(), value, origin.loc(start + match.start(1))))
    return out


def _section_header(lines: list[_Line], name: str) -> Loc | None:
    return next((line.loc for line in lines if not line.key and line.section == name), None)


# --- uWSGI ---------------------------------------------------------------------------------------

@dataclass
class UwsgiConf:
    """Options in the order uWSGI applies them: (name with ``-``, value, where the key is)."""

    options: list[tuple[str, Word, Loc]] = field(default_factory=list)

    def last(self, *names: str) -> tuple[str, Word, Loc] | None:
        for option in reversed(self.options):
            if option[0] in names:
                return option
        return None

    def all(self, *names: str) -> list[tuple[str, Word, Loc]]:
        return [o for o in self.options if o[0] in names]


_PLACEHOLDER = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)|%\(([A-Za-z0-9_.-]+)\)|%([a-zA-Z%])")


def read_uwsgi(path: str, ctx: Ctx, conf: UwsgiConf, section: str = "uwsgi", _depth: int = 0) -> str | None:
    """Append the options of ``[section]`` of the ini at ``path`` to ``conf``; None, or why not."""
    if ":" in path and not path.endswith(".ini"):
        path, section = path.rsplit(":", 1)
    opened = ctx.open(path, ctx.cwd)
    if opened.origin is None:
        return opened.reason
    if _depth > 8:
        return "ini files include each other too deeply"
    lines = _ini(opened.origin, inline_comments=False, continuation=False)
    if _section_header(lines, section) is None:
        return f"no [{section}] section in {opened.origin.path}"
    ctx.steps.append((f"uwsgi ini [{section}]", _section_header(lines, section) or Loc(opened.origin.path)))
    magic = {"d": posixpath.dirname(opened.path) + "/", "p": opened.path, "s": posixpath.basename(opened.path),
             "n": posixpath.splitext(posixpath.basename(opened.path))[0], "%": "%"}
    blocks: list[bool] = []
    underscore: Word = Word("")
    for line in lines:
        if line.section != section or not line.key:
            continue
        key = line.key.replace("_", "-")
        if key == "endif" or key == "endfor":
            if blocks:
                blocks.pop()
            continue
        if key.startswith("if-") or key == "for":
            if not all(blocks):
                blocks.append(False)
                continue
            active, value = _condition(key, line, ctx, conf)
            blocks.append(active)
            if value is not None:
                underscore = value
            continue
        if not all(blocks):
            continue
        value = _expand_uwsgi(line.value, ctx.env, conf, magic, underscore)
        if key in ("ini", "inherit"):
            why = read_uwsgi(value.text, ctx, conf, section, _depth + 1)
            if why is not None:
                ctx.notice(f"uwsgi {key} {value.text!r} not read: {why}", line.loc)
            continue
        conf.options.append((key, value, line.loc))
    return None


def _condition(key: str, line: _Line, ctx: Ctx, conf: UwsgiConf) -> tuple[bool, Word | None]:
    """Whether an ``if-*`` block applies, and what ``%(_)`` is inside it."""
    name, _, wanted = line.value.text.partition("=")
    name = name.strip()
    if key in ("if-env", "if-not-env"):
        value = ctx.env.get(name)
        present = value is not None and (not wanted or value.text == wanted)
        return present == (key == "if-env"), value
    if key in ("if-opt", "if-not-opt"):
        found = conf.last(name.replace("_", "-"))
        present = found is not None and (not wanted or found[1].text == wanted)
        return present == (key == "if-opt"), found[1] if found else None
    if key == "for":
        ctx.notice("uwsgi for-loop blocks are not expanded", line.loc)
        return False, None
    ctx.notice(f"uwsgi {key} = {line.value.text} cannot be decided statically: its block is read", line.loc)
    return True, line.value


def _expand_uwsgi(value: Word, env: dict[str, Word], conf: UwsgiConf, magic: dict[str, str], underscore: Word) -> Word:
    builder = WordBuilder()
    text = value.text
    at = 0
    for match in _PLACEHOLDER.finditer(text):
        builder.add(value[at:match.start()])
        at = match.end()
        var, option, letter = match.groups()
        where = value.loc(match.start())
        if var is not None:
            builder.add(env.get(var, Word("")))
        elif option == "_":
            builder.add(underscore)
        elif option is not None:
            found = conf.last(option.replace("_", "-"))
            builder.add(found[1] if found is not None else Word(""))
        elif letter == "k":
            builder.add(Word.unknown(match.group(0), where, "depends on the CPU count", (1.0, 0.0)))
        elif letter in magic:
            builder.add(Word.plain(magic[letter], where))
        else:
            builder.add(Word.unknown(match.group(0), where, f"uwsgi magic variable {match.group(0)} is not known"))
    builder.add(value[at:])
    return builder.build()


# --- supervisord ---------------------------------------------------------------------------------

@dataclass
class Program:
    """A ``[program:x]``: each is a process group of ``numprocs`` copies of ``command``."""

    name: str
    command: Word | None
    numprocs: Val[int]
    directory: str | None
    env: dict[str, Word]
    autostart: bool
    loc: Loc


_SUPERVISOR_VAR = re.compile(r"%\(([A-Za-z0-9_]+)\)(?:[-#0 +]*\d*)[sd]")


def read_supervisord(origin: FileOrigin, container_path: str, env: dict[str, Word]) -> tuple[list[Program], list[str]]:
    """The programs of a supervisord config, and the ``[include] files`` it names."""
    lines = _ini(origin, inline_comments=True, continuation=True)
    here = posixpath.dirname(container_path)
    programs: list[Program] = []
    includes: list[str] = []
    sections: dict[str, dict[str, _Line]] = {}
    for line in lines:
        if line.section is None:
            continue
        sections.setdefault(line.section, {})
        if line.key:
            sections[line.section][line.key] = line
    for section, options in sections.items():
        if section == "include" and "files" in options:
            includes.extend(options["files"].value.text.split())
        kind, _, name = section.partition(":")
        if kind not in ("program", "fcgi-program") or not name:
            continue
        names = {"program_name": name, "group_name": name, "process_num": "0", "numprocs": "1", "here": here}
        values = {key: _expand_supervisor(line.value, env, names) for key, line in options.items()}
        loc = _section_header(lines, section) or Loc(origin.path)
        count_word = values.get("numprocs")
        numprocs = to_int(count_word, f"numprocs of program {name}")[0] if count_word is not None else default(
            1, loc, "supervisord starts 1 process per program unless numprocs is set")
        directory = values.get("directory")
        autostart = values.get("autostart")
        programs.append(Program(
            name, values.get("command"), numprocs, directory.text if directory is not None else None,
            _supervisor_env(values.get("environment")),
            autostart is None or autostart.text.lower() not in ("false", "0", "no", "off"), loc,
        ))
    return programs, includes


def _expand_supervisor(value: Word, env: dict[str, Word], names: dict[str, str]) -> Word:
    builder = WordBuilder()
    at = 0
    for match in _SUPERVISOR_VAR.finditer(value.text):
        builder.add(value[at:match.start()])
        at = match.end()
        name = match.group(1)
        where = value.loc(match.start())
        if name.startswith("ENV_"):
            found = env.get(name[4:])
            builder.add(found if found is not None else Word.unknown(
                match.group(0), where, f"{name[4:]} is not in the environment: supervisord refuses this config"))
        elif name in names:
            builder.add(Word.plain(names[name], where))
        else:
            builder.add(Word.unknown(match.group(0), where, f"supervisord expansion {match.group(0)} is not known"))
    builder.add(value[at:])
    return builder.build()


def _supervisor_env(value: Word | None) -> dict[str, Word]:
    """``environment=A="1",B=2`` (quotes optional, commas between)."""
    out: dict[str, Word] = {}
    if value is None:
        return out
    for match in re.finditer(r"\s*([A-Za-z_][A-Za-z0-9_]*)=(\"[^\"]*\"|'[^']*'|[^,]*)\s*,?", value.text):
        start, end = match.span(2)
        if match.group(2)[:1] in "\"'":
            start, end = start + 1, end - 1
        out[match.group(1)] = value[start:end]
    return out


# --- Procfile and NGINX Unit ---------------------------------------------------------------------

def read_procfile(origin: FileOrigin) -> list[tuple[str, Word, Loc]]:
    """``name: command`` lines: (process type, command, where the type is written)."""
    out = []
    offset = 0
    for raw in origin.text.splitlines(keepends=True):
        start, offset = offset, offset + len(raw)
        match = re.match(r"([A-Za-z0-9_-]+)[ \t]*:[ \t]*(.*?)\s*$", raw.rstrip("\r\n"))
        if match and match.group(2):
            out.append((match.group(1), origin.word(start + match.start(2), start + match.end(2)),
                        origin.loc(start)))
    return out


@dataclass
class UnitApp:
    name: str
    type: str
    processes: Val[int]
    threads: Val[int]
    module: str | None
    loc: Loc


def read_unit(origin: FileOrigin) -> tuple[list[UnitApp], str | None]:
    """Applications of an NGINX Unit config (``processes`` int or ``{"max": N}``, ``threads``)."""
    import json  # NGINX Unit's config: the one JSON file a launch chain reads

    try:
        data = json.loads(origin.text)
    except (ValueError, RecursionError) as error:
        return [], f"not valid JSON: {error}"
    apps = data.get("applications") if isinstance(data, dict) else None
    if not isinstance(apps, dict):
        return [], "no applications object"
    out = []
    for name, app in apps.items():
        if not isinstance(app, dict):
            continue
        at = origin.text.find(json.dumps(name))
        loc = origin.loc(max(at, 0))
        processes = app.get("processes")
        limit = processes.get("max") if isinstance(processes, dict) else processes
        count = _unit_int(origin, at, "processes", limit, loc, "Unit starts 1 process per application by default")
        threads = _unit_int(origin, at, "threads", app.get("threads"), loc, "Unit runs 1 thread per process by default")
        module = app.get("module") if isinstance(app.get("module"), str) else None
        out.append(UnitApp(name, str(app.get("type", "")), count, threads, module, loc))
    return out, None


def _unit_int(origin: FileOrigin, at: int, key: str, value: object, loc: Loc, why: str) -> Val[int]:
    if value is None:
        return default(1, loc, why)
    where = origin.text.find(f'"{key}"', max(at, 0))
    where_loc = origin.loc(where) if where >= 0 else loc
    if isinstance(value, int) and not isinstance(value, bool):
        return known(value, where_loc)
    return unknown(where_loc, f"Unit {key} {value!r} is not a number")
