"""GitHub Actions workflow commands: one annotation line per finding and notice.

Printed in a workflow step, each line becomes an annotation on the file and
line in the pull request. The format and escaping follow the official toolkit
(actions/toolkit, packages/core/src/command.ts: ``escapeData``,
``escapeProperty``) and the runner that parses it (actions/runner,
src/Runner.Common/ActionCommand.cs): data escapes ``%``, CR and LF; property
values also escape ``:`` and ``,``, which delimit the command. ``%`` goes first
so that the runner, which undoes ``%25`` last, restores the text exactly.

Unlike SARIF this output is plain text for a log, so no characters beyond those
are escaped and file paths are passed through as the user named them.
"""

from __future__ import annotations

from scalelint.findings import Finding, Notice, RunResult, Severity

_COMMANDS = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "notice",
}


def render(result: RunResult, *, tool_version: str) -> str:
    """One command line per finding, then one ``::notice`` per notice.

    ``tool_version`` is unused: annotations have no field for it; the
    parameter keeps every formatter callable the same way.
    """
    del tool_version
    lines = [_finding(f) for f in result.findings]
    lines += [_notice(n) for n in result.notices]
    return "".join(line + "\n" for line in lines)


def escape_data(text: str) -> str:
    """Escape a command's message, as the toolkit's ``escapeData``."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value, as the toolkit's ``escapeProperty``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _finding(f: Finding) -> str:
    message = f.message or f.rule or f.code
    if f.fix:
        message += "\nFix: " + f.fix
    title = f"{f.code} {f.rule}" if f.rule else f.code
    props = [*_position(f.path, f.line, f.column), ("title", title)]
    return _command(_COMMANDS[f.severity], props, message)


def _notice(n: Notice) -> str:
    return _command("notice", _position(n.path, n.line, n.column), n.message)


def _position(path: str, line: int, column: int) -> list[tuple[str, str]]:
    """file/line/col properties; a 0 line or column means unknown and is left
    out, since GitHub would otherwise point at a line that does not exist."""
    props = [("file", path)]
    if line >= 1:
        props.append(("line", str(line)))
        if column >= 1:
            props.append(("col", str(column)))
    return props


def _command(name: str, props: list[tuple[str, str]], message: str) -> str:
    """``::name k=v,k=v::message``; empty values are dropped, as the toolkit
    drops falsy ones, because the runner ignores ``key=`` with nothing after it."""
    pairs = ",".join(f"{k}={escape_property(v)}" for k, v in props if v)
    head = f"::{name} {pairs}" if pairs else f"::{name}"
    return f"{head}::{escape_data(message)}"
