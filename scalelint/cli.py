"""Command line: ``scalelint check``, ``rules``, ``report``, ``explain``, ``plan`` (:mod:`.cli_plan`).

Exit codes (SPEC §5): 0 nothing at or above ``fail-on``; 1 findings at or above
it; 2 usage error, invalid config or internal error. Nothing here computes
findings; it parses arguments, runs the pipeline and hands data to a formatter.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

import click

from scalelint import __version__
from scalelint.cli_common import (
    COMMON,
    CONFIG_OPTS,
    CONTEXT,
    UsageProblem,
    apply,
    registry_of,
    run_files,
    settings,
)
from scalelint.findings import RunResult

FORMATS = ("text", "json", "sarif", "github", "gitlab")


def _use_color(stream: Any) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return bool(getattr(stream, "isatty", lambda: False)())


def _render(fmt: str, result: RunResult, color: bool) -> str:
    if fmt == "text":
        from scalelint.output import text

        return text.render(result, color=color)
    if fmt == "json":
        from scalelint.output import jsonfmt

        return jsonfmt.render(result, tool_version=__version__)
    if fmt == "sarif":
        from scalelint.output import sarif

        return sarif.render(result, tool_version=__version__)
    if fmt == "github":
        from scalelint.output import github

        return github.render(result, tool_version=__version__)
    from scalelint.output import gitlab

    return gitlab.render(result, tool_version=__version__)


class _OneLineErrors(click.Group):
    """Usage errors as one line with exit 2 (SPEC §5), not click's usage block; CliRunner sees the same."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,  # type: ignore[override]
             complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.UsageError as exc:
            where = " ".join(["scalelint", *exc.ctx.command_path.split()[1:]]) if exc.ctx is not None else "scalelint"
            hint = f" (see `{where} --help`)"
            click.echo(f"scalelint: error: {exc.format_message()}{hint}", err=True)
            sys.exit(2)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        except BrokenPipeError:  # `scalelint check | head`: the reader left, nothing to report
            sys.stdout = None  # type: ignore[assignment]
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


@click.group(cls=_OneLineErrors, context_settings=CONTEXT)
@click.version_option(__version__, "--version", prog_name="scalelint")
def main() -> None:
    """Lint docker-compose files and Kubernetes manifests for what breaks when a service scales."""


@main.command(context_settings=CONTEXT)
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="Output format (default: text; github when GITHUB_ACTIONS=true).")
@click.option("--select", multiple=True, help="Only these rules (codes or names, comma-separated; ALL).")
@click.option("--ignore", multiple=True, help="Skip these rules (codes or names, comma-separated).")
@click.option("--fail-on", type=click.Choice(["error", "warning", "info"]), default=None,
              help="Lowest severity that makes the exit code 1 (default: error).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Write the --format output (default there: json) to this file; the terminal still gets text.")
@click.option("--baseline", "baseline_path", type=click.Path(dir_okay=False),
              help="Report only findings not recorded in this baseline file.")
@click.option("--write-baseline", type=click.Path(dir_okay=False, writable=True),
              help="Record the current findings in this baseline file and exit 0.")
@click.option("--helm-values", "helm_values", multiple=True, type=click.Path(dir_okay=False),
              help="Values file for `helm template` of every chart (repeatable; after the config's helm.values).")
@click.option("-j", "--jobs", type=click.IntRange(min=0), default=0, show_default="0: one per core",
              help="Processes that read and model files; 1 uses none. Runs of few files never start any.")
