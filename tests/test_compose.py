"""Compose semantics scalelint reproduces (SPEC §2): merging, env files, replicas, limits."""
from __future__ import annotations

from pathlib import Path

from scalelint.check.registry import Registry
from scalelint.config import Config
from scalelint.model import State
from scalelint.pipeline import Options, run


def project(tmp_path: Path, files: dict[str, str], **opts: object) -> list:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    config = opts.pop("config", None) or Config()
    result = run(Options(paths=[str(tmp_path)], **opts), config, Registry.load())  # type: ignore[arg-type]
    return [g for g in result.groups if g.kind == "compose"]


def services(group) -> dict:
    return {w.name: w for w in group.workloads}


BASE = """\
services:
  api:
    image: api:1
    command: gunicorn app:app -w 2
    environment:
      - A=1
      - B=base
    deploy:
      resources:
        limits: {cpus: "1", memory: 512M}
"""


def test_override_file_merges_automatically(tmp_path: Path) -> None:
    (group,) = project(tmp_path, {"compose.yaml": BASE, "compose.override.yaml": """\
services:
  api:
    command: ["gunicorn", "app:app", "-w", "6"]
    environment:
      B: override
      C: "3"
    deploy:
      replicas: 2
      resources:
        limits: {memory: 1G}
"""})
    api = services(group)["api"]
    c = api.containers[0]
    assert c.argv == ["gunicorn", "app:app", "-w", "6"]  # command replaces
    assert {e.name: e.value for e in c.env} == {"A": "1", "B": "override", "C": "3"}  # list + map merge by key
    assert api.replicas.value == 2 and api.replicas.loc.path.endswith("compose.override.yaml")
    assert c.limits.cpu.value == 1.0 and c.limits.memory.value == 2**30  # mappings merge
    assert c.limits.memory.loc.path.endswith("compose.override.yaml")
    assert group.paths == [str(tmp_path / "compose.yaml"), str(tmp_path / "compose.override.yaml")]


