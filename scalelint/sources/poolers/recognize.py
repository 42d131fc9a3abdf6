"""Which container images are poolers: the one part of the pooler readers every run needs.

Every container of every run is asked :func:`recognize_image`; the readers of the settings
(:mod:`.images` and the modules it uses) are imported only when an image is a pooler.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["CONFIG_PATHS", "PoolerImage", "image_name", "recognize_image"]


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
