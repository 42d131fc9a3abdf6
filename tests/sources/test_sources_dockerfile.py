"""The Dockerfile reader: instructions, stages, variables, COPY mapping, positions."""
from __future__ import annotations

import pytest

from scalelint.findings import Loc
from scalelint.sources.dockerfile import parse_dockerfile


def at(text: str, needle: str, nth: int = 0) -> tuple[int, int]:
    """1-based (line, column) of the ``nth`` occurrence of ``needle``."""
    i = -1
    for _ in range(nth + 1):
        i = text.index(needle, i + 1)
    return text.count("\n", 0, i) + 1, i - (text.rfind("\n", 0, i) + 1) + 1


def loc(text: str, needle: str, nth: int = 0) -> Loc:
    return Loc("Dockerfile", *at(text, needle, nth))


def texts(words: list) -> list[str]:
    return [w.text for w in words]


def test_exec_form_tokens_point_at_their_first_character() -> None:
    text = 'FROM python:3.12\nCMD ["fastapi", "run", "--workers", "4"]\n'
    stage = parse_dockerfile(text, "Dockerfile").stage(None)
    assert stage is not None and stage.cmd is not None
    assert texts(stage.cmd.argv) == ["fastapi", "run", "--workers", "4"]
    assert stage.cmd.exec_form
    assert stage.cmd.argv[3].loc(0) == Loc("Dockerfile", 2, 38)
    assert stage.cmd.argv[0].loc(0) == loc(text, "fastapi")
    assert stage.cmd.loc == Loc("Dockerfile", 2, 1)


def test_json_escapes_decode_and_keep_the_escape_position() -> None:
    text = 'FROM x\nENTRYPOINT ["sh", "-c", "echo \\"hi\\" && exec gunicorn -w 2"]\n'
    stage = parse_dockerfile(text, "Dockerfile").stage(None)
    assert stage is not None and stage.entrypoint is not None
    script = stage.entrypoint.argv[2]
    assert script.text == 'echo "hi" && exec gunicorn -w 2'
    assert script.loc(script.text.index("2")) == loc(text, "2\"]")


def test_shell_form_runs_in_the_shell_and_keeps_positions() -> None:
    text = "FROM x\nCMD gunicorn \\\n    -w 3 app:app\n"
    stage = parse_dockerfile(text, "Dockerfile").stage(None)
    assert stage is not None and stage.cmd is not None
    argv = stage.cmd.argv
    assert texts(argv[:2]) == ["/bin/sh", "-c"] and not stage.cmd.exec_form
    assert argv[2].text == "gunicorn     -w 3 app:app"
    assert argv[2].loc(argv[2].text.index("3")) == loc(text, "3 app")


def test_shell_instruction_changes_the_shell_form() -> None:
    text = 'FROM x\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\nCMD run.sh\n'
    stage = parse_dockerfile(text, "Dockerfile").stage(None)
    assert stage is not None and stage.cmd is not None
    assert texts(stage.cmd.argv) == ["/bin/bash", "-o", "pipefail", "-c", "run.sh"]


def test_comments_inside_continuations_and_the_escape_directive() -> None:
    text = "# escape=`\nFROM x\nRUN apt-get update `\n    # a comment line inside\n    && true\nCMD echo a`\n  b\n"
    result = parse_dockerfile(text, "Dockerfile")
    stage = result.stage(None)
    assert stage is not None and stage.cmd is not None
    assert stage.cmd.argv[-1].text == "echo a  b"
    assert result.notices == []


def test_heredoc_bodies_are_skipped() -> None:
    text = "FROM x\nRUN <<EOF\n  CMD [\"not\", \"this\"]\n  FROBNICATE\nEOF\nRUN <<-'END' bash\n\tCMD nope\n\tEND\nCMD [\"this\"]\n"
    result = parse_dockerfile(text, "Dockerfile")
    stage = result.stage(None)
    assert stage is not None and stage.cmd is not None
    assert texts(stage.cmd.argv) == ["this"]
    assert result.notices == []


