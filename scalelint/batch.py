"""Per-file work of a run — read, parse, classify, model — in worker processes when there are many files.

Everything here depends on one file only, so several processes can do it side by
side. The parent takes the results in input order (chunks are consumed in the
order they were submitted), which makes a run's output byte-identical whatever
``--jobs`` is. Graphs, facts and rules — everything that looks across files —
stay in the parent. (Running some rules in a forked copy of the parent was tried
and measured slower: reading the model in the child updates every object's
reference count, so copy-on-write copies nearly all of it.)

A file's YAML tree does not outlive its file: objects are modelled right away and
the tree is dropped (see :class:`scalelint.model.kube.Modeled`), so memory grows with the
model, not with the bytes read, and a worker sends back a few small objects per
manifest rather than a positioned tree.
"""
from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from scalelint.findings import Notice
from scalelint.lifeline import Lifeline, init_worker, pool_context, tolerate_cancel
from scalelint.load.discover import _is_compose_name
from scalelint.load.parse import LoadError, iter_documents
from scalelint.load.read import LoadedFile, Suppressions, load_text, looks_like_helm, read_text, scan_suppressions
from scalelint.load.tree import Pos, YMap
from scalelint.model import kube, shapes

STDIN = "-"
#: a process pool pays for itself only past this many files or bytes (a pre-commit run never forks)
MIN_FILES = 64
MIN_BYTES = 2 * 1024 * 1024
#: at most this many files per task sent to a worker (about 16 tasks per process: the load balances
#: and the last tasks, which nobody can help with, are short)
CHUNK_MAX = 64

Progress = Callable[[int, int], None]


class FileResult:
    """What one file contributes to a run, as plain picklable data (a slotted class: cheap to
    create at import, to build, and to send back from a worker)."""

    __slots__ = (
        "compose_root",
        "documents",
        "error",
        "explicit",
        "extra_suppressions",
        "helm",
        "notices",
        "objects",
        "path",
        "suppressions",
    )

    def __init__(self, path: str, explicit: bool, suppressions: Suppressions | None = None,
                 documents: int = 0) -> None:
        self.path = path
        self.explicit = explicit
        #: (message, position) of an SL000 problem
        self.error: tuple[str, Pos] | None = None
        #: a Helm template: where its first ``{{`` is
        self.helm: Pos | None = None
        self.suppressions = suppressions if suppressions is not None else Suppressions()
        #: a compose file's root mapping (compose projects merge across files: modelled by the parent)
        self.compose_root: YMap | None = None
        self.objects: list[kube.Modeled] = []
        self.documents = documents
        #: ``# Source:`` files of a rendered stream on stdin → their suppressions
        self.extra_suppressions: dict[str, Suppressions] | None = None
        #: wrong types where the models read (:mod:`scalelint.model.shapes`)
        self.notices: list[Notice] = []

    @property
    def found(self) -> bool:
        return self.compose_root is not None or bool(self.objects)


def helm_pos(text: str) -> Pos:
    for lineno, line in enumerate(text.splitlines(), 1):
        col = line.find("{{")
        if col != -1:
            return lineno, col + 1
    return 1, 1


def classify(lf: LoadedFile, explicit: bool, keep_raw: bool) -> FileResult:
    """A loaded file → a compose root, modelled Kubernetes objects, a problem, or nothing."""
    res = FileResult(lf.path, explicit, suppressions=lf.suppressions, documents=len(lf.documents))
    if lf.error is not None:
        res.error = (lf.error.message, lf.error.pos)
        return res
    if lf.skip_reason == "helm":
        res.helm = helm_pos(lf.text)
        return res
    first = lf.documents[0].root if lf.documents else None
    if ((_compose_name(os.path.basename(lf.path)) or _looks_like_compose(first)) and isinstance(first, dict)
            and (_looks_like_compose(first) or not kube.is_object(first))):
        res.compose_root = first  # type: ignore[assignment]
        return res
    if lf.path == STDIN:
        from scalelint import render

        keep_raw = True  # one stream, modelled in this process: its trees cost nothing to keep
        mapped = render.map_stdin(lf.text, lf.documents)
        if mapped is not None:  # a rendered stream: objects point at its `# Source:` / origin files
            res.extra_suppressions = mapped.suppressions
            res.objects = [kube.model_object(obj, path, keep_raw) for obj, path in mapped.objects]
            for obj, path in mapped.objects:
                res.notices.extend(shapes.kube_notices(obj, path))
            if res.objects:
                return res
    for doc in lf.documents:
        for obj in kube.flatten(doc.root):
            res.objects.append(kube.model_object(obj, lf.path, keep_raw))
        res.notices.extend(shapes.document_notices(doc.root, lf.path))
    return res


