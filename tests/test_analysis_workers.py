"""Worker count per container (SPEC §3 SL002, "first match wins"), through the whole pipeline.

One table drives every case. A case is a container (Kubernetes) or a service body
(compose) plus any other files of the run, and says which count it expects, whether
it is known / defaulted / unknown, and *where* it was set: a needle, the text at the
exact position the count must point to (searched in the named file).
"""
from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import COMPOSE_SERVICE as COMPOSE
from conftest import K8S_DEPLOYMENT as K8S
from conftest import lint, pos, workers_of

from scalelint.config import DEFAULT_WORKERS_ENV, Config
from scalelint.findings import Loc
from scalelint.model import State

KNOWN, DEFAULT, UNKNOWN = State.KNOWN, State.DEFAULT, State.UNKNOWN










def indent(snippet: str, by: int) -> str:
    return textwrap.indent(textwrap.dedent(snippet).strip("\n"), " " * by)


@dataclass
class Case:
    id: str
    kind: str  # "k8s" | "compose"
    body: str  # container keys (k8s) / service keys (compose), unindented
    value: int | None
    state: State
    needle: str | None  # where the count was set (in ``at_file``); None: the container/service itself
    extra: dict[str, str] = field(default_factory=dict)  # more files of the run
    at_file: str | None = None  # default: the manifest itself
    config: Config | None = None
    reason: str = ""  # a substring of the Val's reason (unknown/default)
    env_files: list[str] = field(default_factory=list)  # --env-file, relative to tmp_path

    def main_name(self) -> str:
        return "deploy.yaml" if self.kind == "k8s" else "compose.yaml"

    def main_text(self) -> str:
        template = K8S if self.kind == "k8s" else COMPOSE
        return template.format(body=indent(self.body, 10 if self.kind == "k8s" else 4))


def cli(argv: list[str]) -> str:
    """A command as a JSON flow sequence: valid YAML in both file kinds."""
    return "command: " + json.dumps(argv)


