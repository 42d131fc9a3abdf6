"""One engine or pool a process builds, and the arithmetic on pool settings.

Every number stays a :class:`~scalelint.model.Val`: where the setting was written (or, for a
library default, where the library is used or pinned) and whether it was read, defaulted or
could not be known. Sums keep the weakest status of their parts.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from scalelint.findings import Loc
from scalelint.model import State, Val, default, unknown
from scalelint.sources.python.values import V, combine, is_unknown

__all__ = ["Pool", "add", "as_count", "is_sqlite", "query_int", "url_text"]


@dataclass
class Pool:
    """Connections one engine or pool may hold in one process.

    ``total`` is ``pool_size + max_overflow`` for SQLAlchemy, ``max_size`` for asyncpg and
    psycopg pools; ``unbounded`` says why there is no ceiling (``NullPool``, ``pool_size=0``)."""

    library: str
    total: Val[int]
    where: Loc
    pool_size: Val[int] | None = None
    max_overflow: Val[int] | None = None
    unbounded: str | None = None
    why: str = ""  # why it counts (built at import, stored on app.state.pool in lifespan(), ...)
    reachable: bool | None = None  # imported by the application module (None: no application given)


def as_count(v: V | None, what: str, loc: Loc, fallback: Val[int] | None = None) -> Val[int] | None:
    """A setting as a non-negative int Val; a string is cast as the library would; None when absent."""
    if v is None or (not is_unknown(v) and v.value is None and fallback is not None):
        return fallback
    if is_unknown(v):
        return Val(None, v.loc or loc, State.UNKNOWN, f"{what}: {v.reason}" if v.reason else what)
    value = v.value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        return unknown(v.loc or loc, f"{what} is {value!r}, not a number")
    return Val(value, v.loc or loc, v.state, v.reason)


def add(parts: list[Val[int]], loc: Loc | None) -> Val[int]:
    """The sum of ``parts``, unknown (with the first reason) when any part is."""
    for part in parts:
        if is_unknown(part) or part.value is None:
            return Val(None, part.loc or loc, State.UNKNOWN, part.reason)
    state, reason = combine(*parts)
    return Val(sum(int(p.value or 0) for p in parts), loc, state, reason)


def url_text(v: V | None) -> str | None:
    if v is None or is_unknown(v) or not isinstance(v.value, str):
        return None
    return v.value


def is_sqlite(url: str | None) -> bool:
    return bool(url) and str(url).lower().startswith("sqlite")


def query_int(url: str | None, name: str, loc: Loc, where: Loc) -> Val[int] | None:
    """``?max_size=20`` style pool settings in a connection URL (databases, Tortoise)."""
    if not url:
        return None
    try:
        values = parse_qs(urlsplit(url).query).get(name)
    except ValueError:
        return None
    if not values:
        return None
    text = values[-1]
    return Val(int(text), loc, State.KNOWN) if text.isdigit() else unknown(loc, f"{name}={text!r} is not a number")


def library_default(value: int, where: Loc, reason: str) -> Val[int]:
    return default(value, where, reason)