def test_unclosed_heredoc_is_a_notice() -> None:
    text = "FROM x\nRUN <<EOF\necho\n"
    result = parse_dockerfile(text, "Dockerfile")
    assert [(n.line, n.column) for n in result.notices] == [(2, 1)]


def test_unknown_instruction_is_a_notice_with_its_position() -> None:
    text = "FROM x\n  FROBNICATE all the things\nCMD [\"ok\"]\n"
    result = parse_dockerfile(text, "Dockerfile")
    assert [(n.message, n.line, n.column) for n in result.notices] == [
        ("unknown Dockerfile instruction 'FROBNICATE'", 2, 3)]
    stage = result.stage(None)
    assert stage is not None and stage.cmd is not None


@pytest.mark.parametrize("text, message", [
    ("CMD [\"x\"]\n", "CMD before the first FROM"),
    ("# only a comment\n", "no FROM instruction: not a Dockerfile"),
    ("FROM x\nENV =oops\n", "ENV '=oops' is not NAME=value"),
    ("FROM x\nARG 1BAD=2\n", "ARG '1BAD=2' is not NAME or NAME=value"),
    ("FROM x\nSHELL /bin/bash -c\n", "SHELL must be a JSON array"),
])
def test_malformed_instructions_are_notices(text: str, message: str) -> None:
    result = parse_dockerfile(text, "Dockerfile")
    assert message in [n.message for n in result.notices]


def test_args_and_env_with_substitution() -> None:
    text = (
        "ARG PY=3.12\nARG WORKERS=2\nFROM python:${PY} AS base\nARG WORKERS\nARG THREADS=4\n"
        "ENV W=$WORKERS T=\"${THREADS} threads\" D=${MISSING:-dflt} P=${THREADS:+yes}\n"
        "ENV LEGACY value with spaces\nENV PATH=/app/bin:$PATH\n"
    )
    result = parse_dockerfile(text, "Dockerfile")
    stage = result.stage(None)
    assert stage is not None
    assert stage.base == "python:3.12" and stage.name == "base"
    assert {k: v.text for k, v in stage.env.items()} == {
        "W": "2", "T": "4 threads", "D": "dflt", "P": "yes", "LEGACY": "value with spaces", "PATH": "/app/bin:"}
    assert stage.env["W"].loc(0) == Loc("Dockerfile", 2, 13)  # the global ARG's default
    assert stage.env["D"].loc(0) == loc(text, "dflt")
    assert stage.env["T"].loc(0) == loc(text, "4\nENV")  # THREADS=4, substituted
    assert stage.args["THREADS"] is not None and stage.args["THREADS"].text == "4"


def test_stages_inherit_and_entrypoint_resets_an_inherited_cmd() -> None:
    text = (
        "FROM python AS base\nENV A=1\nWORKDIR /app\nCMD [\"serve\"]\n"
        "FROM base AS same\n"
        "FROM base AS final\nWORKDIR sub\nENTRYPOINT [\"/entry.sh\"]\n"
    )
    result = parse_dockerfile(text, "Dockerfile")
    same = result.stage("same")
    assert same is not None and same.cmd is not None and texts(same.cmd.argv) == ["serve"]
    assert same.env["A"].text == "1" and same.workdir == "/app"
    final = result.stage(None)
    assert final is not None and final.name == "final"
    assert final.workdir == "/app/sub" and final.workdir_loc == loc(text, "sub")
    assert final.cmd is None and final.entrypoint is not None


def test_cmd_in_the_same_stage_survives_a_later_entrypoint() -> None:
    text = "FROM x\nCMD [\"server\"]\nENTRYPOINT [\"/e\"]\n"
    stage = parse_dockerfile(text, "Dockerfile").stage(None)
    assert stage is not None and stage.cmd is not None and texts(stage.cmd.argv) == ["server"]