def _compose_name(name: str) -> bool:
    return _is_compose_name(name.lower())


def _looks_like_compose(root: Any) -> bool:
    # compose.looks_like_compose, without importing the compose model for every Kubernetes file
    return (isinstance(root, dict) and isinstance(root.get("services"), dict)
            and "apiVersion" not in root and "kind" not in root)


def work_file(path: str, explicit: bool, keep_raw: bool) -> FileResult | None:
    """One file from disk; None for a JSON file found by the walk that is no manifest (package.json)."""
    try:
        text = read_text(path)
    except LoadError as exc:
        return classify(LoadedFile(path=path, error=exc), explicit, keep_raw)
    if not explicit and path.lower().endswith(".json") and "apiVersion" not in text:
        return None
    if keep_raw or looks_like_helm(text) or _compose_name(os.path.basename(path)):
        return classify(load_text(path, text), explicit, keep_raw)
    return _stream(path, text, explicit)


def _stream(path: str, text: str, explicit: bool) -> FileResult:
    """Kubernetes objects modelled document by document, each tree dropped once modelled: memory
    follows the model, not the file (SPEC §6). Anything unusual (a compose file by its shape, a
    parse error the pure parser may forgive, Helm text) takes the ordinary path."""
    res = FileResult(path, explicit, suppressions=scan_suppressions(text))
    count = 0
    try:
        for doc in iter_documents(text, path):
            count += 1
            root = doc.root
            if count == 1 and _looks_like_compose(root) and not kube.is_object(root):
                return classify(load_text(path, text), explicit, False)
            for obj in kube.flatten(root):
                res.objects.append(kube.model_object(obj, path, False))
            res.notices.extend(shapes.document_notices(root, path))
    except LoadError:
        return classify(load_text(path, text), explicit, False)
    res.documents = count
    return res


def _work_chunk(chunk: list[tuple[str, bool]], keep_raw: bool) -> list[FileResult | None]:
    return [work_file(path, explicit, keep_raw) for path, explicit in chunk]


