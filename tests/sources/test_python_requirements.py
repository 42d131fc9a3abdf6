"""Library versions from the files an image installs from, with the line that pins them."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from scalelint.sources.python.requirements import find_pin


def write(tmp_path: Path, files: dict[str, str]) -> str:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return str(tmp_path)


@pytest.mark.parametrize("name,text,version,major,line", [
    ("requirements.txt", "# deps\n#   flask-sqlalchemy\nFlask_SQLAlchemy==2.5.1 ; python_version>'3'\n", "2.5.1", 2, 3),
    ("requirements.txt", "flask-sqlalchemy[async]>=2.4,<3.0\n", None, 2, 1),
    ("requirements.txt", "flask-sqlalchemy~=3.0.5\n", None, 3, 1),
    ("requirements.txt", "flask-sqlalchemy>=2.4\n", None, None, 1),
    ("requirements.txt", "flask-sqlalchemy-utils==9.9\nflask-sqlalchemy\n", None, None, 2),
    ("pyproject.toml", '[project]\ndependencies = [\n    "flask-sqlalchemy==2.5.1",\n]\n', "2.5.1", 2, 3),
    ("pyproject.toml", '[tool.poetry.dependencies]\nflask-sqlalchemy = "^2.5"\n', None, 2, 2),
    ("pyproject.toml", '[tool.poetry.dependencies]\nflask-sqlalchemy = {version = "3.1.1", extras = []}\n',
     "3.1.1", 3, 2),
    ("Pipfile", '[packages]\nflask-sqlalchemy = "==2.5.1"\n', "2.5.1", 2, 2),
    ("setup.cfg", "[options]\ninstall_requires =\n    Flask-SQLAlchemy==2.4.4\n", "2.4.4", 2, 3),
    ("requirements/base.txt", "flask-sqlalchemy==3.0.0\n", "3.0.0", 3, 1),
])
def test_pins(tmp_path: Path, name: str, text: str, version: str | None, major: int | None, line: int) -> None:
    root = write(tmp_path, {name: text})
    pin = find_pin(root, "flask-sqlalchemy")
    assert pin is not None
    assert (pin.version, pin.major, pin.loc.line) == (version, major, line)
    assert pin.loc.path == os.path.join(root, name)


def test_production_list_before_development_and_lock_file_for_ranges(tmp_path: Path) -> None:
    root = write(tmp_path, {"requirements-dev.txt": "flask-sqlalchemy==3.1.1\n",
                            "requirements.txt": "flask-sqlalchemy==2.5.1\n"})
    pin = find_pin(root, "flask-sqlalchemy")
    assert pin is not None and pin.version == "2.5.1"
    root = write(tmp_path / "lock", {"pyproject.toml": '[project]\ndependencies = ["flask-sqlalchemy>=2"]\n',
                                     "poetry.lock": '[[package]]\nname = "Flask-SQLAlchemy"\nversion = "2.5.1"\n'})
    pin = find_pin(root, "flask-sqlalchemy")
    assert pin is not None and (pin.version, pin.major, pin.loc.line) == ("2.5.1", 2, 3)


def test_not_listed(tmp_path: Path) -> None:
    assert find_pin(write(tmp_path, {"requirements.txt": "django==5.0\n"}), "flask-sqlalchemy") is None
    assert find_pin(str(tmp_path / "missing"), "flask-sqlalchemy") is None