# (id, argv, expected count, the token that sets it)
FLAG_FORMS = [
    ("gunicorn -w 4", ["gunicorn", "-w", "4", "app:app"], 4, '"4"'),
    ("gunicorn -w4", ["gunicorn", "-w4", "app:app"], 4, '"-w4"'),
    ("gunicorn --workers 4", ["gunicorn", "app:app", "--workers", "4"], 4, '"4"'),
    ("gunicorn --workers=4", ["gunicorn", "--workers=4", "app:app"], 4, '"--workers=4"'),
    ("uvicorn --workers", ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--workers", "3"], 3, '"3"'),
    ("hypercorn --workers", ["hypercorn", "--workers", "2", "app:app"], 2, '"2"'),
    ("granian --workers", ["granian", "--interface", "asgi", "--workers", "6", "app:app"], 6, '"6"'),
    ("uwsgi --processes", ["uwsgi", "--http", ":8000", "--processes", "5"], 5, '"5"'),
    ("uwsgi -p", ["uwsgi", "--http", ":8000", "-p", "5"], 5, '"5"'),
    ("celery --concurrency", ["celery", "-A", "proj", "worker", "--concurrency", "8"], 8, '"8"'),
    ("celery -c", ["celery", "-A", "proj", "worker", "-c", "8"], 8, '"8"'),
    ("sh -c exec gunicorn", ["sh", "-c", "exec gunicorn -w 4 app:app"], 4, '4 app:app'),
    ("bash -c alembic && uvicorn", ["bash", "-c", "alembic upgrade head && uvicorn app:app --workers 3"], 3,
     '3"'),
    ("python -m gunicorn", ["python", "-m", "gunicorn", "-w", "7", "app:app"], 7, '"7"'),
]

CASES: list[Case] = []
for _id, _argv, _n, _needle in FLAG_FORMS:
    for _kind in ("k8s", "compose"):
        CASES.append(Case(f"{_kind}: {_id}", _kind, cli(_argv), _n, KNOWN, _needle))

CASES += [
    # --- compose: a command string is split into words; the count is located inside the string
    Case("compose: command string", "compose", "command: gunicorn -w 4 app:app", 4, KNOWN, "4 app:app"),
    Case("compose: entrypoint + command", "compose",
         'entrypoint: ["uvicorn"]\ncommand: ["app:app", "--workers", "3"]', 3, KNOWN, '"3"'),
    # --- GUNICORN_CMD_ARGS
    Case("k8s: GUNICORN_CMD_ARGS", "k8s", """\
        command: ["gunicorn", "app:app"]
        env:
          - name: GUNICORN_CMD_ARGS
            value: "--bind 0.0.0.0:8000 --workers 5"
        """, 5, KNOWN, '5"'),
    Case("k8s: GUNICORN_CMD_ARGS, image default command", "k8s", """\
        env:
          - name: GUNICORN_CMD_ARGS
            value: "-w 5"
        """, 5, KNOWN, '5"'),
    Case("compose: GUNICORN_CMD_ARGS", "compose", """\
        command: gunicorn app:app
        environment:
          GUNICORN_CMD_ARGS: --workers 5
        """, 5, KNOWN, "5\n"),
    Case("k8s: GUNICORN_CMD_ARGS ignored by uvicorn", "k8s", """\
        command: ["uvicorn", "app:app"]
        env:
          - name: GUNICORN_CMD_ARGS
            value: "--workers 5"
        """, 1, DEFAULT, None, reason="uvicorn without a workers setting"),
    Case("k8s: command line beats GUNICORN_CMD_ARGS", "k8s", """\
        command: ["gunicorn", "-w", "2", "app:app"]
        env:
          - name: GUNICORN_CMD_ARGS
            value: "--workers 5"
        """, 2, KNOWN, '"2"'),
    # --- WEB_CONCURRENCY
    Case("k8s: WEB_CONCURRENCY gunicorn", "k8s", """\
        command: ["gunicorn", "app:app"]
        env:
          - {name: WEB_CONCURRENCY, value: "3"}
        """, 3, KNOWN, '"3"'),
    Case("k8s: WEB_CONCURRENCY uvicorn", "k8s", """\
        args: ["uvicorn", "app:app", "--host", "0.0.0.0"]
        env:
          - {name: WEB_CONCURRENCY, value: "6"}
        """, 6, KNOWN, '"6"'),
    Case("compose: WEB_CONCURRENCY, image default", "compose", """\
        environment:
          - WEB_CONCURRENCY=4
        """, 4, KNOWN, "4\n"),
    Case("k8s: GUNICORN_CMD_ARGS beats WEB_CONCURRENCY", "k8s", """\
        command: ["gunicorn", "app:app"]
        env:
          - {name: WEB_CONCURRENCY, value: "3"}
          - {name: GUNICORN_CMD_ARGS, value: "--workers=7"}
        """, 7, KNOWN, '7"'),
    # --- a flag whose value comes from the env: located where the number is written
    Case("k8s: --workers $(UVICORN_WORKERS)", "k8s", """\
        command: ["uvicorn", "app:app", "--workers", "$(UVICORN_WORKERS)"]
        env:
          - {name: UVICORN_WORKERS, value: "4"}
        """, 4, KNOWN, '"4"'),
    Case("k8s: sh -c gunicorn -w ${GUNICORN_WORKERS}", "k8s", """\
        command: ["sh", "-c", "exec gunicorn -w ${GUNICORN_WORKERS} app:app"]
        env:
          - {name: GUNICORN_WORKERS, value: "6"}
        """, 6, KNOWN, '"6"'),
    Case("compose: sh -c with $${WORKERS} reaches the shell", "compose", """\
        command: ["sh", "-c", "exec uvicorn app:app --workers $${WORKERS}"]
        environment:
          WORKERS: "5"
        """, 5, KNOWN, '"5"'),
    Case("k8s: uvicorn without workers, nothing else", "k8s", 'command: ["uvicorn", "app:app"]', 1, DEFAULT, None,
         reason="runs 1 worker"),
    Case("k8s: uvicorn ignores an unreferenced WORKERS", "k8s", """\
        command: ["uvicorn", "app:app"]
        env:
          - {name: WORKERS, value: "9"}
        """, 1, DEFAULT, None),
    # --- compose interpolation of ${UVICORN_WORKERS:-4}
    Case("compose: ${UVICORN_WORKERS:-4} default", "compose",
         "command: uvicorn app:app --workers ${UVICORN_WORKERS:-4}", 4, KNOWN, "4}"),
    Case("compose: ${UVICORN_WORKERS:-4} from .env", "compose",
         "command: uvicorn app:app --workers ${UVICORN_WORKERS:-4}", 6, KNOWN, "${UVICORN_WORKERS",
         extra={".env": "# project env\nUVICORN_WORKERS=6\n"}),
    Case("compose: ${UVICORN_WORKERS:-4} from --env-file", "compose",
         "command: uvicorn app:app --workers ${UVICORN_WORKERS:-4}", 2, KNOWN, "${UVICORN_WORKERS",
         extra={".env": "UVICORN_WORKERS=6\n", "prod.env": "UVICORN_WORKERS=2\n"}, env_files=["prod.env"]),
    Case("compose: later --env-file wins", "compose",
         "command: uvicorn app:app --workers ${UVICORN_WORKERS:-4}", 3, KNOWN, "${UVICORN_WORKERS",
         extra={"a.env": "UVICORN_WORKERS=2\n", "b.env": "UVICORN_WORKERS=3\n"}, env_files=["a.env", "b.env"]),
    # --- ConfigMaps (Kubernetes)
    Case("k8s: envFrom configMapRef with prefix", "k8s", """\
        envFrom:
          - prefix: GUNICORN_
            configMapRef: {name: api-config}
        """, 3, KNOWN, '"3"', at_file="cm.yaml", extra={"cm.yaml": """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: api-config
data:
  WORKERS: "3"
"""}),
    Case("k8s: valueFrom configMapKeyRef", "k8s", """\
        command: ["gunicorn", "app:app"]
        env:
          - name: WEB_CONCURRENCY
            valueFrom:
              configMapKeyRef: {name: api-config, key: workers}
        """, 5, KNOWN, "'5'", at_file="cm.yaml", extra={"cm.yaml": """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: api-config
data:
  log_level: info
  workers: '5'
"""}),
    Case("k8s: configMapKeyRef to a ConfigMap outside the files", "k8s", """\
        command: ["gunicorn", "app:app"]
        env:
          - name: WEB_CONCURRENCY
            valueFrom:
              configMapKeyRef: {name: elsewhere, key: workers}
        """, None, UNKNOWN, "configMapKeyRef", reason="not in the files linted"),
    Case("k8s: $(VAR) flag value from a ConfigMap key", "k8s", """\
        args: ["gunicorn", "--workers", "$(WORKERS)", "app:app"]
        env:
          - name: WORKERS
            valueFrom:
              configMapKeyRef: {name: api-config, key: WORKERS}
        """, 8, KNOWN, '"8"', at_file="cm.yaml", extra={"cm.yaml": """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: api-config
data:
  WORKERS: "8"
"""}),
    # --- compose env_file
    Case("compose: env_file", "compose", """\
        command: gunicorn app:app
        env_file: app.env
        """, 4, KNOWN, "4", at_file="app.env",
         extra={"app.env": "WEB_CONCURRENCY=4\n"}),
    Case("compose: environment overrides env_file", "compose", """\
        command: gunicorn app:app
        env_file: [app.env]
        environment:
          WEB_CONCURRENCY: "2"
        """, 2, KNOWN, '"2"', extra={"app.env": "WEB_CONCURRENCY=4\n"}),
    # --- unknowns
    Case("k8s: WEB_CONCURRENCY from a Secret", "k8s", """\
        command: ["gunicorn", "app:app"]
        env:
          - name: WEB_CONCURRENCY
            valueFrom:
              secretKeyRef: {name: api-secrets, key: workers}
        """, None, UNKNOWN, "secretKeyRef", reason="Secret api-secrets"),
    Case("k8s: --workers $(W) from a Secret", "k8s", """\
        command: ["uvicorn", "app:app", "--workers", "$(W)"]
        env:
          - name: W
            valueFrom:
              secretKeyRef: {name: api-secrets, key: workers}
        """, None, UNKNOWN, "secretKeyRef", reason="Secret api-secrets"),
    Case("k8s: sh -c gunicorn -w $(nproc)", "k8s", 'command: ["sh", "-c", "exec gunicorn -w $(nproc) app:app"]',
         None, UNKNOWN, '$(nproc) app', reason="command substitution"),
    Case("compose: sh -c gunicorn -w $$(nproc)", "compose",
         'command: ["sh", "-c", "exec gunicorn -w $$(nproc) app:app"]', None, UNKNOWN, '$(nproc) app',
         reason="command substitution"),
    Case("k8s: sh -c with an unset ${WORKERS}", "k8s",
         'command: ["sh", "-c", "exec gunicorn -w ${WORKERS} app:app"]', None, UNKNOWN, '${WORKERS} app',
         reason="WORKERS is not set"),
    Case("k8s: $(WORKERS) never defined", "k8s", 'command: ["uvicorn", "app:app", "--workers", "$(WORKERS)"]',
         None, UNKNOWN, '"$(WORKERS)"', reason="WORKERS"),
    Case("compose: bare environment key, unset", "compose", """\
        command: ["sh", "-c", "exec uvicorn app:app --workers $${UVICORN_WORKERS}"]
        environment:
          - UVICORN_WORKERS
        """, None, UNKNOWN, "UVICORN_WORKERS\n", reason="UVICORN_WORKERS"),
    Case("compose: --workers ${UVICORN_WORKERS} unset, no default", "compose",
         "command: uvicorn app:app --workers ${UVICORN_WORKERS}", None, UNKNOWN, "--workers ${",
         reason="has no value"),
    Case("compose: --workers=${W} unset, before another flag", "compose",
         'command: ["gunicorn", "--workers=${W}", "app:app"]', None, UNKNOWN, '"--workers=${W}"',
         reason="has no value"),
    Case("k8s: WEB_CONCURRENCY is not a number", "k8s", """\
        command: ["gunicorn", "app:app"]
        env:
          - {name: WEB_CONCURRENCY, value: "auto"}
        """, None, UNKNOWN, '"auto"', reason="not a number"),
]

# every workers-env default name: referenced by $(VAR) (Kubernetes), by ${VAR} inside sh -c,
# and read by the image's default command
for _name in DEFAULT_WORKERS_ENV:
    CASES += [
        Case(f"k8s: {_name} referenced as $({_name})", "k8s", f"""\
            command: ["/app/start.sh", "--procs", "$({_name})"]
            env:
              - {{name: {_name}, value: "3"}}
            """, 3, KNOWN, '"3"'),
        Case(f"k8s: {_name} referenced in sh -c", "k8s", f"""\
            command: ["sh", "-c", "python -m myapp.serve --procs ${{{_name}}}"]
            env:
              - {{name: {_name}, value: "5"}}
            """, 5, KNOWN, '"5"'),
        Case(f"k8s: {_name}, image default command", "k8s", f"""\
            env:
              - {{name: {_name}, value: "2"}}
            """, 2, KNOWN, '"2"'),
        Case(f"compose: {_name}, image default command", "compose", f"""\
            environment:
              {_name}: "6"
            """, 6, KNOWN, '"6"'),
        Case(f"compose: {_name} referenced in sh -c", "compose", f"""\
            command: ["sh", "-c", "exec python serve.py --procs $${{{_name}}}"]
            environment:
              {_name}: "7"
            """, 7, KNOWN, '"7"'),
    ]

CASES += [
    Case("k8s: a custom workers-env name", "k8s", """\
        env:
          - {name: APP_PROCS, value: "4"}
        """, 4, KNOWN, '"4"', config=Config(workers_env=["APP_PROCS"])),
    Case("k8s: a default name dropped from workers-env", "k8s", """\
        env:
          - {name: WORKERS, value: "4"}
        """, None, UNKNOWN, None, config=Config(workers_env=["APP_PROCS"])),  # the image's command: unknown
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_worker_count(tmp_path: Path, case: Case) -> None:
    files = {case.main_name(): case.main_text(), **case.extra}
    config = case.config or Config()
    if case.env_files:
        config.env_files = [str(tmp_path / f) for f in case.env_files]
    r = lint(tmp_path, files, config)
    w = workers_of(r)
    assert w.count.state is case.state, (w, case.id)
    assert w.count.value == case.value
    at_file = case.at_file or case.main_name()
    if case.needle is None:
        # nothing set it: the default is located at the container's name (compose: the service key)
        if case.kind == "k8s":
            line, col = pos(files[case.main_name()], "- name: api")
            col += len("- name: ")
        else:
            line, col = pos(files[case.main_name()], "api:")
        assert w.count.loc == Loc(str(tmp_path / case.main_name()), line, col)
    else:
        line, col = pos(files[at_file], case.needle)
        assert w.count.loc == Loc(str(tmp_path / at_file), line, col), (w.count, case.id)
    if case.reason:
        assert case.reason in w.count.reason, w.count.reason
    if case.state is UNKNOWN:
        assert w.count.reason, "an unknown count says why"


def test_flag_reading_env_points_at_both_places(tmp_path: Path) -> None:
    """The count lives in the env value; the flag that reads it is kept as ``via``."""
    body = """\
        command: ["uvicorn", "app:app", "--workers", "$(UVICORN_WORKERS)"]
        env:
          - {name: UVICORN_WORKERS, value: "4"}
        """
    text = K8S.format(body=indent(body, 10))
    r = lint(tmp_path, {"deploy.yaml": text})
    w = workers_of(r)
    path = str(tmp_path / "deploy.yaml")
    assert w.count.loc == Loc(path, *pos(text, '"4"'))
    assert w.via == Loc(path, *pos(text, '"$(UVICORN_WORKERS)"'))
    assert w.server == "uvicorn" and w.app


def test_env_file_value_is_located_on_its_line(tmp_path: Path) -> None:
    env = "# shared settings\nLOG_LEVEL=info\nWEB_CONCURRENCY=4\n"
    r = lint(tmp_path, {"compose.yaml": COMPOSE.format(body=indent("command: gunicorn app:app\nenv_file: app.env", 4)),
                        "app.env": env})
    w = workers_of(r)
    assert w.count.value == 4
    assert w.count.loc is not None and w.count.loc.path == str(tmp_path / "app.env")
    assert (w.count.loc.line, w.count.loc.column) == (3, 17)  # the value, after `WEB_CONCURRENCY=`


def test_pod_workers_sum_app_containers_and_skip_sidecars(tmp_path: Path) -> None:
    text = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      initContainers:
        - name: migrate
          image: example/api:1.0
          command: ["gunicorn", "-w", "16", "app:app"]
      containers:
        - name: web
          image: example/api:1.0
          command: ["gunicorn", "-w", "4", "app:app"]
        - name: worker
          image: example/api:1.0
          command: ["celery", "-A", "proj", "worker", "-c", "6"]
        - name: proxy
          image: envoyproxy/envoy:v1.30
"""
    r = lint(tmp_path, {"deploy.yaml": text})
    wl = r.groups[0].workloads[0]
    counted = {c.name: w.count.value for c, w in r.facts[0].pod_workers(wl)}
    assert counted == {"web": 4, "worker": 6}
    sl002 = [f for f in r.result.findings if f.code == "SL002"]
    assert len(sl002) == 1
    f = sl002[0]
    assert "10 worker processes" in f.message and "more than 8" in f.message
    assert (f.line, f.column) == pos(text, '"6"')  # the largest contributor


def test_sl002_fires_at_the_count_and_not_on_unknowns(tmp_path: Path) -> None:
    body = """\
        command: ["sh", "-c", "exec gunicorn -w $(nproc) app:app"]
        """
    r = lint(tmp_path, {"deploy.yaml": K8S.format(body=indent(body, 10))})
    assert not [f for f in r.result.findings if f.code == "SL002"]
    text = COMPOSE.format(body=indent("command: uvicorn app:app --workers ${UVICORN_WORKERS:-12}", 4))
    r = lint(tmp_path, {"compose.yaml": text})
    sl002 = [f for f in r.result.findings if f.code == "SL002"]
    assert len(sl002) == 1
    assert (sl002[0].line, sl002[0].column) == pos(text, "12}")  # the default, where 12 is written
    assert "12" in sl002[0].message


def test_sl002_at_the_limit_is_quiet(tmp_path: Path) -> None:
    body = 'command: ["gunicorn", "-w", "8", "app:app"]'
    r = lint(tmp_path, {"deploy.yaml": K8S.format(body=indent(body, 10))})
    assert not [f for f in r.result.findings if f.code == "SL002"]


@pytest.mark.parametrize("workers,memory,fix,each", [
    (6, "1Gi", "use at most 2 workers, or raise the memory limit to 3Gi", "170.7Mi"),
    (5, "768Mi", "use at most 1 worker, or raise the memory limit to 2560Mi", "153.6Mi"),
])
def test_sl006_fix_names_a_count_that_fits(tmp_path: Path, workers: int, memory: str, fix: str, each: str) -> None:
    body = f"""\
        command: ["gunicorn", "-w", "{workers}", "app:app"]
        resources:
          limits: {{cpu: "8", memory: {memory}}}
          requests: {{cpu: "1", memory: {memory}}}
        """
    r = lint(tmp_path, {"deploy.yaml": K8S.format(body=indent(body, 10))})
    [f] = [f for f in r.result.findings if f.code == "SL006"]
    assert f.fix == fix
    assert f"runs {workers} workers on a memory limit of {memory}: {each} each, less than the 256Mi" in f.message
    assert f.message.endswith("(512Mi per worker assumed for sizing: set memory-per-worker, or the annotation "
                              "scalelint.io/memory-per-worker on the workload)")


@pytest.mark.parametrize("workers, memory", [(4, "1Gi"), (3, "1Gi"), (2, "614Mi")])
def test_sl006_the_assumption_alone_is_not_evidence(tmp_path: Path, workers: int, memory: str) -> None:
    """256Mi or more per worker is a normal worker: only the assumed 512Mi would call it too small."""
    body = f"""\
        command: ["gunicorn", "-w", "{workers}", "app:app"]
        resources:
          limits: {{cpu: "8", memory: {memory}}}
          requests: {{cpu: "1", memory: {memory}}}
        """
    r = lint(tmp_path, {"deploy.yaml": K8S.format(body=indent(body, 10))})
    assert not [f for f in r.result.findings if f.code == "SL006"]
    # the same numbers with memory per worker set are evidence
    r = lint(tmp_path, {"deploy.yaml": K8S.format(body=indent(body, 10))}, Config(memory_per_worker=512 * 2**20))
    assert [f.code for f in r.result.findings if f.code == "SL006"] == ["SL006"]


@pytest.mark.parametrize("cpu, workers, fires, formula", [
    ("400m", 2, False, ""),  # 2 × 0.4 + 1 = 1.8: two whole workers are within it
    ("300m", 2, False, ""),
    ("400m", 3, True, "more than 2 × 400m + 1 = 1.8, 2 whole workers"),
    ("2", 5, False, ""),
    ("2", 6, True, "more than 2 × 2 + 1 = 5"),
])
def test_sl005_counts_whole_workers(tmp_path: Path, cpu: str, workers: int, fires: bool, formula: str) -> None:
    body = f"""\
        command: ["gunicorn", "-w", "{workers}", "app:app"]
        resources:
          limits: {{cpu: "{cpu}", memory: 8Gi}}
          requests: {{cpu: "{cpu}", memory: 8Gi}}
        """
    r = lint(tmp_path, {"deploy.yaml": K8S.format(body=indent(body, 10))})
    found = [f for f in r.result.findings if f.code == "SL005"]
    assert bool(found) is fires
    if fires:
        assert found[0].message.endswith(formula)


def test_sl006_one_worker_is_not_a_scaling_finding(tmp_path: Path) -> None:
    """A single worker that does not fit the assumed 512Mi: the container starts or it does not, and the
    assumption is only ours (a FastAPI service runs fine in 110Mi)."""
    body = """\
        command: ["uvicorn", "app:app", "--workers", "1"]
        resources:
          limits: {cpu: "1", memory: 110Mi}
          requests: {cpu: "1", memory: 110Mi}
        """
    r = lint(tmp_path, {"deploy.yaml": K8S.format(body=indent(body, 10))})
    assert not [f for f in r.result.findings if f.code == "SL006"]


@pytest.mark.parametrize("command, memory", [
    ('["gunicorn", "-w", "2", "app:app"]', "256Mi"),  # below one assumed 512Mi worker: the guess is wrong here
    ('["./server", "--workers", "8"]', "1Gi"),  # not a Python server: 512Mi a worker is not its number
])
def test_sl006_does_not_push_its_assumption_where_it_cannot_hold(tmp_path: Path, command: str, memory: str) -> None:
    body = f"""\
        command: {command}
        env:
          - {{name: WEB_CONCURRENCY, value: "8"}}
        resources:
          limits: {{cpu: "8", memory: {memory}}}
          requests: {{cpu: "8", memory: {memory}}}
        """
    r = lint(tmp_path, {"deploy.yaml": K8S.format(body=indent(body, 10))})
    assert not [f for f in r.result.findings if f.code in ("SL005", "SL006")]


def test_sl006_configured_memory_is_not_called_assumed(tmp_path: Path) -> None:
    body = """\
        command: ["gunicorn", "-w", "4", "app:app"]
        resources:
          limits: {cpu: "4", memory: 1Gi}
          requests: {cpu: "4", memory: 1Gi}
        """
    r = lint(tmp_path, {"deploy.yaml": K8S.format(body=indent(body, 10))}, Config(memory_per_worker=300 * 2**20))
    [f] = [f for f in r.result.findings if f.code == "SL006"]
    assert "4 workers × 300Mi = 1200Mi, more than its memory limit of 1Gi" in f.message
    assert "assumed" not in f.message
