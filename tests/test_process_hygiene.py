"""Worker processes die with the run that started them, however it ends.

A ``--jobs`` run forks workers that wait on a task queue. If nothing tied them to
their parent, a parent killed mid-run would leave them blocked there forever (the
bug these tests pin down): a CI job cancelled with SIGTERM, Ctrl-C in a terminal,
the OOM killer's SIGKILL. Real processes, real signals, no mocks: a run over a tree
big enough to last several seconds is started, its worker children are read from
``/proc``, the parent is signalled, and every worker must be gone within 2 s.

Only the command line is used (no scalelint module is imported), so that the tests
do not depend on where the package's modules live.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    os.name != "posix" or not os.path.isdir("/proc/self/task") or not os.path.exists(f"/proc/{os.getpid()}/stat"),
    reason="needs a Linux-style /proc to find the worker processes")

#: how long a worker may outlive its parent (the promise is one second; the margin is for a loaded CI machine)
GRACE = 2.0
#: small manifest files, plus a few big multi-document files: with --jobs 2 a run lasts several seconds
SMALL_FILES = 3000
BIG_FILES = 4
BIG_DOCUMENTS = 2500

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{i}
  namespace: team-{ns}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: app-{i}}}
  template:
    metadata:
      labels: {{app: app-{i}}}
    spec:
      containers:
        - name: web
          image: example/app-{i}:1.0
          command: ["gunicorn", "app:app", "--workers", "{workers}"]
          env:
            - name: DATABASE_URL
              value: postgresql://u:p@db.team-{ns}.svc.cluster.local:5432/app
          resources:
            requests: {{cpu: 250m, memory: 256Mi}}
            limits: {{cpu: "1", memory: 512Mi}}
"""
SERVICE = """\
apiVersion: v1
kind: Service
metadata: {{name: app-{i}, namespace: team-{ns}}}
spec:
  selector: {{app: app-{i}}}
  ports: [{{port: 80}}]
"""


def _manifest(i: int) -> str:
    return DEPLOYMENT.format(i=i, ns=i % 7, replicas=1 + i % 3, workers=(2, 4, 9)[i % 3]) + "---\n" + \
        SERVICE.format(i=i, ns=i % 7)


