"""``path:line:col: CODE [severity] message (object)``, grouped by file, sorted (SPEC §5)."""
from __future__ import annotations

from scalelint.findings import Finding, RunResult, Severity

_COLOURS = {Severity.ERROR: "31", Severity.WARNING: "33", Severity.INFO: "36"}


def _paint(text: str, code: str, color: bool) -> str:
    return f"\033[{code}m{text}\033[0m" if color else text


def line(f: Finding, color: bool = False) -> str:
    where = f"{f.path}:{f.line}:{f.column}" if f.line else f.path
    sev = _paint(f"[{f.severity.label}]", _COLOURS[f.severity], color)
    code = _paint(f.code, "1", color)
    obj = f" ({f.object})" if f.object else ""
    return f"{_paint(where, '1', color)}: {code} {sev} {f.message}{obj}"


def render(result: RunResult, *, tool_version: str = "", color: bool = False, show_fix: bool = True) -> str:
    out: list[str] = []
    for f in result.findings:
        out.append(line(f, color))
        if show_fix and f.fix:
            out.append(f"    fix: {f.fix}")
    return "\n".join(out) + ("\n" if out else "")


def render_notices(result: RunResult, color: bool = False) -> str:
    out = []
    for n in result.notices:
        where = (f"{n.path}:{n.line}:{n.column}" if n.line else n.path) if n.path else "scalelint"
        out.append(f"{where}: {_paint('notice', '36', color)}: {n.message}")
    return "\n".join(out) + ("\n" if out else "")


def summary(result: RunResult) -> str:
    counts = result.by_severity()
    total = len(result.findings)
    parts = ", ".join(f"{n} {label}{'s' if n != 1 else ''}" for label, n in counts.items() if n)
    files = f"{result.files} file{'s' if result.files != 1 else ''}"
    objects = f"{result.objects} object{'s' if result.objects != 1 else ''}"
    if not total:
        return f"scalelint: no findings in {files} ({objects})"
    return f"scalelint: {total} finding{'s' if total != 1 else ''} ({parts}) in {files} ({objects})"
