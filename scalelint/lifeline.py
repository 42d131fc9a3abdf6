"""Worker processes that die with their run: whatever ends the parent, no worker outlives it.

A worker spends its idle time blocked on the pool's task queue. If the parent goes away without
telling it (SIGKILL, a crash, ``os._exit`` after Ctrl-C or SIGTERM), nothing in multiprocessing
ends it: every worker holds the queue's write end too, so nobody ever reads EOF, and the workers
would wait forever. Each worker is therefore tied to its parent three ways, any one of which ends it:

- Linux: ``prctl(PR_SET_PDEATHSIG, SIGKILL)``, the kernel kills it when the parent dies;
- a lifeline, a pipe whose write end only the parent holds: EOF on it means the parent is gone
  (the kernel closes the parent's fds however it ends) or has abandoned the run;
- ``os.getppid()`` changing (re-parented to init or a subreaper), where there is no pipe to watch.
"""
from __future__ import annotations

import gc
import os
import sys
from typing import Any

PARENT_POLL = 0.2
#: ``<linux/prctl.h>``
_PR_SET_PDEATHSIG = 1


class Lifeline:
    """The parent's side of the pipe its forked workers watch.

    Only with ``fork``: a forked worker inherits both ends and closes the write end in its
    initializer, so the parent stays the only writer (a later fork closes its copy the same
    way). Nothing is ever written; EOF is the message. A spawned worker (macOS, Windows)
    gets no fds from here; it watches multiprocessing's own parent sentinel instead.
    """

    def __init__(self, fork: bool) -> None:
        self.read: int | None = None
        self.write: int | None = None
        if fork and os.name == "posix":
            self.read, self.write = os.pipe()

    def cut(self) -> None:
        """Close both ends: the workers read EOF and exit, whatever they were doing."""
        for fd in (self.write, self.read):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.read = self.write = None


def init_worker(parent: int, lifeline: int | None = None, parents_end: int | None = None,
                 deathsig: bool = False) -> None:
    """Prepare a worker process: no cycle collector, the parent's signals left to the parent, and
    tied to the parent so that it never outlives it (see the comment above :data:`PARENT_POLL`).

    ``parent`` is the parent's pid as the parent saw it; ``lifeline``/``parents_end`` are the
    read and write ends of :class:`Lifeline` (fork only); ``deathsig`` asks for the Linux
    parent-death signal, which is only right when the forking thread lives as long as the
    parent process (the kernel sends it when that *thread* exits).
    """
    import signal

    gc.disable()  # see no_gc(): a worker's garbage has no cycles, and it exits when the run ends
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; the parent then ends us
    if hasattr(signal, "SIGTERM"):  # a forked worker inherited the CLI's handler: SIGTERM ends a worker plainly
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if parents_end is not None:
        try:
            os.close(parents_end)  # our inherited copy: the parent must stay the only writer
        except OSError:
            pass
    if deathsig:
        _set_parent_death_signal(signal.SIGKILL)
    # the parent may have died before the line above took effect (it would then never fire),
    # or before this worker ran at all: re-parented already means the run is over
    if _parent_gone(parent):
        os._exit(1)
    watch = lifeline if lifeline is not None else _parent_sentinel()
    import threading

    threading.Thread(target=_watch_parent, args=(parent, watch), name="scalelint-parent-watch",
                     daemon=True).start()


def _set_parent_death_signal(sig: int) -> bool:
    """``prctl(PR_SET_PDEATHSIG, sig)`` through the C library; False where that is not available."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        # prctl is variadic: pass full-width unsigned longs, as the kernel reads them
        ulong = ctypes.c_ulong
        return int(libc.prctl(ctypes.c_int(_PR_SET_PDEATHSIG), ulong(sig), ulong(0), ulong(0), ulong(0))) == 0
    except (OSError, AttributeError, TypeError, ValueError):
        return False


def _parent_gone(parent: int) -> bool:
    # POSIX re-parents an orphan (to init or a subreaper), so its ppid changes; on Windows the
    # recorded ppid stays, and this answers False, leaving the lifeline (none there) and the pool's own handling
    return os.getppid() != parent


def _parent_sentinel() -> int | None:
    """multiprocessing's own pipe to a *spawned* worker's parent (EOF when the parent is gone), as a
    file descriptor; None where it is a Windows handle or missing."""
    if os.name != "posix":
        return None
    import multiprocessing

    proc = multiprocessing.parent_process()
    sentinel = getattr(proc, "sentinel", None) if proc is not None else None
    return sentinel if isinstance(sentinel, int) else None


def tolerate_cancel(future: Any) -> Any:
    """A future whose ``set_exception`` ignores that it was cancelled meanwhile.

    When a worker dies, the pool's manager thread marks every pending future broken; before
    CPython 3.12 (gh-107219) a future already cancelled — :meth:`Batch._chunk_results` cancels
    the chunks this process takes, :meth:`Batch.close` the ones nobody will read — makes it raise
    ``InvalidStateError``: the thread dies with a traceback on stderr and leaves the futures after
    that one pending — one still running in the dead worker would then be waited for forever
    instead of being done here. The fix of 3.12, applied to the futures of this pool only.
    """
    from concurrent.futures import InvalidStateError

    set_exception = future.set_exception

    def tolerant(exception: BaseException | None) -> None:
        try:
            set_exception(exception)
        except InvalidStateError:  # cancelled: nobody waits for its result
            pass

    future.set_exception = tolerant
    return future


def _watch_parent(parent: int, fd: int | None) -> None:
    """A worker's daemon thread: exit the moment ``fd`` reads EOF (nothing is ever written to it),
    or when ``os.getppid()`` shows the parent is gone. ``os._exit``: the main thread may be blocked
    on the task queue forever, and there is nothing to clean up that the kernel does not."""
    import select
    import time

    poller = None
    if fd is not None and hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
    while True:
        try:
            if poller is not None:
                ready = bool(poller.poll(int(PARENT_POLL * 1000)))
            elif fd is not None:
                ready = bool(select.select([fd], [], [], PARENT_POLL)[0])
            else:
                time.sleep(PARENT_POLL)
                ready = False
        except (OSError, ValueError):  # the fd is unusable here (Windows, FD_SETSIZE): the pid alone
            poller, fd, ready = None, None, False
        if ready or _parent_gone(parent):
            os._exit(1)


def pool_context() -> Any:
    import multiprocessing

    # fork on Linux: workers start in milliseconds with every module already imported
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()
