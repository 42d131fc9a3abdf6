"""Helpers shared by the tests of the Python source readers: a tree of files in a temporary
directory, an environment of known values, and where a piece of text is written."""
from __future__ import annotations

import os
import textwrap
from pathlib import Path

from scalelint.findings import Loc
from scalelint.model import Val, known
from scalelint.sources.python import Connections, read_connections


def tree(tmp_path: Path, files: dict[str, str]) -> str:
    """Write ``files`` (dedented) under ``tmp_path``; the root as a string."""
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    return str(tmp_path)


def env(**values: str) -> dict[str, Val[str]]:
    """Known values, each located on its own line of a compose file."""
    return {k: known(v, Loc("compose.yml", i + 1, 7)) for i, (k, v) in enumerate(values.items())}


def at(root: str, rel: str, needle: str) -> Loc:
    """Where ``needle`` is written in ``rel`` (1-based), so expectations name text, not numbers."""
    text = Path(root, rel).read_text()
    i = text.index(needle)
    return Loc(os.path.join(root, rel), text.count("\n", 0, i) + 1, i - (text.rfind("\n", 0, i) + 1) + 1)


def read(root: str, e: dict[str, Val[str]] | None = None, **kw: object) -> Connections:
    return read_connections(root, e or {}, **kw)  # type: ignore[arg-type]
