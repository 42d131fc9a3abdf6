"""Context files read only as far as references need them (SPEC §11).

A named file (a pre-commit run) may refer to objects in other files of its repository, and
other files may refer to it (the clients of a database it defines). Reading them all would
make a one-file run as slow as the largest generated sibling. Instead, a candidate file is
read only when its text mentions one of the names the objects read so far refer to or are
referred to by — a plain substring search over the bytes, word-bounded, before any parsing.
"""
from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable

#: a name shorter than this matches too much text to narrow anything down
MIN_NAME = 3
#: words every manifest contains: never a reason to read a file
COMMON = frozenset({
    "app", "apps", "default", "true", "false", "name", "kind", "spec", "data", "metadata", "http", "https", "tcp",
    "udp", "none", "null", "yes", "always", "never", "latest", "component", "version",
})
_WORD = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


def useful(names: Iterable[str]) -> set[str]:
    """The names worth searching for: long enough and not a word every manifest has."""
    return {n for n in names if len(n) >= MIN_NAME and n.lower() not in COMMON}


#: past this many names a file is split into its words once, instead of searched once per name
MANY_NAMES = 64
_WORDS = re.compile(rb"[A-Za-z0-9_-]+")


def mentions(path: str, names: set[str], limit: int = 64 * 1024 * 1024) -> bool:
    """Whether the file's text contains one of ``names`` as a whole word (not a part of a longer name).

    Regular files only (a FIFO named ``x.yaml`` is never opened), at most ``limit`` bytes. A few
    names are searched for one by one (a C-speed scan each); many (a named file that is a dump of a
    whole cluster) against the file's set of words, whatever their number.
    """
    if not names:
        return False
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
            return False
        with open(path, "rb") as fh:
            data = fh.read(limit)
    except OSError:
        return False
    if len(names) > MANY_NAMES:
        words = {w.decode("utf-8", "surrogateescape") for w in _WORDS.findall(data)}
        return not words.isdisjoint(n.split(".", 1)[0] for n in names)
    for name in names:
        needle = name.encode("utf-8", "surrogateescape")
        start = data.find(needle)
        while start != -1:
            end = start + len(needle)
            before = data[start - 1] if start else 0
            after = data[end] if end < len(data) else 0
            if before not in _WORD and after not in _WORD:
                return True
            start = data.find(needle, start + 1)
    return False


__all__ = ["COMMON", "mentions", "useful"]
