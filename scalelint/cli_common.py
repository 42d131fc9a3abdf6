"""What every command shares: settings (defaults ← config file ← flags), the registry, one run, the
options, and the one-line usage error (exit 2)."""
from __future__ import annotations

import os
from typing import Any

import click

from scalelint.findings import Severity

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class UsageProblem(click.ClickException):
    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"scalelint: error: {self.format_message()}", err=True)


def codes(values: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for v in values:
        out.extend(c.strip() for c in v.split(",") if c.strip())
    return out


def settings(select: tuple[str, ...], ignore: tuple[str, ...], env_file: tuple[str, ...], use_env: bool,
              fail_on: str | None, *, config_path: str | None = None, isolated: bool = False,
              rules_dirs: tuple[str, ...] = ()) -> Any:
    """Defaults ← config file (found upward from the working directory, or ``--config``) ← command line."""
    from scalelint.config.file import ConfigError, load_config, override

    try:
        config = load_config(config_path, os.getcwd(), isolated=isolated)
    except ConfigError as exc:
        raise UsageProblem(str(exc)) from None
    if select:
        override(config, "select", codes(select), "--select")
    if ignore:
        override(config, "ignore", codes(ignore), "--ignore")
    if env_file:
        config.env_files = list(env_file)
    config.use_env = use_env
    if fail_on:
        config.fail_on = Severity.parse(fail_on)
    config.rules_dirs = config.rules_dirs + list(rules_dirs)  # --rules-dir adds to the config's rules-dirs
    return config


def registry_of(config: Any) -> Any:
    """The rules of this run (built-ins, plugins, rules-dirs), with the settings' rule names and params checked."""
    from scalelint.check.registry import Registry, RegistryError
    from scalelint.check.settings import check_against
    from scalelint.config.file import ConfigError

    try:
        registry = Registry.load(config.rules_dirs)
        check_against(config, registry)
    except (RegistryError, ConfigError) as exc:
        raise UsageProblem(str(exc)) from None
    return registry


def run_files(paths: tuple[str, ...], compose_files: tuple[str, ...], config: Any, only_given: bool = False,
              jobs: int = 0, progress: Any = None, overrides: dict[str, dict[str, int]] | None = None,
              stdin: Any = None) -> Any:
    from scalelint.check.registry import RegistryError
    from scalelint.pipeline import Options, run

    registry = registry_of(config)
    try:
        opts = Options(paths=list(paths) or ([] if compose_files else ["."]), compose_files=list(compose_files),
                       group_context=not only_given, jobs=jobs, progress=progress, overrides=overrides or {},
                       stdin=stdin)
        return run(opts, config, registry)
    except RegistryError as exc:
        raise UsageProblem(str(exc)) from None


COMMON = [
    click.option("--env-file", "env_file", multiple=True, type=click.Path(dir_okay=False),
                 help="Compose interpolation variables (repeatable; later wins). Default: .env of the project."),
    click.option("--use-env", is_flag=True, help="Also take interpolation variables from the process environment."),
    click.option("-f", "--file", "compose_files", multiple=True, type=click.Path(dir_okay=False),
                 help="Compose files merged in order into one project, like `docker compose -f`."),
    click.option("--no-sources", is_flag=True,
                 help="Do not follow build contexts and `sources` (Dockerfiles, scripts, server configs, Python "
                      "settings): the deploy files alone."),
    click.option("--only-given", is_flag=True,
                 help="Read only the files named: a named file does not bring its group (compose override, "
                      "sibling manifests) along."),
]

#: where settings come from; shared by every command that reads the config (check, rules, explain, report)
CONFIG_OPTS = [
    click.option("--config", "config_path", type=click.Path(dir_okay=False),
                 help="Config file to use instead of the nearest .scalelint.yaml / pyproject.toml."),
    click.option("--isolated", is_flag=True, help="Ignore every config file."),
    click.option("--rules-dir", "rules_dirs", multiple=True, type=click.Path(file_okay=False),
                 help="Directory of rule YAML files (repeatable; adds to the config's rules-dirs)."),
]


def apply(options: list[Any]) -> Any:
    def deco(fn: Any) -> Any:
        for opt in reversed(options):
            fn = opt(fn)
        return fn
    return deco
