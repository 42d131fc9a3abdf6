"""Which version of a library the image installs, and the line that says so.

Library defaults change between major versions (Flask-SQLAlchemy 2.x gives MySQL URLs a pool of
10 and reads ``SQLALCHEMY_POOL_SIZE``; 3.x does neither), so a pool size can depend on a pin.
Pins are read line by line from the files a Dockerfile installs from: ``requirements*.txt``
(also under ``requirements/``), ``pyproject.toml`` (PEP 621 and Poetry), ``setup.cfg``,
``Pipfile``, and the lock files ``poetry.lock`` / ``uv.lock`` when the
manifest gives only a range. Line-oriented reading keeps the line number, which a TOML
parser would lose, and tolerates files that are not valid TOML.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass

from scalelint.findings import Loc

__all__ = ["Pin", "find_pin"]

_SPEC = re.compile(r"(===|==|~=|>=|<=|!=|<|>|\^|~)?\s*v?(\d+(?:\.\d+)*(?:[a-z]+\d*)?)")
_MANIFESTS = ("requirements.txt", "pyproject.toml", "setup.cfg", "Pipfile", "setup.py")
_LOCKS = ("poetry.lock", "uv.lock")
_MAX_BYTES = 5_000_000


@dataclass(frozen=True)
class Pin:
    """A dependency as written: ``version`` is the exact version when pinned, else the spec."""

    name: str
    version: str | None  # "2.5.1"
    spec: str  # "==2.5.1", ">=2.4,<3", ""
    major: int | None  # the major version every matching release has, when the spec bounds it
    loc: Loc


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _candidates(root: str) -> list[str]:
    """Dependency files, the ones an image most likely installs from first."""
    found: list[str] = []
    try:
        names = sorted(os.listdir(root))
    except OSError:
        return found
    reqs = [n for n in names if n.startswith("requirements") and n.endswith((".txt", ".in"))]
    # production lists before development and test ones
    reqs.sort(key=lambda n: (n != "requirements.txt", any(w in n for w in ("dev", "test", "lint", "doc")), n))
    found.extend(reqs)
    if os.path.isdir(os.path.join(root, "requirements")):
        try:
            sub = sorted(os.listdir(os.path.join(root, "requirements")))
        except OSError:
            sub = []
        sub.sort(key=lambda n: (any(w in n for w in ("dev", "test", "lint", "doc", "local")), n))
        found.extend(os.path.join("requirements", n) for n in sub if n.endswith((".txt", ".in")))
    found.extend(n for n in _MANIFESTS[1:] if n in names)
    return found


def _read(path: str) -> list[str]:
    """A dependency file's lines; a missing or oversized file has none."""
    try:
        if os.path.getsize(path) > _MAX_BYTES:
            return []
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read().splitlines()
    except OSError:
        return []


def _major(spec: str) -> tuple[str | None, int | None]:
    """The exact version (when pinned) and the major version the spec allows, if only one."""
    exact: str | None = None
    lower: int | None = None
    upper: int | None = None
    for op, version in _SPEC.findall(spec):
        major = int(version.split(".")[0])
        if op in ("==", "===", "") and "*" not in spec:
            exact = version
            return exact, major
        if op in ("^", "~", "~="):
            return None, major
        if op in (">=", ">"):
            lower = major
        if op == "<":
            upper = major - 1 if version.split(".")[1:] in ([], ["0"], ["0", "0"]) else major
        if op == "<=":
            upper = major
    if upper is not None and (lower is None or lower == upper):
        return None, upper
    return None, None


def _pin_in_line(line: str, name: str) -> tuple[str, int] | None:
    """The version spec after ``name`` on a line and the name's column, or None when the line does not name it."""
    code = line.split("#", 1)[0]
    spelled = "[-_.]".join(re.escape(part) for part in re.split(r"[-_.]", name))
    pattern = r"(?<![\w.-])" + spelled + r"(?![\w.-])\s*(\[[^\]]*\])?"
    match = re.search(pattern, code, re.IGNORECASE)
    if not match:
        return None
    rest = code[match.end():].strip().strip("\"',")
    rest = rest.split(";", 1)[0]
    if rest.startswith("="):  # Poetry / Pipfile: name = "^2.5" or name = {version = "2.5"}
        rest = rest.lstrip("= ").strip()
        inline = re.search(r"version\s*=\s*[\"']([^\"']*)", rest)
        rest = inline.group(1) if inline else rest.strip("\"'{} ")
        if rest and rest[0].isdigit():
            rest = "==" + rest
        if rest == "*":
            rest = ""
    return rest.strip().strip("\"',"), match.start() + 1


def _from_lock(root: str, rel: str, name: str) -> Pin | None:
    """The locked version of ``name`` in a poetry.lock / uv.lock ``[[package]]`` table."""
    lines = _read(os.path.join(root, rel))
    wanted = _norm(name)
    for i, line in enumerate(lines):
        match = re.match(r'\s*name\s*=\s*"([^"]+)"', line)
        if match and _norm(match.group(1)) == wanted:
            for j in range(i + 1, min(i + 4, len(lines))):
                ver = re.match(r'\s*version\s*=\s*"([^"]+)"', lines[j])
                if ver:
                    return Pin(name, ver.group(1), "==" + ver.group(1), int(ver.group(1).split(".")[0]),
                               Loc(os.path.normpath(os.path.join(root, rel)), j + 1, lines[j].index('"') + 2))
    return None


def find_pin(root: str, name: str) -> Pin | None:
    """The first place the build context pins ``name``, most specific first; None when not listed."""
    ranged: Pin | None = None
    for rel in _candidates(root):
        for number, line in enumerate(_read(os.path.join(root, rel)), 1):
            stripped = line.strip()
            if not stripped or stripped.startswith(("#", "-")):
                continue
            found = _pin_in_line(line, name)
            if found is None:
                continue
            spec, column = found
            exact, major = _major(spec)
            pin = Pin(name, exact, spec, major, Loc(os.path.normpath(os.path.join(root, rel)), number, column))
            if exact is not None:
                return pin
            ranged = ranged or pin
    for rel in _LOCKS:
        locked = _from_lock(root, rel, name)
        if locked is not None:
            return locked
    return ranged
