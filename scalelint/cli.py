"""Command line: ``scalelint check``, ``rules``, ``report``, ``explain``.

Exit codes (SPEC §5): 0 nothing at or above ``fail-on``; 1 findings at or above
it; 2 usage error, invalid config or internal error. Nothing here computes
findings; it parses arguments, runs the pipeline and hands data to a formatter.
"""
from __future__ import annotations

import os
import sys
from typing import Any

import click

from . import __version__
from .findings import RunResult, Severity

FORMATS = ("text", "json", "sarif", "github", "gitlab")
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class UsageProblem(click.ClickException):
    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"scalelint: error: {self.format_message()}", err=True)


def _codes(values: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for v in values:
        out.extend(c.strip() for c in v.split(",") if c.strip())
    return out


def _use_color(stream: Any) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return bool(getattr(stream, "isatty", lambda: False)())


def _render(fmt: str, result: RunResult, color: bool) -> str:
    if fmt == "text":
        from .formatters import text

        return text.render(result, color=color)
    if fmt == "json":
        from .formatters import jsonfmt

        return jsonfmt.render(result, tool_version=__version__)
    if fmt == "sarif":
        from .formatters import sarif

        return sarif.render(result, tool_version=__version__)
    if fmt == "github":
        from .formatters import github

        return github.render(result, tool_version=__version__)
    from .formatters import gitlab

    return gitlab.render(result, tool_version=__version__)


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, "--version", prog_name="scalelint")
def main() -> None:
    """Lint docker-compose files and Kubernetes manifests for what breaks when a service scales."""


def _settings(select: tuple[str, ...], ignore: tuple[str, ...], env_file: tuple[str, ...], use_env: bool,
              fail_on: str | None) -> Any:
    from .config import Config

    config = Config()
    if select:
        config.select = _codes(select)
    if ignore:
        config.ignore = _codes(ignore)
    if env_file:
        config.env_files = list(env_file)
    config.use_env = use_env
    if fail_on:
        config.fail_on = Severity.parse(fail_on)
    return config


def _run(paths: tuple[str, ...], compose_files: tuple[str, ...], config: Any) -> Any:
    from .pipeline import Options, run
    from .registry import Registry, RegistryError

    try:
        registry = Registry.load(config.rules_dirs)
        opts = Options(paths=list(paths) or ([] if compose_files else ["."]), compose_files=list(compose_files))
        return run(opts, config, registry)
    except RegistryError as exc:
        raise UsageProblem(str(exc)) from None


_common = [
    click.option("--env-file", "env_file", multiple=True, type=click.Path(dir_okay=False),
                 help="Compose interpolation variables (repeatable; later wins). Default: .env of the project."),
    click.option("--use-env", is_flag=True, help="Also take interpolation variables from the process environment."),
    click.option("-f", "--file", "compose_files", multiple=True, type=click.Path(dir_okay=False),
                 help="Compose files merged in order into one project, like `docker compose -f`."),
]


def _apply(options: list[Any]) -> Any:
    def deco(fn: Any) -> Any:
        for opt in reversed(options):
            fn = opt(fn)
        return fn
    return deco


@main.command(context_settings=CONTEXT)
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="Output format (default: text; github when GITHUB_ACTIONS=true).")
@click.option("--select", multiple=True, help="Only these rules (codes or names, comma-separated; ALL).")
@click.option("--ignore", multiple=True, help="Skip these rules (codes or names, comma-separated).")
@click.option("--fail-on", type=click.Choice(["error", "warning", "info"]), default=None,
              help="Lowest severity that makes the exit code 1 (default: error).")
@_apply(_common)
def check(paths: tuple[str, ...], fmt: str | None, select: tuple[str, ...], ignore: tuple[str, ...],
          fail_on: str | None, env_file: tuple[str, ...], use_env: bool, compose_files: tuple[str, ...]) -> None:
    """Lint PATHS (files or directories; `-` reads stdin). Default: the current directory."""
    config = _settings(select, ignore, env_file, use_env, fail_on)
    if fmt is None:
        fmt = "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"
    run = _run(paths, compose_files, config)
    result: RunResult = run.result
    out = _render(fmt, result, _use_color(sys.stdout))
    click.echo(out, nl=False)
    if fmt == "text":
        from .formatters import text

        err_color = _use_color(sys.stderr)
        click.echo(text.render_notices(result, err_color), nl=False, err=True)
        click.echo(text.summary(result), err=True)
    failing = any(f.severity >= config.fail_on for f in result.findings)
    sys.exit(1 if failing else 0)


@main.command(context_settings=CONTEXT)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def rules(fmt: str) -> None:
    """List every rule: code, name, severity, and whether it is on."""
    from .config import Config
    from .engine import select as select_rules
    from .registry import Registry, RegistryError

    try:
        registry = Registry.load()
        selection = select_rules(registry, Config())
    except RegistryError as exc:
        raise UsageProblem(str(exc)) from None
    infos = [selection.infos[c] for c in sorted(selection.infos)]
    if fmt == "json":
        import json

        click.echo(json.dumps([{"code": i.code, "name": i.name, "severity": i.severity.label,
                                "enabled": i.enabled, "summary": i.summary} for i in infos], indent=2))
        return
    width = max((len(i.name) for i in infos), default=10)
    for i in infos:
        state = "on" if i.enabled else "off"
        click.echo(f"{i.code}  {i.name:<{width}}  {i.severity.label:<7}  {state:<3}  {i.summary}")


@main.command(context_settings=CONTEXT)
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text",
              help="markdown reads well as a pull-request comment or in $GITHUB_STEP_SUMMARY.")
@_apply(_common)
def report(paths: tuple[str, ...], fmt: str, env_file: tuple[str, ...], use_env: bool,
           compose_files: tuple[str, ...]) -> None:
    """Capacity table: each database's connection budget and each client's share of it."""
    from .analyze.capacity import group_report
    from .formatters import report as fmt_report

    config = _settings((), (), env_file, use_env, None)
    run = _run(paths, compose_files, config)
    ratio = _warn_ratio(run)
    groups = [group_report(g, f, ratio) for g, f in zip(run.groups, run.facts)]
    if fmt == "json":
        click.echo(fmt_report.render_json(groups, __version__), nl=False)
    elif fmt == "markdown":
        click.echo(fmt_report.render_markdown(groups), nl=False)
    else:
        click.echo(fmt_report.render_text(groups), nl=False)


def _warn_ratio(run: Any) -> float:
    bound = run.selection.active.get("SL013")
    return float(bound.params.get("warn-ratio", 0.9)) if bound else 0.9


def entry() -> None:
    """Console-script entry: any unexpected exception is exit 2 with one line, never a traceback."""
    try:
        main(standalone_mode=True)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # pragma: no cover - the last line of defence
        if os.environ.get("SCALELINT_DEBUG"):
            raise
        click.echo(f"scalelint: internal error: {type(exc).__name__}: {exc} "
                   "(set SCALELINT_DEBUG=1 for the traceback)", err=True)
        sys.exit(2)