def test_explicit_files_merge_in_order(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text(BASE)
    (tmp_path / "b.yml").write_text("services:\n  api:\n    environment:\n      A: two\n    scale: 4\n")
    result = run(Options(paths=[], compose_files=[str(tmp_path / "a.yml"), str(tmp_path / "b.yml")]), Config(),
                 Registry.load())
    (group,) = result.groups
    api = services(group)["api"]
    assert api.replicas.value == 4
    assert {e.name: e.value for e in api.containers[0].env}["A"] == "two"


def test_reset_and_override_tags(tmp_path: Path) -> None:
    (group,) = project(tmp_path, {"compose.yaml": BASE, "compose.override.yaml": """\
services:
  api:
    environment: !override
      ONLY: "1"
    deploy: !reset {}
"""})
    api = services(group)["api"]
    assert [e.name for e in api.containers[0].env] == ["ONLY"]
    assert api.containers[0].limits.cpu is None


def test_env_file_and_dotenv_interpolation(tmp_path: Path) -> None:
    (group,) = project(tmp_path, {
        "compose.yaml": "services:\n  api:\n    image: api\n    env_file: app.env\n"
                        "    command: uvicorn app:app --workers ${W:-2}\n    scale: ${N}\n",
        ".env": "W=5\nN=3\n",
        "app.env": "DB_POOL_SIZE=7\n",
    })
    api = services(group)["api"]
    assert api.containers[0].argv[-1] == "5"
    assert api.replicas.value == 3 and api.replicas.state is State.KNOWN
    assert {e.name: e.value for e in api.containers[0].env} == {"DB_POOL_SIZE": "7"}


def test_env_file_option_wins_over_dotenv(tmp_path: Path) -> None:
    other = tmp_path / "prod.env"
    other.write_text("W=9\n")
    config = Config(env_files=[str(other)])
    (group,) = project(tmp_path, {"compose.yaml": "services:\n  api:\n    image: a\n    command: x --workers ${W}\n",
                                  ".env": "W=5\n"}, config=config)
    assert services(group)["api"].containers[0].argv[-1] == "9"


def test_replicas_default_and_legacy_limits(tmp_path: Path) -> None:
    (group,) = project(tmp_path, {"docker-compose.yml": "services:\n  db:\n    image: postgres\n"
                                                        "    mem_limit: 1gb\n    cpus: 0.5\n"})
    db = services(group)["db"]
    assert db.replicas.value == 1 and db.replicas.state is State.DEFAULT
    assert db.containers[0].limits.memory.value == 2**30 and db.containers[0].limits.cpu.value == 0.5


def test_extension_keys_are_not_services(tmp_path: Path) -> None:
    (group,) = project(tmp_path, {"compose.yaml": "x-common: &c {image: a}\nservices:\n  web:\n    <<: *c\n"
                                                  "    x-scalelint: {ignore: [SL001], ha-required: true}\n"})
    web = services(group)["web"]
    assert list(services(group)) == ["web"]
    assert web.ignore == {"SL001"} and web.ha_reasons == ["x-scalelint: {ha-required: true}"]


def test_unset_variable_is_reported_once(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  a:\n    image: ${IMG}\n  b:\n    image: ${IMG}\n")
    result = run(Options(paths=[str(tmp_path)]), Config(), Registry.load())
    unset = [n for n in result.result.notices if "IMG" in n.message]
    assert len(unset) == 1 and unset[0].line == 3


MAIN = """\
services:
  api:
    image: example/api:1.0
    command: gunicorn app:app -w 2
    environment:
      DATABASE_URL: postgresql://app@db/app
  db:
    image: postgres:16
"""


def _lint_dir(tmp_path: Path, files: dict[str, str]) -> tuple[list[tuple[str, str, int]], list[str]]:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    r = run(Options(paths=[str(tmp_path)], jobs=1), Config(), Registry.load())
    found = sorted((f.code, str(Path(f.path).relative_to(tmp_path)), f.line) for f in r.result.findings)
    return found, [n.message for n in r.result.notices]


def test_overlay_and_layer_files_merge_onto_their_main_file(tmp_path: Path) -> None:
    """Overlays (no image of their own), layers that only swap images (also in a subdirectory: CI), and
    `.override.` names are run with `-f main -f file`: the main file's missing limits are reported once,
    at the main file; a service a layer adds is its own."""
    found, notices = _lint_dir(tmp_path, {
        "compose.yaml": MAIN,
        "compose.prod.yaml": "services:\n  api:\n    environment:\n      WEB_CONCURRENCY: '2'\n",
        "compose.final.yaml": ("services:\n  fixup:\n    image: alpine\n    command: chown 1000 /data\n"
                               "  api:\n    image: example/api:final\n    ports: ['8000:8000']\n"),
        "tests/compose.ci.yaml": "services:\n  api:\n    image: localhost:5000/api:ci\n  db:\n    image: postgres:16\n",
    })
    assert found == [("SL001", "compose.final.yaml", 2), ("SL001", "compose.yaml", 2), ("SL001", "compose.yaml", 7)]
    assert any("as `docker compose -f compose.yaml -f tests/compose.ci.yaml`" in n for n in notices)
    assert any("as `docker compose -f compose.yaml -f compose.final.yaml`" in n for n in notices)


def test_a_full_alternative_file_is_its_own_project(tmp_path: Path) -> None:
    """A quickstart beside the main file that defines its services in full (environment, limits) runs
    alone: it is linted alone."""
    quick = MAIN.replace("image: example/api:1.0", "image: example/api:1.0\n    mem_limit: 1g\n    cpus: 1")
    quick = quick.replace("image: postgres:16", "image: postgres:16\n    mem_limit: 1g\n    cpus: 1")
    found, notices = _lint_dir(tmp_path, {"compose.yaml": MAIN, "compose-quickstart.yaml": quick})
    assert [f for f in found if f[1] == "compose-quickstart.yaml"] == []
    assert not any("overlay" in n for n in notices)


def test_an_overlay_does_not_repeat_the_main_files_findings_but_keeps_its_own_budget(tmp_path: Path) -> None:
    """compose.yaml alone: SL001 on api and db, and a budget that fits. With compose.prod.yaml (an
    overlay raising api to 8 replicas and setting api's memory only): api's SL001 says "no CPU limit"
    at the same place — one finding there, not two — and the budget the overlay breaks is reported."""
    found, _ = _lint_dir(tmp_path, {
        "compose.yaml": MAIN,
        "compose.prod.yaml": ("services:\n  api:\n    deploy:\n      replicas: 8\n"
                              "      resources: {limits: {memory: 1G}}\n"),
    })
    at_api = [f for f in found if f[1:] == ("compose.yaml", 2)]
    assert at_api == [("SL001", "compose.yaml", 2)]
    assert ("SL003", "compose.yaml", 7) in found  # 8 × 2 × (5 + 10) = 240 > 97, with the overlay's replicas


def test_a_file_that_says_how_it_is_run_or_calls_itself_an_override_merges(tmp_path: Path) -> None:
    """Two hints in a file's leading comments: the `docker compose -f MAIN -f THIS` command its author
    wrote (MAIN need not be a main-named file), and "override"/"overlay" for a file below the main file
    that shares its services (it adds environment, so it is not a plain layer). A standalone example in a
    subdirectory with neither hint is its own project."""
    alt = MAIN.replace("example/api:1.0", "example/api:alt")
    found, notices = _lint_dir(tmp_path, {
        "compose.yaml": MAIN,
        "compose.no-proxy.yaml": alt,
        "deploy/apache/compose.apache.yaml": (
            "# Test the Apache setup with the no-proxy file:\n"
            "#   docker compose -f ../../compose.no-proxy.yaml -f compose.apache.yaml up\n"
            "services:\n  api:\n    environment:\n      BEHIND_PROXY: '1'\n"
            "  apache:\n    image: httpd:2.4\n"),
        "deploy/local/compose.local.yaml": (
            "# This compose override builds the images from the local checkout.\n"
            "services:\n  api:\n    build: ../..\n    environment:\n      DEBUG: '1'\n"
            "  mailhog:\n    image: mailhog/mailhog\n"),
        "examples/statsd/compose.yaml": (
            "# An example: the API with a statsd sidecar.\n"
            "services:\n  api:\n    image: example/api:1.0\n    environment:\n      STATSD_HOST: statsd\n"
            "  statsd:\n    image: statsd/statsd\n"),
    })
    assert [f for f in found if f[1].startswith("deploy/")] == [
        ("SL001", "deploy/apache/compose.apache.yaml", 7),  # only what the file adds
        ("SL001", "deploy/local/compose.local.yaml", 7),
    ]
    assert any("an overlay of compose.no-proxy.yaml (its leading comments run it so): linted merged onto it, as "
               "`docker compose -f compose.no-proxy.yaml -f deploy/apache/compose.apache.yaml`" in n for n in notices)
    assert any("an overlay of compose.yaml (it calls itself an override and shares its services)" in n
               for n in notices)
    assert ("SL001", "examples/statsd/compose.yaml", 3) in found  # not merged: no hint
