"""``scalelint plan`` (SPEC §10): scale workers or pods, and how far; ``--set`` for what-ifs.

The plan is read off the same run as ``check``: each workload's numbers (:mod:`scalelint.analyze.planning`)
go to the planner (:mod:`scalelint.analyze.plan`). With ``--set``, the files are linted a second time
as if they said so, and the output lists the findings the change would raise, clear or change.
The exit code is 0: a plan is advice, not a verdict (``check`` gives those); 2 for a usage error.
"""
from __future__ import annotations

from typing import Any

import click

from scalelint.cli_common import COMMON, CONFIG_OPTS, CONTEXT, UsageProblem, apply, run_files, settings


@click.command(context_settings=CONTEXT)
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text",
              help="markdown fits a pull-request comment: tables, reasons and a chart per database.")
@click.option("--set", "sets", multiple=True, metavar="WORKLOAD.FIELD=N",
              help="What if: workers, replicas or pool (connections per worker) of a workload, as if the files "
                   "said so (repeatable), e.g. --set api.replicas=3.")
@apply(COMMON)
@apply(CONFIG_OPTS)
def plan(paths: tuple[str, ...], fmt: str, sets: tuple[str, ...], env_file: tuple[str, ...], use_env: bool,
         compose_files: tuple[str, ...], only_given: bool, config_path: str | None, isolated: bool,
         rules_dirs: tuple[str, ...], no_sources: bool = False) -> None:
    """Per workload: how far workers and replicas can go, and which to scale next."""
    from scalelint.analyze import plan as planner
    from scalelint.analyze.planning import numbers, planned
    from scalelint.output import plan as out

    config = settings((), (), env_file, use_env, None, config_path=config_path, isolated=isolated,
                      rules_dirs=rules_dirs)
    config.read_sources = not no_sources
    stdin = None
    if sets and "-" in paths:  # a what-if lints twice: read standard input once, for both runs
        import sys

        from scalelint.load.read import MAX_FILE_BYTES

        data = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
        stdin = lambda: data
    before = run_files(paths, compose_files, config, only_given, stdin=stdin)
    run, diff = before, None
    if sets:
        names = [name for g, f in zip(before.groups, before.facts) for name in _names(g, f, planned)]
        try:
            overrides = planner.parse_sets(list(sets), names)
        except planner.PlanUsageError as exc:
            raise UsageProblem(str(exc)) from None
        run = run_files(paths, compose_files, config, only_given, overrides=overrides, stdin=stdin)
        diff = planner.diff_findings(before.result.findings, run.result.findings)
    params = _params(run)
    found = [n for g, f in zip(run.groups, run.facts) for n in numbers(g, f, params)]
    rows = planner.plan(found, min_replicas=params["min-replicas"], per_core=params["per-core"],
                        extra=params["extra"])
    if fmt == "json":
        click.echo(out.render_json(rows, run.result.findings, diff=diff), nl=False)
    elif fmt == "markdown":
        click.echo(out.render_markdown(rows, planner.database_loads(rows), diff=diff), nl=False)
    else:
        click.echo(out.render_text(rows, diff=diff), nl=False)


def _names(group: Any, facts: Any, planned: Any) -> list[str]:
    from scalelint.analyze.planning import display_name

    return [display_name(wl) for wl in planned(group, facts)]


def _params(run: Any) -> dict[str, Any]:
    """The rules' own numbers, as this run configured them: the plan's ceilings are the checks' limits."""
    from scalelint.model.quantity import k8s_memory

    active = run.selection.active
    config = run.facts[0].config if run.facts else None

    def param(code: str, key: str, fallback: Any) -> Any:
        bound = active.get(code)
        return bound.params.get(key, fallback) if bound is not None else fallback

    memory = param("SL006", "memory-per-worker", "512Mi")
    own = (config.rule_params.get("SL006") or config.rule_params.get("workers-exceed-memory") or {}) if config else {}
    return {
        "max-workers-per-pod": int(param("SL002", "max-workers-per-pod", 8)),
        "memory-per-worker": k8s_memory(memory) or 512 * 2**20,
        "memory-floor": k8s_memory(param("SL006", "floor-when-assumed", "256Mi")) or 256 * 2**20,
        "configured": bool(config and (config.memory_per_worker is not None or "memory-per-worker" in own)),
        "min-replicas": int(param("SL004", "min-replicas", 2)),
        "per-core": float(param("SL005", "per-core", 2)),
        "extra": float(param("SL005", "extra", 1)),
    }


__all__ = ["plan"]
