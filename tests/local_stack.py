"""``make run`` as the tests start it: on free ports, with its state in a temporary folder,
its output kept in a file to wait on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from devtools.aws import free_port
from tests.conftest import ROOT

PORTS = ("PORT", "LOCAL_AWS_PORT", "DISCORD_STANDIN_PORT", "LLM_STANDIN_PORT")


def local_env(tmp_path: Path, ports: dict[str, str]) -> dict[str, str]:
    """This environment without what would point ``make run`` at real AWS, Discord or a model."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "DISCORD_", "JOBS_", "LLM_"))
    }
    env.update(ports, LOCAL_STATE_DIR=str(tmp_path / "state"))
    return env


def wait_for_text(path: Path, text: str, timeout: float) -> str:
    """The file's text once it holds ``text``; fails, showing the file, after ``timeout``."""
    deadline = time.monotonic() + timeout
    content = ""
    while time.monotonic() < deadline:
        content = path.read_text(errors="replace") if path.exists() else ""
        if text in content:
            return content
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not seen; output was:\n{content}")


@dataclass
class LocalStack:
    env: dict[str, str]
    ports: dict[str, str]
    out: Path
    process: subprocess.Popen[bytes]

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['PORT']}"

    @property
    def standin_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['DISCORD_STANDIN_PORT']}"


@contextmanager
def make_run(tmp_path: Path) -> Iterator[LocalStack]:
    """``make run`` until it says the API is up; stopped with Ctrl-C (SIGINT) afterwards."""
    ports = {name: str(free_port()) for name in PORTS}
    env = local_env(tmp_path, ports)
    out = tmp_path / "run.log"
    with out.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "devtools.local"],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for_text(out, "API at", 60)
            yield LocalStack(env, ports, out, process)
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
