"""libyaml's composer (``ruamel.yaml.clib``) with a resolver that costs one dict look-up per scalar.

``YAML(typ="safe", pure=False).compose_all`` builds a new loader class for every
stream and asks ruamel's versioned resolver, in Python, for the tag of every
scalar; on Kubernetes manifests that is two thirds of the parse. Here the
loader class is made once, and its resolver is ruamel's own YAML 1.2
implicit-resolver table indexed by first character, returning shared ``Tag``
objects: the same nodes, tags, marks and errors as ruamel's C loader
(``tests/test_fastyaml.py`` compares them), about three times faster.

:func:`tag_text` reads a node's tag without ruamel's per-access ``Tag``-to-text
conversion. Without the C extension :data:`AVAILABLE` is False and the loader
uses ruamel's pure-Python parser instead.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

try:
    from _ruamel_yaml import CParser
except ImportError:  # pragma: no cover - ruamel.yaml.clib not installed (PyPy, exotic platforms)
    CParser = None

from ruamel.yaml.nodes import ScalarNode, SequenceNode
from ruamel.yaml.resolver import implicit_resolvers
from ruamel.yaml.tag import Tag

AVAILABLE = CParser is not None
_PREFIX = "tag:yaml.org,2002:"
#: the shared Tag of each standard tag, and its text by ``id`` for :func:`tag_text`
_TAGS: dict[str, Tag] = {}
_TEXT: dict[int, str] = {}


def _tag(text: str) -> Tag:
    tag = _TAGS.get(text)
    if tag is None:
        tag = _TAGS[text] = Tag(suffix=text)
        _TEXT[id(tag)] = str(tag)
    return tag


_STR, _SEQ, _MAP = _tag(_PREFIX + "str"), _tag(_PREFIX + "seq"), _tag(_PREFIX + "map")
#: ruamel's implicit resolvers for YAML 1.2 — the version its C loader resolves with (it never
#: sees a ``%YAML`` directive's version) — in its order: (tag, pattern, first characters or None)
_RESOLVERS = [(_tag(name), regexp, set(first) if first else None)
              for versions, name, regexp, first in implicit_resolvers if (1, 2) in versions]
#: first character of a plain scalar → [(tag, match)], filled as characters are met: a run
#: compiles only the patterns its scalars can need
_IMPLICIT: dict[str, list[tuple[Tag, Any]]] = {}
_MATCH: dict[int, Any] = {}


def _resolvers(first: str) -> list[tuple[Tag, Any]]:
    # those for any first character come after the specific ones, as in ruamel (none in YAML 1.2)
    chosen = [i for i, (_, _, chars) in enumerate(_RESOLVERS) if chars is not None and first in chars]
    chosen += [i for i, (_, _, chars) in enumerate(_RESOLVERS) if chars is None]
    out = []
    for i in chosen:
        if i not in _MATCH:
            regexp = _RESOLVERS[i][1]
            # ruamel wraps each pattern in a LazyEval whose every attribute access runs Python code
            _MATCH[i] = regexp.lazy_self().match if hasattr(regexp, "lazy_self") else regexp.match
        out.append((_RESOLVERS[i][0], _MATCH[i]))
    _IMPLICIT[first] = out
    return out


def tag_text(node: Any) -> str | None:
    """``node.tag`` without building the text again on every access."""
    ctag = node.ctag
    text = _TEXT.get(id(ctag))  # the shared tags live as long as the module: their ids are theirs
    if text is not None:
        return text
    return None if ctag is None else str(ctag)


if CParser is not None:

    class _Loader(CParser):  # type: ignore[misc, valid-type]
        """libyaml's parser and composer; only the resolver is ours."""

        def resolve(self, kind: Any, value: Any, implicit: Any) -> Tag:
            if kind is ScalarNode:
                if implicit[0]:
                    first = value[:1]
                    resolvers = _IMPLICIT.get(first)
                    if resolvers is None:
                        resolvers = _resolvers(first)
                    for tag, match in resolvers:
                        if match(value):
                            return tag
                return _STR
            return _SEQ if kind is SequenceNode else _MAP

        def descend_resolver(self, parent: Any, index: Any) -> None:
            return None

        def ascend_resolver(self) -> None:
            return None


def compose_all(text: str) -> Iterator[Any]:
    """Every document's root node (None for an empty one), like ruamel's ``compose_all``."""
    loader = _Loader(text)
    try:
        while loader.check_node():
            yield loader.get_node()
    finally:
        loader.dispose()