def test_target_selection() -> None:
    text = "FROM a AS One\nCMD [\"1\"]\nFROM b AS two\nCMD [\"2\"]\n"
    result = parse_dockerfile(text, "Dockerfile")
    one = result.stage("one")
    assert one is not None and one.cmd is not None and texts(one.cmd.argv) == ["1"]
    missing = result.stage("nope")
    assert missing is not None and missing.name == "two"
    assert any("nope" in n.message for n in result.notices)


# --- COPY: container path -> build context path ---------------------------------------------------

CONTEXT = {
    "docker/entrypoint.sh": "file", "docker": "dir", "backend": "dir", "backend/app": "dir",
    "backend/app/main.py": "file", "tools": "dir", "tools/prod.sh": "file", "start.sh": "file", "run.sh": "file",
    "requirements.txt": "file", "etc": "dir", "etc/uwsgi.ini": "file", "conf": "dir", "conf/a.conf": "file",
    "": "dir",
}


def kind(rel: str) -> str | None:
    return CONTEXT.get(rel)


COPIES = """\
FROM python AS build
COPY . /src/
FROM python
WORKDIR /app
COPY --chown=1:1 . /opt/app/
COPY ./backend/app /app/backend/app
COPY tools/ /opt/bin/
COPY ["start.sh", "/usr/local/bin/"]
COPY run.sh /usr/local/bin/launch
COPY requirements.txt /tmp
COPY etc ./etc
COPY --from=build /src/conf /etc/conf
COPY --from=build /src/start.sh /srv/
COPY --from=ghcr.io/astral-sh/uv:latest /uv /bin/
COPY *.sh /scripts/
ADD https://example.com/x.sh /remote/
"""


@pytest.mark.parametrize("container, expected", [
    ("/opt/app/docker/entrypoint.sh", "docker/entrypoint.sh"),
    ("/app/backend/app/main.py", "backend/app/main.py"),
    ("/opt/bin/prod.sh", "tools/prod.sh"),
    ("/usr/local/bin/start.sh", "start.sh"),
    ("/usr/local/bin/launch", "run.sh"),
    ("/tmp/requirements.txt", "requirements.txt"),
    ("/app/etc/uwsgi.ini", "etc/uwsgi.ini"),
    ("/etc/conf/a.conf", "conf/a.conf"),
    ("/srv/start.sh", "start.sh"),
    ("/scripts/run.sh", "run.sh"),
    ("/scripts/requirements.txt", None),
    ("/bin/uv", None),
    ("/remote/x.sh", None),
    ("/opt/app/missing.sh", None),
    ("/opt/app/../app/docker/entrypoint.sh", "docker/entrypoint.sh"),
    ("relative/path", None),
])
def test_copy_maps_container_paths_back_to_the_context(container: str, expected: str | None) -> None:
    result = parse_dockerfile(COPIES, "Dockerfile")
    stage = result.stage(None)
    assert stage is not None
    assert result.map_path(stage, container, kind) == expected


def test_a_later_copy_shadows_only_the_files_it_brings() -> None:
    text = "FROM x\nCOPY . /app\nCOPY backend/app /app\n"
    result = parse_dockerfile(text, "Dockerfile")
    stage = result.stage(None)
    assert stage is not None
    assert result.map_path(stage, "/app/main.py", kind) == "backend/app/main.py"
    assert result.map_path(stage, "/app/start.sh", kind) == "start.sh"


def test_copy_sources_cannot_leave_the_context() -> None:
    text = "FROM x\nCOPY ../../etc /stuff\n"
    result = parse_dockerfile(text, "Dockerfile")
    stage = result.stage(None)
    assert stage is not None
    assert stage.copies[0].sources == ["etc"]  # Docker resolves sources inside the context too


def test_bom_and_crlf() -> None:
    text = "\ufeffFROM x\r\nCMD [\"a\", \"b\"]\r\n"
    stage = parse_dockerfile(text, "Dockerfile").stage(None)
    assert stage is not None and stage.cmd is not None
    assert texts(stage.cmd.argv) == ["a", "b"] and stage.cmd.argv[1].loc(0) == Loc("Dockerfile", 2, 12)
