"""Shared test helpers: where the repository and the read-only shared data live."""
from __future__ import annotations

from pathlib import Path

import pytest

from scalelint.check.registry import Registry
from scalelint.config import Config
from scalelint.pipeline import Options, Run, run

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


@pytest.fixture
def root() -> Path:
    return ROOT


REGISTRY = Registry.load()


def pos(text: str, needle: str) -> tuple[int, int]:
    """1-based (line, column) of the first occurrence of ``needle``: expected positions are
    written as the text they point at, not as numbers that drift when a fixture changes."""
    at = text.index(needle)
    return text.count("\n", 0, at) + 1, at - (text.rfind("\n", 0, at) + 1) + 1


def write(tmp_path: Path, files: dict[str, str]) -> dict[str, str]:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return dict(files)


def lint(tmp_path: Path, files: dict[str, str], config: Config | None = None) -> Run:
    """Write ``files`` and lint the YAML among them (``.env`` and friends are read as the project's)."""
    write(tmp_path, files)
    yaml_files = [str(tmp_path / n) for n in files if n.endswith((".yaml", ".yml"))]
    return run(Options(paths=yaml_files), config or Config(), REGISTRY)