@pytest.fixture(scope="module")
def big_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3,000 small manifests in 30 directories and four ~5,000-document files, like a
    ``kubectl get -o yaml`` dump split by namespace."""
    top = tmp_path_factory.mktemp("hygiene") / "tree"
    for d in range(30):
        (top / f"dir-{d:02d}").mkdir(parents=True)
    for i in range(SMALL_FILES):
        (top / f"dir-{i % 30:02d}" / f"app-{i:05d}.yaml").write_text(_manifest(i))
    for b in range(BIG_FILES):
        base = 100_000 * (b + 1)
        body = "---\n".join(_manifest(base + k) for k in range(BIG_DOCUMENTS))
        (top / f"dump-{b}.yaml").write_text(body)
    return top


def _scalelint() -> list[str]:
    """The console script of the interpreter running the tests (what users run), else ``-m``."""
    script = Path(sys.executable).with_name("scalelint")
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    found = shutil.which("scalelint")
    return [found] if found else [sys.executable, "-m", "scalelint"]


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, ppid, start time) of a process, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            data = fh.read()
    except OSError:
        return None
    fields = data[data.rindex(")") + 2:].split()  # the command name may hold spaces and parentheses
    return fields[0], int(fields[1]), int(fields[19])


def _children(pid: int) -> list[int]:
    """Direct children of ``pid``: ``/proc/<pid>/task/*/children`` where the kernel has it, else
    every ``/proc/<n>/stat`` whose parent is ``pid``."""
    out: set[int] = set()
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    readable = False
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", encoding="ascii") as fh:
                out.update(int(x) for x in fh.read().split())
            readable = True
        except OSError:
            continue
    if not readable:
        for name in os.listdir("/proc"):
            if name.isdigit():
                st = _stat(int(name))
                if st is not None and st[1] == pid:
                    out.add(int(name))
    return sorted(out)


def _alive(pid: int, started: int) -> bool:
    """Still running: the same process (same start time), and not a zombie (a zombie is dead)."""
    st = _stat(pid)
    return st is not None and st[2] == started and st[0] not in ("Z", "X")


@pytest.fixture
def run(big_tree: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``scalelint check --jobs 2`` on the big tree, in a session of its own (so a signal to its
    process group reaches it and its workers only); whatever survives a test is killed after it."""
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "FORCE_COLOR", "NO_COLOR")}
    proc = subprocess.Popen([*_scalelint(), "check", "--isolated", "--format", "json", "--jobs", "2",
                             str(big_tree)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=env, start_new_session=True)
    try:
        yield proc
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        proc.kill()
        proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()


def _workers_at_work(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> dict[int, int]:
    """The worker processes of a run (pid → start time), once they exist and have had a moment to
    take work; fails if the run ends before (then the tree is too small to test anything)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the run ended (exit {proc.returncode}) before its workers were seen"
        kids = _children(proc.pid)
        if kids:
            time.sleep(0.5)  # into the run: workers busy with chunks, not still starting
            assert proc.poll() is None, "the run ended too soon: make the tree bigger"
            workers = {}
            for pid in _children(proc.pid):
                st = _stat(pid)
                if st is not None:
                    workers[pid] = st[2]
            assert workers
            return workers
        time.sleep(0.02)
    raise AssertionError(f"no worker process appeared within {timeout:g} s")


def _assert_all_gone(workers: dict[int, int], grace: float = GRACE) -> float:
    """Poll until every worker is dead; returns how long that took."""
    start = time.monotonic()
    while True:
        alive = [pid for pid, started in workers.items() if _alive(pid, started)]
        waited = time.monotonic() - start
        if not alive:
            return waited
        if waited > grace:
            raise AssertionError(f"worker(s) {alive} still alive {grace:g} s after their parent was stopped")
        time.sleep(0.02)


def _stderr(proc: subprocess.Popen[bytes]) -> str:
    assert proc.stderr is not None
    return proc.stderr.read().decode(errors="replace")


def test_workers_die_when_the_parent_is_killed(run: subprocess.Popen[bytes]) -> None:
    """SIGKILL: the parent runs no code at all; only the kernel (parent-death signal, the lifeline's EOF)
    can tell the workers."""
    workers = _workers_at_work(run)
    os.kill(run.pid, signal.SIGKILL)
    assert run.wait(timeout=5) == -signal.SIGKILL
    _assert_all_gone(workers)


def test_sigterm_stops_the_pool_and_exits_143(run: subprocess.Popen[bytes]) -> None:
    workers = _workers_at_work(run)
    os.kill(run.pid, signal.SIGTERM)  # the parent only, as `kill PID` or a CI runner's cancel does
    status = run.wait(timeout=5)
    _assert_all_gone(workers)
    err = _stderr(run)
    assert status == 143, err
    assert "Traceback" not in err and "Aborted" not in err, err


def test_ctrl_c_stops_the_pool_and_exits_130(run: subprocess.Popen[bytes]) -> None:
    """Ctrl-C: the terminal sends SIGINT to the whole foreground process group, workers included;
    they leave it to the parent, which stops them."""
    workers = _workers_at_work(run)
    os.killpg(run.pid, signal.SIGINT)
    status = run.wait(timeout=5)
    _assert_all_gone(workers)
    err = _stderr(run)
    assert status == 130, err
    assert "Traceback" not in err and "Aborted" not in err, err


def test_a_finished_run_leaves_no_worker_behind(big_tree: Path, tmp_path: Path) -> None:
    """The ordinary end: the pool is shut down and waited for before the process exits (through
    ``os._exit``), and the output does not depend on ``--jobs``."""
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "FORCE_COLOR", "NO_COLOR")}
    sub = big_tree / "dir-00"  # 100 files: a pool, and a short run
    seen: dict[int, int] = {}
    # output to a file, not a pipe nobody reads while the children are being watched
    with open(tmp_path / "out.json", "wb") as out, open(tmp_path / "err.txt", "wb") as err:
        proc = subprocess.Popen([*_scalelint(), "check", "--isolated", "--format", "json", "--jobs", "2", str(sub)],
                                stdout=out, stderr=err, env=env, start_new_session=True)
        try:
            deadline = time.monotonic() + 60
            while proc.poll() is None and time.monotonic() < deadline:
                for pid in _children(proc.pid):
                    st = _stat(pid)
                    if st is not None:
                        seen.setdefault(pid, st[2])
                time.sleep(0.005)
            proc.wait(timeout=5)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    assert proc.returncode in (0, 1), (tmp_path / "err.txt").read_text()
    assert seen, "no worker was seen: the run did not use a pool"
    _assert_all_gone(seen, grace=0.5)
    one = subprocess.run([*_scalelint(), "check", "--isolated", "--format", "json", "--jobs", "1", str(sub)],
                         capture_output=True, env=env, timeout=60, check=False)
    assert one.returncode == proc.returncode
    assert one.stdout == (tmp_path / "out.json").read_bytes()


def test_a_killed_worker_is_replaced_by_the_parent(big_tree: Path, tmp_path: Path) -> None:
    """The other way round: a worker killed (the OOM killer) breaks the pool; the parent does the
    rest of the work itself, the output is the output of ``--jobs 1``, and nothing is printed
    (Python < 3.12 printed the pool manager thread's InvalidStateError traceback here)."""
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "FORCE_COLOR", "NO_COLOR")}
    paths = [str(big_tree / f"dir-{d:02d}") for d in range(10)]  # 1,000 files: about a second
    argv = [*_scalelint(), "check", "--isolated", "--format", "json"]
    with open(tmp_path / "out.json", "wb") as out:
        proc = subprocess.Popen([*argv, "--jobs", "3", *paths], stdout=out, stderr=subprocess.PIPE, env=env,
                                start_new_session=True)
        try:
            deadline = time.monotonic() + 10
            kids: list[int] = []
            while not kids and proc.poll() is None and time.monotonic() < deadline:
                kids = _children(proc.pid)
                time.sleep(0.005)
            assert kids, "no worker was seen: the run did not use a pool"
            os.kill(kids[0], signal.SIGKILL)
            status = proc.wait(timeout=60)
            err = _stderr(proc)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    one = subprocess.run([*argv, "--jobs", "1", *paths], capture_output=True, env=env, timeout=60, check=False)
    assert err == one.stderr.decode(errors="replace"), err
    assert status == one.returncode
    assert (tmp_path / "out.json").read_bytes() == one.stdout
