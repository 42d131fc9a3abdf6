"""Settings of one run: defaults, then the config file, then the command line (flake8's order)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from scalelint.findings import Severity

DEFAULT_WORKERS_ENV = ["UVICORN_WORKERS", "GUNICORN_WORKERS", "WORKERS", "WEB_WORKERS", "MAX_WORKERS"]
DEFAULT_POOL_SIZE_ENV = ["DB_POOL_SIZE", "SQLALCHEMY_POOL_SIZE", "DATABASE_POOL_SIZE", "POOL_SIZE"]
DEFAULT_MAX_OVERFLOW_ENV = ["DB_MAX_OVERFLOW", "SQLALCHEMY_MAX_OVERFLOW", "DATABASE_MAX_OVERFLOW", "MAX_OVERFLOW"]


@dataclass(frozen=True)
class ExternalDatabase:
    """A database outside the deploy files (a managed PostgreSQL), from config ``databases``."""

    name: str
    hosts: tuple[str, ...]
    max_connections: int
    reserved: int
    engine: str = "postgresql"


@dataclass(frozen=True)
class SourceMapping:
    """Config ``sources``: where the files of images matching ``image`` (a glob) are (SPEC §8)."""

    image: str
    #: the build context (a directory), relative to the working directory
    path: str
    #: the Dockerfile, relative to ``path``; None: ``path/Dockerfile`` when it exists
    dockerfile: str | None = None
    target: str | None = None
    #: where the entry was written, for messages
    origin: str = ""


@dataclass
class Config:
    select: list[str] = field(default_factory=list)  # empty: every enabled rule
    ignore: list[str] = field(default_factory=list)
    extend_select: list[str] = field(default_factory=list)
    severity: dict[str, Severity] = field(default_factory=dict)
    fail_on: Severity = Severity.ERROR
    exclude: list[str] = field(default_factory=list)
    #: SPEC §11: "auto" (references resolved from their file outward), "directory" or "all"
    group_by: str = "auto"
    #: declared units: each list of globs is one graph (globs anchored like ``exclude``)
    groups: list[list[str]] = field(default_factory=list)
    #: per-rule params, keyed by code or name
    rule_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    ha_required: list[str] = field(default_factory=list)
    databases: list[ExternalDatabase] = field(default_factory=list)
    env_files: list[str] = field(default_factory=list)
    use_env: bool = False
    workers_env: list[str] = field(default_factory=lambda: list(DEFAULT_WORKERS_ENV))
    pool_size_env: list[str] = field(default_factory=lambda: list(DEFAULT_POOL_SIZE_ENV))
    max_overflow_env: list[str] = field(default_factory=lambda: list(DEFAULT_MAX_OVERFLOW_ENV))
    #: top-level shortcuts for the SL006 / SL002 params (None: the rule's own default)
    memory_per_worker: int | None = None
    max_workers_per_pod: int | None = None
    #: DaemonSet pod count for budgets (unknown when None)
    nodes: int | None = None
    rules_dirs: list[str] = field(default_factory=list)
    #: image globs → where their sources are (SPEC §8)
    sources: list[SourceMapping] = field(default_factory=list)
    #: follow build contexts and sources (False: ``--no-sources``)
    read_sources: bool = True
    #: values files for ``helm template`` (config ``helm: {values: [...]}``)
    helm_values: list[str] = field(default_factory=list)
    #: where the settings came from, for messages
    source: str | None = None
    #: setting path (``select``, ``rules.SL001``) → where it was written (``file:line:col`` or a CLI flag)
    origins: dict[str, str] = field(default_factory=dict)


#: seconds one kustomize/helm render may take, unless ``$SCALELINT_RENDER_TIMEOUT`` says otherwise
DEFAULT_RENDER_TIMEOUT = 30.0
RENDER_TIMEOUT_ENV = "SCALELINT_RENDER_TIMEOUT"


def render_timeout() -> float:
    """Seconds one render may take: ``$SCALELINT_RENDER_TIMEOUT``, else 30 (here, not in :mod:`scalelint.render`,
    so that a run without kustomize or helm never imports the rendering code)."""
    try:
        value = float(os.environ.get(RENDER_TIMEOUT_ENV, ""))
    except ValueError:
        return DEFAULT_RENDER_TIMEOUT
    return value if value > 0 else DEFAULT_RENDER_TIMEOUT
