"""Which container images are poolers, where they read their configuration, and the readers.

:func:`recognize_image` names the pooler behind an image reference; :func:`read_container_pooler`
reads its settings from the container env and, when the caller found one, a configuration
file mounted at the image's config path (``config_paths``).  For the env-driven PgBouncer
images a mounted ``pgbouncer.ini`` replaces env, except where the image overwrites it.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from scalelint.findings import Loc
from scalelint.model import Val, assumed

from .ini import parse_pgbouncer_ini
from .model import MountedConfig, PoolerSettings, lookup, notice
from .pgbouncer import PGBOUNCER_DEFAULTS, settings_from_entries, settings_from_ini
from .pgbouncer_env import env_entries, image_defaults, replaced_by_file, unread_env
from .pgpool import read_pgpool
from .proxysql import read_proxysql

__all__ = ["CONFIG_PATHS", "PoolerImage", "config_paths", "image_name", "read_container_pooler", "recognize_image"]


@dataclass(frozen=True)
class PoolerImage:
    kind: str  # pgbouncer | pgpool | proxysql
    flavour: str
    name: str  # repository path without registry, tag or digest: "bitnami/pgbouncer"


# Where each image reads its configuration file; the first is the one to mount.
CONFIG_PATHS: dict[tuple[str, str], tuple[str, ...]] = {
    # bitnami copies /bitnami/pgbouncer/conf/* into /opt/bitnami/pgbouncer/conf/ and skips writing
    # pgbouncer.ini only when it came from there (libpgbouncer.sh pgbouncer_is_file_external; README
    # "Configuration file").  At the /opt path the entrypoint deletes and rewrites the file.
    ("pgbouncer", "bitnami"): ("/bitnami/pgbouncer/conf/pgbouncer.ini", "/opt/bitnami/pgbouncer/conf/pgbouncer.ini"),
    # entrypoint.sh: `if [ ! -f ${PG_CONFIG_DIR}/pgbouncer.ini ]`, PG_CONFIG_DIR=/etc/pgbouncer
    ("pgbouncer", "edoburu"): ("/etc/pgbouncer/pgbouncer.ini",),
    ("pgbouncer", "brainsam"): ("/etc/pgbouncer/pgbouncer.ini",),
    # entrypoint.sh rewrites this file from env on every start: a mount there is not used
    ("pgbouncer", "pgbouncer/pgbouncer"): ("/etc/pgbouncer/pgbouncer.ini",),
    # the path of the PgBouncer distribution packages; an unknown image may use another one
    ("pgbouncer", "generic"): ("/etc/pgbouncer/pgbouncer.ini",),
    # bitnami/pgpool appends the file named by PGPOOL_USER_CONF_FILE (libpgpool.sh pgpool_create_config)
    ("pgpool", "bitnami"): (),
    # pgpool2_on_k8s entrypoint.sh: a ${PGPOOL_CONF_VOLUME}/pgpool.conf replaces env (the k8s examples mount /config)
    ("pgpool", "pgpool/pgpool"): ("/config/pgpool.conf",),
    # proxysql/proxysql starts `proxysql -f -c /etc/proxysql.cnf` (its Dockerfile / README)
    ("proxysql", "proxysql"): ("/etc/proxysql.cnf",),
}

_KNOWN = {
    "bitnami/pgbouncer": ("pgbouncer", "bitnami"), "bitnamilegacy/pgbouncer": ("pgbouncer", "bitnami"),
    "edoburu/pgbouncer": ("pgbouncer", "edoburu"), "brainsam/pgbouncer": ("pgbouncer", "brainsam"),
    "pgbouncer/pgbouncer": ("pgbouncer", "pgbouncer/pgbouncer"),
    "bitnami/pgpool": ("pgpool", "bitnami"), "bitnamilegacy/pgpool": ("pgpool", "bitnami"),
    "pgpool/pgpool": ("pgpool", "pgpool/pgpool"), "proxysql/proxysql": ("proxysql", "proxysql"),
}


def image_name(image: str) -> str:
    """``image`` without registry host, tag and digest, lower case: ``docker.io/bitnami/pgbouncer:1.22``
    → ``bitnami/pgbouncer``."""
    name = image.strip().lower().split("@", 1)[0]
    parts = name.split("/")
    if ":" in parts[-1]:
        parts[-1] = parts[-1].split(":", 1)[0]
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = parts[1:]
    if parts[:1] == ["library"]:
        parts = parts[1:]
    return "/".join(parts)


def recognize_image(image: str | None) -> PoolerImage | None:
    """The pooler an image runs, or None.

    Known repositories match on their last two path parts (so mirrors such as
    ``registry.example.com/mirror/bitnami/pgbouncer`` match too); any other image whose name
    ends in ``pgbouncer`` is a generic PgBouncer, and one whose last part is ``proxysql`` runs
    ProxySQL.  Unresolved references (``${IMAGE}``) name nothing.
    """
    if not image or not isinstance(image, str) or re.search(r"\$\{|\$\(|\{\{", image):
        return None
    name = image_name(image)
    tail = "/".join(name.split("/")[-2:])
    if tail in _KNOWN:
        kind, flavour = _KNOWN[tail]
        return PoolerImage(kind, flavour, tail)
    if name.endswith("pgbouncer"):
        return PoolerImage("pgbouncer", "generic", name)
    if name.split("/")[-1] == "proxysql":
        return PoolerImage("proxysql", "proxysql", name)
    return None


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
