"""A progress counter on stderr for long runs on a terminal: ``\\r``-redrawn, cleared at the end.

Drawn only when stderr is a terminal and the output is text (machine formats and
pipes get nothing), and only once a run turns out to read many files.
"""
from __future__ import annotations

import time
from typing import Any, TextIO

#: fewer files than this finish before a counter would be worth reading
MIN_FILES = 200
INTERVAL = 0.1


class Bar:
    def __init__(self, stream: TextIO, min_files: int = MIN_FILES, interval: float = INTERVAL) -> None:
        self.stream = stream
        self.min_files = min_files
        self.interval = interval
        self._last = 0.0
        self._width = 0

    def __call__(self, done: int, total: int) -> None:
        if total < self.min_files:
            return
        now = time.monotonic()
        if done < total and now - self._last < self.interval:
            return
        self._last = now
        text = f"scalelint: {done}/{total} files read" + (", checking" if done >= total else "")
        self.stream.write("\r" + text.ljust(self._width))
        self.stream.flush()
        self._width = max(self._width, len(text))

    def close(self) -> None:
        """Leave the line as it was found."""
        if self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0


def for_stream(stream: Any, fmt: str) -> Bar | None:
    """A bar for ``stream`` when a person is watching it; None for machine formats and pipes."""
    if fmt != "text":
        return None
    isatty = getattr(stream, "isatty", None)
    try:
        if isatty is None or not isatty():
            return None
    except ValueError:  # a closed stream
        return None
    return Bar(stream)
