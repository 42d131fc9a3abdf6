"""The progress counter: on a terminal's stderr for long text runs only, cleared when done."""
from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scalelint.output import progress

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: app-{i}}}
spec:
  template:
    spec:
      containers: [{{name: web, image: example/app:1.0}}]
"""


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> Path:
    top = tmp_path_factory.mktemp("progress")
    for i in range(progress.MIN_FILES + 10):
        (top / f"app-{i:03d}.yaml").write_text(DEPLOYMENT.format(i=i))
    return top


def test_only_text_on_a_terminal() -> None:
    assert isinstance(progress.for_stream(Terminal(), "text"), progress.Bar)
    for fmt in ("json", "sarif", "github", "gitlab"):
        assert progress.for_stream(Terminal(), fmt) is None
    assert progress.for_stream(io.StringIO(), "text") is None  # a pipe or a file
    assert progress.for_stream(object(), "text") is None


def test_counts_and_clears_its_line() -> None:
    out = Terminal()
    bar = progress.Bar(out, min_files=10, interval=0)
    bar(5, 20)
    bar(20, 20)
    drawn = out.getvalue()
    assert drawn.startswith("\rscalelint: 5/20 files read")
    assert "20/20 files read, checking" in drawn
    bar.close()
    assert out.getvalue().endswith("\r")
    last = out.getvalue().rsplit("checking", 1)[1]
    assert last.strip(" \r") == ""


def test_silent_for_few_files() -> None:
    out = Terminal()
    bar = progress.Bar(out, min_files=200, interval=0)
    bar(3, 3)
    bar.close()
    assert out.getvalue() == ""


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "FORCE_COLOR", "NO_COLOR")}


def test_off_when_stderr_is_not_a_tty(many: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "scalelint", "check", "--isolated", str(many)],
                          capture_output=True, text=True, env=_env(), timeout=120, check=False)
    assert proc.returncode == 1
    assert "\r" not in proc.stderr
    assert "files read" not in proc.stderr


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_on_when_stderr_is_a_tty(many: Path) -> None:
    master, slave = os.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "scalelint", "check", "--isolated", str(many)],
                              stdout=subprocess.PIPE, stderr=slave, env=_env(), timeout=120,
                              check=False)
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(master)
    seen = b"".join(chunks).decode()
    assert proc.returncode == 1
    assert f"\rscalelint: {progress.MIN_FILES + 10}/{progress.MIN_FILES + 10} files read" in seen
    assert b"\r" not in proc.stdout  # the counter never reaches the findings


def test_off_in_machine_formats_even_on_a_tty(many: Path) -> None:
    master, slave = os.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "scalelint", "check", "--isolated", "--format", "json",
                               str(many)], stdout=subprocess.PIPE, stderr=slave, env=_env(), timeout=120,
                              check=False)
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(master)
    assert proc.returncode == 1
    assert b"files read" not in b"".join(chunks)
