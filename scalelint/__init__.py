"""scalelint: static checks for what breaks when a Python web service scales.

Embedding::

    from scalelint import lint
    result = lint(["deploy/"])
    for finding in result.findings:
        print(finding.code, finding.message)
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from scalelint import _moved

__version__ = "0.1.0"
_moved.install()  # plugins written against the old flat layout keep importing (with a DeprecationWarning)

if TYPE_CHECKING:
    from scalelint.config import Config
    from scalelint.findings import RunResult


def lint(paths: list[str], config: Config | None = None, compose_files: list[str] | None = None) -> RunResult:
    """Lint ``paths`` and return the findings and notices (nothing is printed)."""
    from scalelint.check.registry import Registry
    from scalelint.config import Config
    from scalelint.pipeline import Options, run

    config = config or Config()
    registry = Registry.load(config.rules_dirs)
    return run(Options(paths=list(paths), compose_files=list(compose_files or [])), config, registry).result


__all__ = ["__version__", "lint"]