@apply(COMMON)
@apply(CONFIG_OPTS)
def check(paths: tuple[str, ...], fmt: str | None, select: tuple[str, ...], ignore: tuple[str, ...],
          fail_on: str | None, output: str | None, baseline_path: str | None, write_baseline: str | None,
          env_file: tuple[str, ...], use_env: bool, compose_files: tuple[str, ...], only_given: bool,
          config_path: str | None, isolated: bool, rules_dirs: tuple[str, ...],
          helm_values: tuple[str, ...] = (), jobs: int = 0, no_sources: bool = False) -> None:
    """Lint PATHS (files or directories; `-` reads stdin). Default: the current directory."""
    config = settings(select, ignore, env_file, use_env, fail_on, config_path=config_path, isolated=isolated,
                       rules_dirs=rules_dirs)
    config.helm_values = config.helm_values + list(helm_values)  # like --rules-dir: adds to the config's list
    config.read_sources = not no_sources
    terminal = "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"
    file_fmt = (fmt or "json") if output else None
    fmt = terminal if output or fmt is None else fmt
    known = None
    if baseline_path or write_baseline:
        from scalelint.output import baseline as bl  # json and hashing: only for runs that use a baseline

        try:
            known = bl.load(baseline_path) if baseline_path and not write_baseline else None
        except bl.BaselineError as exc:
            raise UsageProblem(str(exc)) from None
    from scalelint.output.progress import for_stream

    bar = for_stream(sys.stderr, fmt)
    try:
        run = run_files(paths, compose_files, config, only_given, jobs, bar)
    finally:
        if bar is not None:
            bar.close()
    result: RunResult = run.result
    if write_baseline:
        try:
            count = bl.write(result.findings, write_baseline)
        except bl.BaselineError as exc:
            raise UsageProblem(str(exc)) from None
        click.echo(f"scalelint: recorded {count} finding{'s' if count != 1 else ''} in {write_baseline}", err=True)
        sys.exit(0)
    if known is not None:
        from scalelint.findings import Notice

        result.findings, absorbed = bl.new_findings(result.findings, known)
        if absorbed:
            result.notices.append(Notice(f"{absorbed} known finding{'s' if absorbed != 1 else ''} "
                                         f"in the baseline not shown", baseline_path or ""))
            result.sort()
    if output and file_fmt:
        try:
            with open(output, "w", encoding="utf-8", errors="backslashreplace", newline="\n") as fh:
                fh.write(_render(file_fmt, result, False))
        except OSError as exc:
            raise UsageProblem(f"{output}: cannot write output: {exc.strerror or exc}") from None
    color = _use_color(sys.stdout)
    out = _render(fmt, result, color)
    click.echo(out, nl=False, color=color)
    if fmt == "text":
        from scalelint.output import text

        err_color = _use_color(sys.stderr)
        click.echo(text.render_notices(result, err_color), nl=False, err=True, color=err_color)
        click.echo(text.summary(result), err=True)
    failing = any(f.severity >= config.fail_on for f in result.findings)
    sys.exit(1 if failing else 0)


@main.command(context_settings=CONTEXT)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@apply(CONFIG_OPTS)
def rules(fmt: str, config_path: str | None, isolated: bool, rules_dirs: tuple[str, ...]) -> None:
    """List every rule: code, name, severity, and whether it is on (with the config file applied)."""
    from scalelint.check.engine import select as select_rules
    from scalelint.check.registry import RegistryError

    config = settings((), (), (), False, None, config_path=config_path, isolated=isolated, rules_dirs=rules_dirs)
    registry = registry_of(config)
    try:
        selection = select_rules(registry, config)
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
@apply(COMMON)
@apply(CONFIG_OPTS)
def report(paths: tuple[str, ...], fmt: str, env_file: tuple[str, ...], use_env: bool,
           compose_files: tuple[str, ...], only_given: bool, config_path: str | None, isolated: bool,
           rules_dirs: tuple[str, ...], no_sources: bool = False) -> None:
    """Capacity table: each database's connection budget and each client's share of it."""
    from scalelint.analyze.capacity import group_report
    from scalelint.output import report as fmt_report

    config = settings((), (), env_file, use_env, None, config_path=config_path, isolated=isolated,
                       rules_dirs=rules_dirs)
    config.read_sources = not no_sources
    run = run_files(paths, compose_files, config, only_given)
    ratio = _warn_ratio(run)
    groups = [group_report(g, f, ratio) for g, f in zip(run.groups, run.facts)]
    if fmt == "json":
        click.echo(fmt_report.render_json(groups, __version__), nl=False)
    elif fmt == "markdown":
        click.echo(fmt_report.render_markdown(groups, charts=True), nl=False)
    else:
        click.echo(fmt_report.render_text(groups), nl=False)


def _warn_ratio(run: Any) -> float:
    bound = run.selection.active.get("SL013")
    return float(bound.params.get("warn-ratio", 0.9)) if bound else 0.9


@main.command(context_settings=CONTEXT)
@click.argument("rule")
@apply(CONFIG_OPTS)
def explain(rule: str, config_path: str | None, isolated: bool, rules_dirs: tuple[str, ...]) -> None:
    """Print the documentation of RULE (code or name): what it checks, why, examples, fix, params."""
    from scalelint.config.schema import did_you_mean
    from scalelint.output import docs

    config = settings((), (), (), False, None, config_path=config_path, isolated=isolated, rules_dirs=rules_dirs)
    registry = registry_of(config)
    found = registry.resolve(rule)
    if found is None:
        words = set(registry.rules) | {r.name for r in registry.rules.values()}
        raise UsageProblem(f"unknown rule {rule!r}{did_you_mean(rule, words)} (see `scalelint rules`)")
    click.echo(docs.explain(found, registry, config), nl=False)


def _register() -> None:
    from scalelint.cli_plan import plan

    main.add_command(plan)


_register()
