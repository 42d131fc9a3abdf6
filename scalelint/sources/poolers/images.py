"""Which container images are poolers, where they read their configuration, and the readers.

:func:`recognize_image` names the pooler behind an image reference; :func:`read_container_pooler`
reads its settings from the container env and, when the caller found one, a configuration
file mounted at the image's config path (``config_paths``).  For the env-driven PgBouncer
images a mounted ``pgbouncer.ini`` replaces env, except where the image overwrites it.
"""
from __future__ import annotations

from collections.abc import Mapping

from scalelint.findings import Loc
from scalelint.model import Val, assumed

from .ini import parse_pgbouncer_ini
from .model import MountedConfig, PoolerSettings, lookup, notice
from .pgbouncer import PGBOUNCER_DEFAULTS, settings_from_entries, settings_from_ini
from .pgbouncer_env import env_entries, image_defaults, replaced_by_file, unread_env
from .pgpool import read_pgpool
from .proxysql import read_proxysql
from .recognize import CONFIG_PATHS, PoolerImage, image_name, recognize_image

__all__ = ["CONFIG_PATHS", "PoolerImage", "config_paths", "image_name", "read_container_pooler", "recognize_image"]


def config_paths(image: PoolerImage, env: Mapping[str, Val[str]] | None = None) -> tuple[str, ...]:
    """Where ``image`` reads its configuration file (bitnami/pgpool: PGPOOL_USER_CONF_FILE)."""
    if (image.kind, image.flavour) == ("pgpool", "bitnami"):
        value = lookup(env or {}, "PGPOOL_USER_CONF_FILE")
        return (str(value.value),) if value is not None and value.value else ()
    return CONFIG_PATHS.get((image.kind, image.flavour), ())


def read_container_pooler(
    image: str | None,
    env: Mapping[str, Val[str]],
    *,
    mounted: MountedConfig | None = None,
    image_loc: Loc | None = None,
) -> PoolerSettings | None:
    """The settings of the pooler a container runs, or None when its image is no pooler.

    ``env`` maps each variable to its value and where it is written; ``mounted`` is the config
    file the caller found mounted at one of :func:`config_paths` (its ``target`` says which);
    ``image_loc`` is where the image is named, the position given to image-level defaults.
    """
    ident = recognize_image(image)
    if ident is None:
        return None
    if ident.kind == "pgpool":
        return read_pgpool(ident.flavour, ident.name, env, mounted=mounted, image_loc=image_loc)
    if ident.kind == "proxysql":
        return read_proxysql(ident.name, env, mounted=mounted, image_loc=image_loc)
    return _pgbouncer_container(ident, env, mounted, image_loc)


def _pgbouncer_container(ident: PoolerImage, env: Mapping[str, Val[str]], mounted: MountedConfig | None,
                         image_loc: Loc | None) -> PoolerSettings:
    settings = PoolerSettings("pgbouncer", ident.flavour)
    flavour, image = ident.flavour, ident.name
    paths = config_paths(ident)
    target = (mounted.target or paths[0]) if mounted is not None and paths else (mounted.target if mounted else "")
    use_file = mounted is not None
    if mounted is not None and flavour == "pgbouncer/pgbouncer":
        settings.problems.append(((f"{image} rewrites {target} from env on every start: the mounted pgbouncer.ini is "
                                  "overwritten (mounted read-only, the entrypoint fails)"), image_loc))
        use_file = False
    elif mounted is not None and flavour == "bitnami" and not target.startswith("/bitnami/pgbouncer/conf/"):
        settings.problems.append(((f"{image} deletes and rewrites {target} from PGBOUNCER_* env at start "
                                  "(libpgbouncer.sh pgbouncer_initialize); a file mounted there is not used or makes "
                                  "the start fail: mount it under /bitnami/pgbouncer/conf/"), image_loc))
        use_file = False
    if use_file and mounted is not None:
        ini = parse_pgbouncer_ini(mounted.text, mounted.path, line_offset=mounted.line_offset,
                                  column_offset=mounted.column_offset)
        settings_from_ini(ini, settings, default_loc=image_loc)
        if flavour != "generic":
            settings.problems.extend(replaced_by_file(flavour, image, env, target))
        return settings
    entries = env_entries(flavour, image, env, image_loc, settings.problems)
    if entries is None:  # generic: how the image turns env into a file is not known
        settings.notices.append(notice(
            f"{image}: scalelint does not know how this image configures PgBouncer; its settings are assumed to be "
            "PgBouncer's defaults and the database it connects to is unknown (mount a pgbouncer.ini to say more)",
            image_loc))
        guesses = {key: assumed(value, image_loc, f"assumed PgBouncer default {key} = {value} ({image} not known)")
                   for key, value in PGBOUNCER_DEFAULTS.items()}
        return settings_from_entries([], settings, defaults=guesses, default_loc=image_loc)
    settings.problems.extend(unread_env(flavour, image, env))
    settings.source = "env"
    return settings_from_entries(entries, settings, writer=image, defaults=image_defaults(flavour, image_loc),
                                 default_loc=image_loc)