@contextmanager
def no_gc() -> Iterator[None]:
    """Switch the cycle collector off for the run: positioned trees and model objects are
    millions of small containers without cycles, and collecting them as they are made
    doubles the time of a large run. Reference counting still frees everything."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def auto_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))  # type: ignore[attr-defined]
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _worth_a_pool(paths: list[str]) -> bool:
    if len(paths) >= MIN_FILES:
        return True
    total = 0
    for path in paths:
        try:
            total += os.stat(path).st_size
        except OSError:
            continue
        if total >= MIN_BYTES:
            return True
    return False


class Batch:
    """The files of a run, worked on as soon as the batch is made; iterate for results in input order.

    ``jobs`` > 1 starts a process pool when the files are worth it (:data:`MIN_FILES`,
    :data:`MIN_BYTES`); the parent can meanwhile do other work (rendering) before it
    iterates. A pool that breaks (a worker killed) is not fatal: the rest is done here.
    """

    def __init__(self, targets: list[tuple[str, bool]], keep_raw: bool, jobs: int = 1,
                 progress: Progress | None = None) -> None:
        self.targets = targets
        self.keep_raw = keep_raw
        self.progress = progress
        self.jobs = auto_jobs() if jobs <= 0 else jobs
        self._executor: Any = None
        self._lifeline = Lifeline(fork=False)
        self._chunks: list[list[tuple[str, bool]]] = []
        self._futures: list[Any] = []
        if self.jobs > 1 and _worth_a_pool([p for p, _ in targets]):
            self._start()

    @property
    def parallel(self) -> bool:
        """Whether the files went to a pool (stays true after the batch is consumed)."""
        return bool(self._chunks)

    def _start(self) -> None:
        """Chunks in input order, all offered to ``jobs - 1`` workers, which take them from the front;
        this process takes the ones still waiting from the back (see :meth:`_chunk_results`)."""
        from concurrent.futures import Future, ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool

        n = len(self.targets)
        size = max(1, min(CHUNK_MAX, -(-n // (self.jobs * 16))))
        self._chunks = [self.targets[i:i + size] for i in range(0, n, size)]
        if len(self._chunks) < 2:
            self._chunks = []
            return
        workers = min(self.jobs - 1, len(self._chunks) - 1)
        import threading

        context = pool_context()
        fork = context.get_start_method() == "fork"
        self._lifeline = Lifeline(fork)
        # the parent-death signal follows the forking *thread*: only safe from the main thread, and
        # only with fork (a forkserver worker's parent is the server)
        deathsig = fork and threading.current_thread() is threading.main_thread()
        initargs = (os.getpid(), self._lifeline.read, self._lifeline.write, deathsig)
        self._executor = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=init_worker,
                                             initargs=initargs)
        self._futures = []
        for chunk in self._chunks:
            try:
                future = tolerate_cancel(self._executor.submit(_work_chunk, chunk, self.keep_raw))
            except BrokenProcessPool as exc:
                # a worker died while the chunks were still being handed out: the pool takes no more,
                # and these chunks fail the way a dead worker's do, so that this process does them
                future = Future()
                future.set_exception(exc)
            except OSError:  # no worker could be started at all (fork failed): a run without a pool
                if not self._futures:
                    self._abandon_pool()
                    return
                raise
            self._futures.append(future)

    def _abandon_pool(self) -> None:
        """Forget a pool that could not start: the batch is worked on here, as a run without one."""
        executor, self._executor = self._executor, None
        self._chunks, self._futures = [], []
        self._lifeline.cut()
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    def __iter__(self) -> Iterator[FileResult | None]:
        total, done = len(self.targets), 0
        try:
            if self._executor is None:
                for path, explicit in self.targets:
                    res = work_file(path, explicit, self.keep_raw)
                    done += 1
                    self._tick(done, total)  # before the hand-over: the consumer stops after the last one
                    yield res
                return
            for results in self._chunk_results():
                yield from results
        finally:
            self.close()

    def _chunk_results(self) -> Iterator[list[FileResult | None]]:
        """Each chunk's results in input order, this process working too: while the chunk due next
        is still in a worker, it cancels the last chunk no worker has started and does that one
        itself. Workers eat from the front and this process from the back, so nobody waits idle
        and the order of the output is the order of the input."""
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        total, done = len(self.targets), 0
        mine: dict[int, list[FileResult | None]] = {}
        back = len(self._futures) - 1
        for i, future in enumerate(self._futures):
            while i not in mine and not future.done():
                while back > i and (back in mine or not self._futures[back].cancel()):
                    back -= 1
                take = back if back > i else (i if future.cancel() else None)
                if take is None:
                    wait([future], return_when=FIRST_COMPLETED)
                    continue
                mine[take] = _work_chunk(self._chunks[take], self.keep_raw)
                done += len(self._chunks[take])
                self._tick(done, total)
            if i in mine:
                results = mine.pop(i)
            else:
                try:
                    results = future.result()
                except BrokenProcessPool:  # a worker was killed: do its part here
                    results = _work_chunk(self._chunks[i], self.keep_raw)
                done += len(results)
                self._tick(done, total)
            yield results

    def close(self) -> None:
        """Stop the workers. Once every result is in they are idle, and leave as soon as asked. A run
        that stops before that (an error, Ctrl-C, SIGTERM, a consumer that stopped early) must not
        wait for chunks still being worked on — a chunk can be one 40 MB file: the lifeline is cut
        first, so the workers exit at once, and the pool is not waited for. Safe to call twice."""
        executor, self._executor = self._executor, None
        if executor is None:
            self._lifeline.cut()
            return
        finished = all(f.done() for f in self._futures)
        if not finished:
            self._lifeline.cut()
        executor.shutdown(wait=finished, cancel_futures=True)
        self._lifeline.cut()

    def _tick(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(done, total)
