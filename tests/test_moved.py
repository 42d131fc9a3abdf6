"""Plugins written against the old flat layout still import, with a warning that names the new path."""
from __future__ import annotations

import subprocess
import sys

import pytest

from scalelint import _moved


@pytest.mark.parametrize("old", sorted(_moved.MOVED))
def test_every_old_module_imports_as_the_new_one(old: str) -> None:
    new = _moved.MOVED[old]
    code = (
        "import importlib, sys, warnings\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        f"    old = importlib.import_module({old!r})\n"
        f"new = importlib.import_module({new!r})\n"
        "assert old is new, (old, new)\n"
        "messages = [str(w.message) for w in caught if w.category is DeprecationWarning]\n"
        f"assert any({old!r} in m and {new!r} in m for m in messages), messages\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


def test_a_submodule_of_a_moved_package_is_not_loaded_twice() -> None:
    code = (
        "import warnings; warnings.simplefilter('ignore')\n"
        "from scalelint.templates.base import Template\n"
        "from scalelint.check.templates.base import Template as Same\n"
        "import sys\n"
        "assert Template is Same\n"
        "assert sys.modules['scalelint.templates.base'] is sys.modules['scalelint.check.templates.base']\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


def test_unknown_names_are_not_answered() -> None:
    assert _moved.new_name("scalelint.nothing") is None
    assert _moved.new_name("scalelint.kubernetes") is None  # a prefix of no moved name
    assert _moved.new_name("scalelint.templates.base") == "scalelint.check.templates.base"
    with pytest.raises(ModuleNotFoundError):
        __import__("scalelint.nothing_here")
