"""Old module paths keep working, with a DeprecationWarning that names the new one.

Until 0.2 the package was one flat folder (``scalelint.loader``, ``scalelint.kube``,
``scalelint.templates.base`` ...). Plugins written against those paths still import:
a finder on ``sys.meta_path`` answers for the old names only, and hands out the module
that lives at the new path (the same module object, so ``isinstance`` checks agree).
"""
from __future__ import annotations

import sys
import warnings
from typing import Any

#: old module → where it lives now
MOVED = {
    "scalelint.baseline": "scalelint.output.baseline",
    "scalelint.compose": "scalelint.model.compose",
    "scalelint.configfile": "scalelint.config.file",
    "scalelint.discover": "scalelint.load.discover",
    "scalelint.docs": "scalelint.output.docs",
    "scalelint.engine": "scalelint.check.engine",
    "scalelint.entrypoints": "scalelint.check.entrypoints",
    "scalelint.fastyaml": "scalelint.load.fastyaml",
    "scalelint.formatters": "scalelint.output",
    "scalelint.helmmap": "scalelint.render.helmmap",
    "scalelint.interpolate": "scalelint.model.interpolate",
    "scalelint.kube": "scalelint.model.kube",
    "scalelint.loader": "scalelint.load.read",
    "scalelint.progress": "scalelint.output.progress",
    "scalelint.quantity": "scalelint.model.quantity",
    "scalelint.registry": "scalelint.check.registry",
    "scalelint.schemacheck": "scalelint.config.schema",
    "scalelint.shapes": "scalelint.model.shapes",
    "scalelint.sourcemap": "scalelint.render.sourcemap",
    "scalelint.spans": "scalelint.load.spans",
    "scalelint.templates": "scalelint.check.templates",
    "scalelint.yamltree": "scalelint.load.tree",
    "scalelint.analyze.argv": "scalelint.sources.argv",
    "scalelint.analyze.dbflags": "scalelint.sources.dbflags",
}


def new_name(old: str) -> str | None:
    """The current path of an old module name (also below a moved package), or None."""
    for prefix, target in MOVED.items():
        if old == prefix or old.startswith(prefix + "."):
            return target + old[len(prefix):]
    return None


class MovedFinder:
    """A meta path finder for the old names; every other import is left to the normal machinery."""

    @classmethod
    def find_spec(cls, fullname: str, path: Any = None, target: Any = None) -> Any:
        if not fullname.startswith("scalelint."):
            return None
        new = new_name(fullname)
        if new is None:
            return None
        from importlib.util import spec_from_loader

        loader: Any = _Alias(fullname, new)
        return spec_from_loader(fullname, loader)


class _Alias:
    def __init__(self, old: str, new: str) -> None:
        self.old, self.new = old, new

    def create_module(self, spec: Any) -> Any:
        import importlib

        warnings.warn(f"{self.old} has moved to {self.new}; import it from there (the old path will be removed)",
                      DeprecationWarning, stacklevel=3)
        return importlib.import_module(self.new)

    def exec_module(self, module: Any) -> None:
        return None  # the module at the new path is already executed


def install() -> None:
    if not any(f is MovedFinder for f in sys.meta_path):
        sys.meta_path.insert(0, MovedFinder)  # before the path finder, which would load a second copy
