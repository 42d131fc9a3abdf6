"""The console script: ``scalelint`` as a process, around :func:`scalelint.cli.main`.

What only a short-lived process needs: no cycle collector, no interpreter teardown (output
is flushed, then the process ends), one line instead of a traceback for anything unexpected
(exit 2), and Ctrl-C / SIGTERM ending the run at once with 130 / 143 after every ``finally``
has run (the pipeline's stops the worker processes, see :mod:`scalelint.lifeline`).
"""
from __future__ import annotations

import os
import sys
from typing import Any

import click

from scalelint.cli import main


def entry() -> None:
    """Console-script entry: any unexpected exception is exit 2 with one line, never a traceback.

    A run is one short process, so it skips what only long-lived ones need: the cycle collector
    (the model is millions of small objects without cycles; collecting them as they are made costs
    a tenth of a large run) and the interpreter's teardown, which frees every object one by one
    (10 ms of a one-file run): output is flushed, then the process ends.

    Ctrl-C and SIGTERM end a run with the shell's conventional status (130, 143) and no traceback,
    after the ``finally`` blocks on the way out have stopped any worker processes.
    """
    import gc

    gc.disable()
    _catch_stop_signals()
    code: Any = 0
    try:
        _entry()
    except SystemExit as exc:
        code = exc.code
    except _Stopped as exc:
        code = exc.status
    while True:  # a first signal that lands between here and _exit's reset: exit with its status
        try:
            _exit(code)
        except _Stopped as exc:
            code = exc.status


class _Stopped(BaseException):
    """SIGINT (Ctrl-C) or SIGTERM reached a console-script run: exit 128 + the signal's number.

    A BaseException of our own, raised in the main thread by :func:`_on_stop_signal`: click
    turns KeyboardInterrupt into "Aborted!" and exit 1, and nothing catches this one on its way
    up, so every ``finally`` runs — the pipeline's closes its batch, which stops the worker
    processes at once rather than letting them finish (``scalelint.batch``) — and no traceback
    is printed.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.status = 128 + signum


#: the process that installed the handlers, and whether a stop is already under way
_stop_state: dict[str, int] = {"pid": 0, "stopping": 0}


def _catch_stop_signals() -> None:
    """SIGINT and SIGTERM raise :class:`_Stopped` in the run (only in the console script: a program
    that calls :func:`main` keeps its own signal handling)."""
    import signal

    _stop_state["pid"] = os.getpid()
    for name in ("SIGINT", "SIGTERM"):
        signum = getattr(signal, name, None)
        if signum is None:
            continue
        try:
            signal.signal(signum, _on_stop_signal)
        except (ValueError, OSError):  # not the main thread, or a platform without it
            pass


def _on_stop_signal(signum: int, frame: Any) -> None:
    import signal

    if os.getpid() != _stop_state["pid"]:
        # a worker forked from this process, before its initializer replaced the handlers:
        # Ctrl-C is the parent's business, SIGTERM ends a worker the default way
        if signum == getattr(signal, "SIGTERM", None):
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
        return
    if _stop_state["stopping"]:  # a second signal while the first one unwinds: stop now
        os._exit(128 + signum)
    _stop_state["stopping"] = 1
    raise _Stopped(signum)


def _exit(code: Any) -> None:
    _default_stop_signals()  # from here on a signal ends the process the default way, mid-flush or not
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # sys.exit("message"): Python prints it and exits 1
        print(code, file=sys.stderr)
        status = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (BrokenPipeError, ValueError):  # the reader left, or the stream is closed
            status = status or 1
    os._exit(status)


def _default_stop_signals() -> None:
    """Back to the default actions once the run is over: a signal during the final flush should end
    the process as it would any program, not raise into code that is no longer there to catch it."""
    if not _stop_state["pid"]:
        return
    import signal

    for name in ("SIGINT", "SIGTERM"):
        signum = getattr(signal, name, None)
        if signum is not None:
            try:
                signal.signal(signum, signal.SIG_DFL)
            except (ValueError, OSError):
                pass


def _entry() -> None:
    # a file name that is not UTF-8 (surrogate escapes) is written as `\udcff`, not an exit 2
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:
        try:
            reconfigure(errors="backslashreplace")
        except (ValueError, OSError):
            pass
    try:
        main(standalone_mode=True)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # pragma: no cover - the last line of defence
        if os.environ.get("SCALELINT_DEBUG"):
            raise
        click.echo(f"scalelint: internal error: {type(exc).__name__}: {exc} "
                   "(set SCALELINT_DEBUG=1 for the traceback)", err=True)
        sys.exit(2)
