#!/usr/bin/env python3
"""scalelint's performance figures, measured against its floor and its peers in one run.

Every figure is a whole process (start, import, read, lint, print, exit) timed from
outside; each is the median of interleaved runs (run A, run B, run A, run B, ...),
so that a noisy moment of the machine hurts every contender alike.

    python benchmarks/bench.py            # everything (about 10 minutes on 2 cores: checkov, the 40 MB file)
    python benchmarks/bench.py --quick    # fewer runs, no 10,000-document tree, no 40 MB file
    python benchmarks/bench.py --only bigfile   # one section (see --help)
    python benchmarks/bench.py --no-peers # scalelint and its floor only

Generated trees and peer installs live in ``benchmarks/_work/`` (git-ignored);
see ``benchmarks/README.md`` for how to install the peers and what each line means.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
WORK = os.path.join(HERE, "_work")
GENERATOR_VERSION = "2"

# --------------------------------------------------------------------------- trees

_FRAMEWORKS = [
    (["gunicorn"], ["app.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "{w}", "--timeout", "30"]),
    (["uvicorn"], ["app.main:app", "--host", "0.0.0.0", "--port", "8000", "--workers", "{w}"]),
    (["sh", "-c"], ["exec gunicorn app.wsgi -w {w} -k uvicorn.workers.UvicornWorker --bind :8000"]),
    (["celery"], ["-A", "app", "worker", "--concurrency", "{w}", "--loglevel", "INFO"]),
    (None, ["python", "-m", "app.server", "--port", "8000"]),
]


def _deployment(i: int, ns: str, rnd: random.Random, db_host: str) -> str:
    name = f"app-{i:05d}"
    command, args = rnd.choice(_FRAMEWORKS)
    workers = rnd.choice([2, 4, 4, 8])
    cpu = rnd.choice(["250m", "500m", "1", "2"])
    limit_cpu = rnd.choice(['"1"', '"2"', "1500m"])
    mem = rnd.choice(["256Mi", "512Mi", "1Gi"])
    limit_mem = rnd.choice(["512Mi", "1Gi", "2Gi"])
    lines = [
        "apiVersion: apps/v1",
        "kind: Deployment",
        "metadata:",
        f"  name: {name}",
        f"  namespace: {ns}",
        "  labels:",
        f"    app.kubernetes.io/name: {name}",
        "    app.kubernetes.io/part-of: shop",
        f"    team: {ns}",
        "  annotations:",
        f"    deployment.kubernetes.io/revision: \"{rnd.randint(1, 40)}\"",
        "spec:",
        f"  replicas: {rnd.choice([1, 2, 3, 3, 4, 6])}",
        "  revisionHistoryLimit: 5",
        "  selector:",
        "    matchLabels:",
        f"      app.kubernetes.io/name: {name}",
        "  strategy:",
        "    type: RollingUpdate",
        "    rollingUpdate:",
        "      maxSurge: 25%",
        "      maxUnavailable: 0",
        "  template:",
        "    metadata:",
        "      labels:",
        f"        app.kubernetes.io/name: {name}",
        f"        team: {ns}",
        "    spec:",
        f"      serviceAccountName: {name}",
        "      securityContext:",
        "        runAsNonRoot: true",
        "        runAsUser: 10001",
        "      containers:",
        "        - name: web",
        f"          image: registry.example.com/shop/{name}:1.{rnd.randint(0, 30)}.{rnd.randint(0, 9)}",
        "          imagePullPolicy: IfNotPresent",
    ]
    if command is not None:
        lines.append("          command: [" + ", ".join(f'"{c}"' for c in command) + "]")
    lines.append("          args:")
    lines += [f'            - "{a.format(w=workers)}"' for a in args]
    lines += [
        "          ports:",
        "            - name: http",
        "              containerPort: 8000",
        "              protocol: TCP",
        "          env:",
        "            - name: DATABASE_URL",
        f"              value: postgresql://app:app@{db_host}:5432/{name.replace('-', '_')}",
        "            - name: DB_POOL_SIZE",
        f"              value: \"{rnd.choice([2, 5, 10])}\"",
        "            - name: DB_MAX_OVERFLOW",
        f"              value: \"{rnd.choice([0, 5, 10])}\"",
        "            - name: LOG_LEVEL",
        "              value: info",
        "            - name: POD_NAME",
        "              valueFrom:",
        "                fieldRef:",
        "                  fieldPath: metadata.name",
        "            - name: SECRET_KEY",
        "              valueFrom:",
        "                secretKeyRef:",
        f"                  name: {name}-secrets",
        "                  key: secret-key",
        "          envFrom:",
        "            - configMapRef:",
        f"                name: {ns}-settings",
        "                optional: true",
        "          resources:",
        "            requests:",
        f"              cpu: {cpu}",
        f"              memory: {mem}",
        "            limits:",
        f"              cpu: {limit_cpu}",
        f"              memory: {limit_mem}",
        "          readinessProbe:",
        "            httpGet:",
        "              path: /healthz",
        "              port: http",
        "            periodSeconds: 10",
        "          livenessProbe:",
        "            httpGet:",
        "              path: /livez",
        "              port: http",
        "            initialDelaySeconds: 15",
        "          volumeMounts:",
        "            - name: tmp",
        "              mountPath: /tmp",
    ]
    if rnd.random() < 0.3:
        lines += [
            "        - name: metrics",
            "          image: prom/statsd-exporter:v0.26.0",
            "          args: [\"--statsd.listen-udp=:9125\"]",
            "          resources:",
            "            limits:",
            "              cpu: 100m",
            "              memory: 64Mi",
        ]
    lines += [
        "      volumes:",
        "        - name: tmp",
        "          emptyDir: {}",
    ]
    return "\n".join(lines) + "\n"


def _service(name: str, ns: str, port: int) -> str:
    return (
        "apiVersion: v1\nkind: Service\nmetadata:\n"
        f"  name: {name}\n  namespace: {ns}\n  labels:\n    app.kubernetes.io/name: {name}\n"
        f"spec:\n  type: ClusterIP\n  selector:\n    app.kubernetes.io/name: {name}\n"
        f"  ports:\n    - name: tcp\n      port: {port}\n      targetPort: {port}\n      protocol: TCP\n"
    )


def _database(ns: str, name: str) -> str:
    return (
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n"
        f"  name: {name}\n  namespace: {ns}\n"
        f"spec:\n  serviceName: {name}\n  replicas: 1\n  selector:\n    matchLabels:\n"
        f"      app.kubernetes.io/name: {name}\n  template:\n    metadata:\n      labels:\n"
        f"        app.kubernetes.io/name: {name}\n    spec:\n      containers:\n"
        "        - name: postgres\n          image: postgres:16\n"
        '          args: ["-c", "max_connections=400"]\n'
        "          env:\n            - name: POSTGRES_PASSWORD\n              valueFrom:\n"
        f"                secretKeyRef:\n                  name: {name}-auth\n                  key: password\n"
        "          resources:\n            requests:\n              cpu: \"1\"\n              memory: 2Gi\n"
        "            limits:\n              cpu: \"2\"\n              memory: 4Gi\n"
    )


def generate_tree(documents: int) -> str:
    """``documents`` YAML documents: per namespace one Postgres (StatefulSet + Service) and
    apps, each app one file holding its Deployment and Service. Deterministic (seeded)."""
    top = os.path.join(WORK, f"tree-{documents}")
    stamp = os.path.join(top, ".generated")
    if os.path.exists(stamp):
        with open(stamp) as fh:
            if fh.read() == GENERATOR_VERSION:
                return top
    shutil.rmtree(top, ignore_errors=True)
    rnd = random.Random(documents)
    namespaces = max(1, documents // 100)
    per_ns = documents // namespaces
    made = 0
    for n in range(namespaces):
        ns = f"team-{n:03d}"
        directory = os.path.join(top, ns)
        os.makedirs(directory)
        budget = per_ns if n < namespaces - 1 else documents - made
        with open(os.path.join(directory, "postgres.yaml"), "w") as fh:
            fh.write(_database(ns, "db") + "---\n" + _service("db", ns, 5432))
        made += 2
        budget -= 2
        i = 0
        while budget >= 2:
            name_i = n * 100_000 + i
            host = rnd.choice(["db", f"db.{ns}", f"db.{ns}.svc.cluster.local"])
            body = _deployment(name_i, ns, rnd, host) + "---\n" + _service(f"app-{name_i:05d}", ns, 8000)
            with open(os.path.join(directory, f"app-{name_i:05d}.yaml"), "w") as fh:
                fh.write(body)
            made += 2
            budget -= 2
            i += 1
        if budget == 1:
            with open(os.path.join(directory, "settings.yaml"), "w") as fh:
                fh.write(f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {ns}-settings\n  namespace: {ns}\n"
                         "data:\n  FEATURE_FLAGS: \"checkout,search\"\n")
            made += 1
    with open(stamp, "w") as fh:
        fh.write(GENERATOR_VERSION)
    return top


#: the single-file case: a dump of a busy cluster as ``kubectl get -o yaml`` of many kinds gives it,
#: one document per object: about 40 MB
DUMP_OBJECTS = 165_000
DUMP_VERSION = "1"


def _meta(rnd: random.Random, name: str, ns: str, labels: bool = False) -> list[str]:
    """``metadata:`` with the ``resourceVersion`` the API server adds."""
    lines = ["metadata:", f"  name: {name}", f"  namespace: {ns}", f"  resourceVersion: \"{rnd.randint(10_000, 99_999_999)}\""]
    if labels:
        lines += ["  labels:", f"    app.kubernetes.io/name: {name}"]
    return lines


def _dump_object(k: int, rnd: random.Random) -> str:
    """Object ``k`` of the dump: per 40 objects one Deployment (the generated trees' kind), six
    Services, fifteen ConfigMaps, eight Secrets and ten ServiceAccounts — few workloads among many
    small objects, as in a real cluster."""
    ns = f"team-{(k // 400) % 400:03d}"
    app = f"app-{k // 40:05d}"
    slot = k % 40
    if slot == 0:
        return _deployment(k // 40, ns, rnd, rnd.choice(["db", f"db.{ns}"]))
    if slot <= 6:
        return "\n".join(["apiVersion: v1", "kind: Service", *_meta(rnd, f"{app}-{slot}", ns, labels=True), "spec:",
                          f"  clusterIP: 10.{rnd.randint(0, 255)}.{rnd.randint(0, 255)}.{rnd.randint(1, 254)}",
                          "  ports:", "  - name: http", f"    port: {8000 + slot}", f"    targetPort: {8000 + slot}",
                          "  selector:", f"    app.kubernetes.io/name: {app}", ""])
    if slot <= 21:
        return "\n".join(["apiVersion: v1", "kind: ConfigMap", *_meta(rnd, f"{app}-settings-{slot}", ns), "data:",
                          f"  LOG_LEVEL: {rnd.choice(['info', 'debug', 'warning'])}",
                          f"  FEATURE_FLAGS: \"{rnd.choice(['checkout', 'search', 'checkout,search'])}\"", ""])
    if slot <= 29:
        return "\n".join(["apiVersion: v1", "kind: Secret", *_meta(rnd, f"{app}-secret-{slot}", ns),
                          "type: Opaque", "data:", f"  password: {rnd.getrandbits(96):024x}", ""])
    return "\n".join(["apiVersion: v1", "kind: ServiceAccount", *_meta(rnd, f"{app}-sa-{slot}", ns), ""])


def big_dump(objects: int = DUMP_OBJECTS) -> str:
    """One file of ``objects`` documents (deterministic, seeded), made once and reused, alone in its
    directory: the benchmark names that directory (see :func:`bench_bigfile`)."""
    directory = os.path.join(WORK, f"dump-{objects}")
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, "cluster.yaml")
    stamp = os.path.join(directory, ".generated")
    if os.path.exists(path) and os.path.exists(stamp):
        with open(stamp) as fh:
            if fh.read() == DUMP_VERSION:
                return path
    rnd = random.Random(objects)
    with open(path, "w") as fh:
        for k in range(objects):
            fh.write("---\n" if k else "")
            fh.write(_dump_object(k, rnd))
    with open(stamp, "w") as fh:
        fh.write(DUMP_VERSION)
    return path


def small_file() -> str:
    """One Deployment, alone in its directory (see :func:`bench_startup`)."""
    directory = os.path.join(WORK, "small")
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, "deployment.yaml")
    with open(path, "w") as fh:
        fh.write(_deployment(1, "shop", random.Random(1), "db"))
    return path


def tree_files(top: str) -> list[str]:
    out = []
    for directory, dirs, files in os.walk(top):
        dirs.sort()
        out += [os.path.join(directory, f) for f in sorted(files) if f.endswith((".yaml", ".yml"))]
    return out


def tree_bytes(top: str) -> int:
    return sum(os.path.getsize(p) for p in tree_files(top))


FLOOR = r"""
import os, sys
from ruamel.yaml import YAML
y = YAML(typ="safe", pure=False)
n = 0
top = sys.argv[1]
if os.path.isfile(top):
    paths = [top]
else:
    paths = []
    for directory, dirs, files in os.walk(top):
        dirs.sort()
        paths += [os.path.join(directory, name) for name in sorted(files) if name.endswith((".yaml", ".yml"))]
for path in paths:
    with open(path, encoding="utf-8") as fh:
        for node in y.compose_all(fh.read()):
            n += 1
print(n)
"""

# --------------------------------------------------------------------------- running


@dataclass
class Sample:
    seconds: list[float] = field(default_factory=list)
    rss_kb: list[int] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def rss_mb(self) -> float:
        return max(self.rss_kb) / 1024 if self.rss_kb else float("nan")


def run_once(argv: list[str], ok: tuple[int, ...] = (0, 1), cwd: str = WORK,
             env: dict[str, str] | None = None) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one whole process; output thrown away."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=cwd,
                            env={**os.environ, **(env or {})})
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in ok:
        raise SystemExit(f"benchmark: {' '.join(argv[:4])} ... exited {proc.returncode}:\n"
                         f"{err.decode(errors='replace')[-2000:]}")
    return elapsed, usage.ru_maxrss


#: cores' worth of CPU other processes used while the benchmark sat idle, sampled before each round
BUSY: list[float] = []


def _cpu_times() -> tuple[int, int] | None:
    try:
        with open("/proc/stat") as fh:
            fields = [int(x) for x in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields), idle


def others_busy(window: float = 0.2) -> float | None:
    """How many cores other processes kept busy over a short idle window (Linux /proc/stat)."""
    a = _cpu_times()
    time.sleep(window)
    b = _cpu_times()
    if a is None or b is None or b[0] == a[0]:
        return None
    return (1 - (b[1] - a[1]) / (b[0] - a[0])) * (os.cpu_count() or 1)


def interleaved(commands: dict[str, tuple[list[str], dict]], runs: int, label: str) -> dict[str, Sample]:
    """Each command once untimed (file cache, .pyc), then ``runs`` rounds, one run of each per round.
    The machine's load average is sampled before each round: other processes on a 2-core machine
    change every figure, the parallel ones most."""
    samples = {name: Sample() for name in commands}
    for name, (argv, kw) in commands.items():
        run_once(argv, **kw)
    for r in range(runs):
        busy = others_busy()
        if busy is not None:
            BUSY.append(busy)
        print(f"  {label}: round {r + 1}/{runs}", file=sys.stderr, end="\r", flush=True)
        for name, (argv, kw) in commands.items():
            seconds, rss = run_once(argv, **kw)
            samples[name].seconds.append(seconds)
            samples[name].rss_kb.append(rss)
    print(" " * 60, file=sys.stderr, end="\r", flush=True)
    return samples


# --------------------------------------------------------------------------- peers


def find_tool(name: str, *candidates: str) -> str | None:
    for path in candidates:
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return shutil.which(name)


def scalelint_cmd(explicit: str | None) -> list[str]:
    """The scalelint to time: ``--scalelint PATH``, else this checkout installed the way users get it
    (a regular, non-editable install with compiled bytecode, as pip, pipx and pre-commit make) into
    ``_work/sl-venv``, refreshed on every run."""
    if explicit:
        found = shutil.which(explicit) if os.sep not in explicit else explicit
        return [os.path.abspath(found or explicit)]
    venv = os.path.join(WORK, "sl-venv")
    pip = os.path.join(venv, "bin", "pip")
    quiet: dict[str, Any] = {"stdout": subprocess.DEVNULL, "stderr": subprocess.STDOUT}
    if not os.path.exists(pip):
        print("  installing this checkout into benchmarks/_work/sl-venv ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([pip, "install", "--quiet", "setuptools>=68", "wheel", ROOT], check=True, **quiet)
    else:
        subprocess.run([pip, "install", "--quiet", "--no-deps", "--no-build-isolation", "--force-reinstall",
                        ROOT], check=True, **quiet)
    return [os.path.join(venv, "bin", "scalelint")]


def supports_jobs(cmd: list[str]) -> bool:
    out = subprocess.run([*cmd, "check", "--help"], capture_output=True, text=True, check=False)
    return "--jobs" in out.stdout


def python_of(cmd: list[str]) -> str:
    """The interpreter of the scalelint console script (its shebang), for the floor."""
    try:
        with open(cmd[0]) as fh:
            first = fh.readline()
        if first.startswith("#!") and "python" in first:
            return first[2:].strip().split()[0]
    except OSError:
        pass
    return sys.executable


def corpus_compose_files(corpus: str) -> list[str]:
    index = os.path.join(corpus, "INDEX.tsv")
    if not os.path.isfile(index):
        return []
    out = []
    with open(index) as fh:
        for line in fh.read().splitlines()[1:]:
            parts = line.split("\t")
            if len(parts) >= 2 and parts[1] == "compose" and os.path.isfile(os.path.join(corpus, parts[0])):
                out.append(os.path.join(corpus, parts[0]))
    return out


# --------------------------------------------------------------------------- report


class Report:
    def __init__(self) -> None:
        self.goals: list[tuple[str, str, bool | None]] = []

    @staticmethod
    def line(text: str) -> None:
        print(text, flush=True)

    def goal(self, name: str, measured: str, met: bool | None) -> None:
        self.goals.append((name, measured, met))

    def summary(self) -> None:
        if BUSY:
            self.line("")
            self.line(f"other processes kept {statistics.median(BUSY):.2f} cores busy between rounds (median; "
                      f"max {max(BUSY):.2f}): anything above ~0.1 slows every figure, the parallel ones most")
        self.line("")
        self.line("goals")
        width = max(len(g[0]) for g in self.goals) if self.goals else 10
        for name, measured, met in self.goals:
            state = "skipped" if met is None else ("met" if met else "NOT MET")
            self.line(f"  {name:<{width}}  {measured:<40}  {state}")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def _env() -> dict[str, str]:
    """The environment of every timed process: bytecode may be written (a sandbox that sets
    PYTHONDONTWRITEBYTECODE would otherwise make every run compile scalelint from source)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PYTHONPYCACHEPREFIX", None)
    return env


def bench_startup(rep: Report, sl: list[str], py: str, yamllint: str | None, runs: int) -> float:
    """scalelint is given the directory that holds only the small file: a file named on the command
    line brings its context along (the repository's other manifests that mention its objects, the
    generated trees of ``_work`` included), which is another measurement. yamllint, which has no
    such feature, is given the file."""
    small = small_file()
    rep.line("")
    rep.line(f"startup: one small Deployment file ({os.path.getsize(small)} bytes; scalelint given its directory)")
    cmds: dict[str, tuple[list[str], dict]] = {
        "scalelint check": ([*sl, "check", os.path.dirname(small)], {}),
        "python -c pass": ([py, "-c", "pass"], {}),
        "python + ruamel.yaml + click": ([py, "-c", "import ruamel.yaml, click"], {}),
    }
    if yamllint:
        cmds["yamllint -d relaxed"] = ([yamllint, "-d", "relaxed", small], {})
    s = interleaved(cmds, runs, "startup")
    for name, sample in s.items():
        rep.line(f"  {name:<30} {ms(sample.median)}   peak RSS {sample.rss_mb:6.1f} MB")
    if yamllint:
        ratio = s["scalelint check"].median / s["yamllint -d relaxed"].median
        base = s["python + ruamel.yaml + click"].median / s["yamllint -d relaxed"].median
        rep.line(f"  scalelint / yamllint           {ratio:8.2f}x   (python + ruamel.yaml + click alone: {base:.2f}x)")
        rep.goal("startup: scalelint <= yamllint", f"{ratio:.2f}x yamllint", ratio <= 1.0)
    else:
        rep.line("  yamllint: not installed, skipped (see benchmarks/README.md)")
        rep.goal("startup: scalelint <= yamllint", "yamllint not installed", None)
    return s["scalelint check"].median


def bench_bigfile(rep: Report, sl: list[str], py: str, jobs: bool, runs: int) -> None:
    """One 40 MB multi-document file, ``--jobs 1``: the case no process pool helps (the work is per
    file), where time and memory grow with one file's size. No untimed first run: a run is close to
    a minute, the file was just written (it is in the page cache) and the other sections compiled
    the bytecode; rounds still alternate with the floor.

    Both are given the directory that holds only the file, not the file: a file named on the command
    line makes scalelint read the repository's other manifests that mention its objects (its context,
    SPEC §11), here the generated trees of ``_work`` too, which is not the lint of this file."""
    path = big_dump()
    directory = os.path.dirname(path)
    size = os.path.getsize(path)
    rep.line("")
    rep.line(f"one big file: {DUMP_OBJECTS:,} objects in {size / 1e6:.1f} MB, one document each "
             "(a `kubectl get -o yaml` dump of a cluster; its directory given)")
    one = [*sl, "check", "--jobs", "1", directory] if jobs else [*sl, "check", directory]
    cmds: dict[str, tuple[list[str], dict]] = {
        "floor: C-parser compose only": ([py, "-c", FLOOR, directory], {}),
        "scalelint check --jobs 1": (one, {}),
    }
    samples = {name: Sample() for name in cmds}
    for r in range(runs):
        busy = others_busy()
        if busy is not None:
            BUSY.append(busy)
        for name, (argv, kw) in cmds.items():
            print(f"  big file: round {r + 1}/{runs}: {name}", file=sys.stderr, end="\r", flush=True)
            seconds, rss = run_once(argv, **kw)
            samples[name].seconds.append(seconds)
            samples[name].rss_kb.append(rss)
    print(" " * 70, file=sys.stderr, end="\r", flush=True)
    for name, sample in samples.items():
        rep.line(f"  {name:<30} {ms(sample.median)}  {DUMP_OBJECTS / sample.median:8.0f} objects/s  "
                 f"{size / 1e6 / sample.median:5.2f} MB/s   peak RSS {sample.rss_mb:7.1f} MB")
    sl_one, floor = samples["scalelint check --jobs 1"], samples["floor: C-parser compose only"]
    rep.line(f"  --jobs 1 / floor                {sl_one.median / floor.median:8.2f}x time, "
             f"{sl_one.rss_mb / floor.rss_mb:.1f}x peak RSS   ({runs} run{'s' if runs != 1 else ''} each)")
    rep.goal("big file: peak RSS <= 400 MB (--jobs 1)", f"{sl_one.rss_mb:.0f} MB", sl_one.rss_mb <= 400)
    rep.goal("big file: under 20 s (--jobs 1)", f"{sl_one.median:.1f} s", sl_one.median < 20)


def bench_throughput(rep: Report, sl: list[str], py: str, jobs: bool, sizes: list[int], runs: int,
                     startup: float | None) -> None:
    results: dict[int, dict[str, Sample]] = {}
    for size in sizes:
        top = generate_tree(size)
        files = tree_files(top)
        nbytes = tree_bytes(top)
        rep.line("")
        rep.line(f"throughput: {size} documents ({len(files)} files, {nbytes / 1e6:.1f} MB)")
        cmds: dict[str, tuple[list[str], dict]] = {"floor: C-parser compose only": ([py, "-c", FLOOR, top], {})}
        if jobs:
            cmds["scalelint --jobs 1"] = ([*sl, "check", "--jobs", "1", top], {})
            cmds["scalelint (default jobs)"] = ([*sl, "check", top], {})
        else:
            cmds["scalelint --jobs 1"] = ([*sl, "check", top], {})
        r = results[size] = interleaved(cmds, runs, f"{size} documents")
        for name, sample in r.items():
            rep.line(f"  {name:<30} {ms(sample.median)}   {size / sample.median:8.0f} docs/s  "
                     f"{len(files) / sample.median:7.0f} files/s   peak RSS {sample.rss_mb:6.1f} MB")
        one, floor = r["scalelint --jobs 1"], r["floor: C-parser compose only"]
        rep.line(f"  --jobs 1 / floor                {one.median / floor.median:8.2f}x")
        if jobs:
            auto = r["scalelint (default jobs)"]
            rep.line(f"  --jobs 1 / default jobs         {one.median / auto.median:8.2f}x speed-up")

    big = max(sizes)
    r = results[big]
    one = r["scalelint --jobs 1"]
    ratio = one.median / r["floor: C-parser compose only"].median
    rep.goal(f"--jobs 1 <= 1.5x floor ({big} docs)", f"{ratio:.2f}x floor", ratio <= 1.5)
    if jobs:
        speed = one.median / r["scalelint (default jobs)"].median
        rep.goal(f"default jobs >= 1.7x --jobs 1 ({big} docs)", f"{speed:.2f}x", speed >= 1.7)
    else:
        rep.goal(f"default jobs >= 1.7x --jobs 1 ({big} docs)", "no --jobs option", False)
    rep.goal(f"peak RSS --jobs 1 <= 150 MB ({big} docs)", f"{one.rss_mb:.0f} MB", one.rss_mb <= 150)
    if 1000 in results and 10000 in results:
        t1k, t10k = results[1000]["scalelint --jobs 1"].median, results[10000]["scalelint --jobs 1"].median
        raw = (t10k / 10000) / (t1k / 1000)
        rep.line("")
        line = f"linearity: time/document at 10,000 vs 1,000 (--jobs 1): {raw:.2f}x whole-process"
        net = None
        if startup is not None:
            net = ((t10k - startup) / 10000) / ((t1k - startup) / 1000)
            line += f", {net:.2f}x with the one-file run ({startup * 1000:.0f} ms) taken off both"
        rep.line(line)
        judged = net if net is not None else raw
        rep.goal("time/doc at 10k <= 1.1x at 1k", f"{raw:.2f}x" + (f" ({net:.2f}x without startup)" if net else ""),
                 judged <= 1.1)


def bench_peers(rep: Report, sl: list[str], checkov: str | None, dclint: str | None, corpus: str,
                runs: int, which: frozenset[str] = frozenset({"checkov", "dclint"})) -> None:
    rep.line("")
    rep.line("peers")
    if "checkov" not in which:
        pass
    elif checkov:
        tree1k = generate_tree(1000)
        cmds = {
            "scalelint check": ([*sl, "check", tree1k], {}),
            "checkov --framework kubernetes": ([checkov, "--framework", "kubernetes", "-d", tree1k, "--quiet",
                                                "--compact", "--skip-download"],
                                               {"env": {"BC_SKIP_MAPPING": "TRUE"}}),
        }
        p = interleaved(cmds, runs, "checkov")
        for name, sample in p.items():
            rep.line(f"  1,000 documents: {name:<30} {ms(sample.median)}")
        ratio = p["checkov --framework kubernetes"].median / p["scalelint check"].median
        rep.line(f"  scalelint is {ratio:.1f}x faster than checkov")
        rep.goal(">= 25x faster than checkov (1k docs)", f"{ratio:.1f}x", ratio >= 25)
    else:
        rep.line("  checkov: not installed, skipped (see benchmarks/README.md)")
        rep.goal(">= 25x faster than checkov (1k docs)", "checkov not installed", None)
    if "dclint" not in which:
        return
    compose_files = corpus_compose_files(corpus)
    if dclint and compose_files:
        size = sum(os.path.getsize(p) for p in compose_files)
        cmds = {
            "scalelint check": ([*sl, "check", *compose_files], {}),
            "dclint": ([dclint, "--color", "false", *compose_files], {}),
        }
        p = interleaved(cmds, runs, "dclint")
        for name, sample in p.items():
            rep.line(f"  corpus compose files ({len(compose_files)} files, {size / 1e6:.2f} MB): "
                     f"{name:<16} {ms(sample.median)}")
        ratio = p["dclint"].median / p["scalelint check"].median
        rep.line(f"  scalelint is {ratio:.1f}x faster than dclint")
        rep.goal("faster than dclint (corpus compose)", f"{ratio:.1f}x", ratio > 1.0)
    else:
        why = "dclint not installed" if not dclint else f"no corpus at {corpus}"
        rep.line(f"  dclint: {why}, skipped (see benchmarks/README.md)")
        rep.goal("faster than dclint (corpus compose)", why, None)


def bench_sources(rep: Report, sl: list[str], apps: str, runs: int) -> None:
    """Reading the service behind the manifest (SPEC §8): a pre-commit-sized run, one compose file
    whose ``build:`` context holds a Dockerfile, launch scripts and Python settings, with source reading
    and with ``--no-sources``; then every application of ``../shared/apps`` in one run, both ways.
    Both are run from the application's directory with the file named as a pre-commit hook names it."""
    rep.line("")
    rep.line("sources: following build contexts into Dockerfiles, scripts, server configs and Python")
    app = os.path.join(apps, "fastapi__full-stack-fastapi-template")
    if not os.path.isfile(os.path.join(app, "compose.yml")):
        rep.line(f"  no applications at {apps}, skipped")
        rep.goal("sources: one compose file <= 1.5x --no-sources", f"no {apps}", None)
        return
    cmds: dict[str, tuple[list[str], dict]] = {
        "compose.yml, sources read": ([*sl, "check", "--isolated", "compose.yml"], {"cwd": app}),
        "compose.yml, --no-sources": ([*sl, "check", "--isolated", "--no-sources", "compose.yml"], {"cwd": app}),
        "all apps, sources read": ([*sl, "check", "--isolated", apps], {}),
        "all apps, --no-sources": ([*sl, "check", "--isolated", "--no-sources", apps], {}),
    }
    s = interleaved(cmds, runs, "sources")
    for name, sample in s.items():
        rep.line(f"  {name:<30} {ms(sample.median)}   peak RSS {sample.rss_mb:6.1f} MB")
    one = s["compose.yml, sources read"].median / s["compose.yml, --no-sources"].median
    every = s["all apps, sources read"].median / s["all apps, --no-sources"].median
    rep.line(f"  one compose file: sources / --no-sources   {one:5.2f}x")
    rep.line(f"  all apps:         sources / --no-sources   {every:5.2f}x")
    rep.goal("sources: one compose file <= 1.5x --no-sources", f"{one:.2f}x", one <= 1.5)


#: what ``--only`` takes; each is a section of the report with figures comparable from build to build
SECTIONS = {
    "startup": "one small file: scalelint vs yamllint -d relaxed vs python + ruamel.yaml + click",
    "bigfile": "a 40 MB file of 165,000 objects, --jobs 1: time and peak RSS",
    "throughput": "1,000 and 10,000 documents: floor, --jobs 1, default jobs",
    "jobs": "10,000 documents only: default jobs vs --jobs 1",
    "peers": "checkov and dclint",
    "checkov": "checkov --framework kubernetes on 1,000 documents",
    "dclint": "dclint on the corpus's compose files",
    "sources": "a compose file with a build context, and all of ../shared/apps: sources read vs --no-sources",
}
DEFAULT_SECTIONS = ("startup", "bigfile", "throughput", "sources", "peers")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5, help="interleaved rounds for the throughput figures")
    ap.add_argument("--startup-runs", type=int, default=21, help="interleaved rounds for the one-file figures")
    ap.add_argument("--peer-runs", type=int, default=3, help="interleaved rounds for checkov and dclint")
    ap.add_argument("--bigfile-runs", type=int, default=1,
                    help="rounds for the 40 MB file (about a minute per run and contender)")
    ap.add_argument("--quick", action="store_true",
                    help="fewer rounds, no 10,000-document tree, no 40 MB file (unless named in --only)")
    ap.add_argument("--no-peers", action="store_true", help="skip yamllint, checkov and dclint")
    ap.add_argument("--only", default=None,
                    help="comma-separated sections to run: " + ", ".join(f"{k} ({v})" for k, v in SECTIONS.items())
                         + f"; default: {','.join(DEFAULT_SECTIONS)}")
    ap.add_argument("--scalelint", help="scalelint executable to time (default: this checkout, installed into "
                                        "benchmarks/_work/sl-venv)")
    ap.add_argument("--corpus", default=os.path.join(os.path.dirname(ROOT), "shared", "corpus"))
    ap.add_argument("--apps", default=os.path.join(os.path.dirname(ROOT), "shared", "apps"),
                    help="the applications whose launch chains the sources section reads")
    args = ap.parse_args()
    if args.quick:
        args.runs, args.startup_runs, args.peer_runs = 1, 5, 1
    sections = {x.strip() for x in (args.only or ",".join(DEFAULT_SECTIONS)).split(",") if x.strip()}
    unknown = sections - set(SECTIONS)
    if unknown:
        ap.error(f"unknown section(s) {', '.join(sorted(unknown))}; known: {', '.join(SECTIONS)}")
    if args.quick and args.only is None:
        sections.discard("bigfile")
    os.makedirs(WORK, exist_ok=True)
    os.environ.clear()
    os.environ.update(_env())
    sl = scalelint_cmd(args.scalelint)
    py = python_of(sl)
    jobs = supports_jobs(sl)
    rep = Report()
    rep.line(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; scalelint: {' '.join(sl)}")
    rep.line(f"timings: median of interleaved whole-process runs; --jobs {'supported' if jobs else 'not supported'}")
    peers_dir = os.path.join(WORK, "peers-venv", "bin")
    yamllint = None if args.no_peers else find_tool("yamllint", os.path.join(peers_dir, "yamllint"))
    checkov = None if args.no_peers else find_tool("checkov", os.path.join(peers_dir, "checkov"))
    dclint = None if args.no_peers else find_tool(
        "dclint", os.path.join(WORK, "npm", "node_modules", ".bin", "dclint"))
    startup = bench_startup(rep, sl, py, yamllint, args.startup_runs) if "startup" in sections else None
    if "bigfile" in sections:
        bench_bigfile(rep, sl, py, jobs, args.bigfile_runs)
    if "throughput" in sections:
        bench_throughput(rep, sl, py, jobs, [1000] if args.quick else [1000, 10000], args.runs, startup)
    elif "jobs" in sections:
        bench_throughput(rep, sl, py, jobs, [10000], args.runs, startup)
    if "sources" in sections:
        bench_sources(rep, sl, args.apps, args.startup_runs)
    peers = frozenset(sections & {"checkov", "dclint"}) | (frozenset({"checkov", "dclint"})
                                                              if "peers" in sections else frozenset())
    if peers:
        bench_peers(rep, sl, checkov, dclint, args.corpus, args.peer_runs, peers)
    rep.summary()
    return 0


if __name__ == "__main__":
    sys.exit(main())
