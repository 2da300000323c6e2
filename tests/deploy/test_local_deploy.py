"""compose.yaml, the Dockerfile and .env.example, checked without a Docker engine: against
the Compose Specification's schema, against the configuration contract, and by running each
image's command as a plain process."""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft7Validator

from devtools.aws import free_port, wait_http
from services.core.config import CONFIG_VARIABLES
from tests.conftest import ROOT, api_process_env, base_env

COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
SCHEMA = json.loads((ROOT / "tests" / "schemas" / "compose-spec.json").read_text())
DOCKERFILE = (ROOT / "docker" / "Dockerfile").read_text()
# Variables only the local tools read (not part of the services' contract).
LOCAL_ONLY = {
    "DISCORD_STANDIN_PORT",
    "SCHEDULER_QUEUE_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
}


def test_compose_file_is_valid_against_the_compose_specification():
    errors = [e.message for e in Draft7Validator(SCHEMA).iter_errors(COMPOSE)]
    assert errors == []


def test_every_service_variable_is_part_of_the_configuration_contract():
    for name, service in COMPOSE["services"].items():
        unknown = set(service.get("environment", {})) - CONFIG_VARIABLES - LOCAL_ONLY
        assert unknown == set(), f"{name}: {unknown}"


def test_env_example_documents_exactly_the_contract():
    documented = set(
        re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE)
    )
    mentioned = set(re.findall(r"\b([A-Z][A-Z0-9_]{3,})\b", (ROOT / ".env.example").read_text()))
    assert documented <= CONFIG_VARIABLES
    assert mentioned >= CONFIG_VARIABLES


def test_every_service_command_is_a_module_that_exists():
    for name, service in COMPOSE["services"].items():
        if name == "aws":
            continue
        command = service.get("command") or _cmd(service["build"]["target"])
        assert command[:2] == ["python", "-m"], name
        assert importlib.util.find_spec(command[2]) is not None, command[2]


def test_services_start_in_order_with_health_conditions():
    services = COMPOSE["services"]
    assert services["init"]["depends_on"]["aws"]["condition"] == "service_healthy"
    for name in ("api", "worker", "scheduler"):
        assert services[name]["depends_on"]["init"]["condition"] == "service_completed_successfully"
    for name in ("aws", "discord", "api"):
        assert "healthcheck" in services[name], name
    # the worker gets ECS's longest stop timeout to drain
    assert services["worker"]["stop_grace_period"] == "120s"


def _stage(target: str) -> str:
    match = re.search(
        rf"^FROM [^\n]+ AS {target}\n(.*?)(?=^FROM |\Z)", DOCKERFILE, re.MULTILINE | re.DOTALL
    )
    assert match, target
    return match.group(1)


def test_dockerfile_pins_its_base_runs_as_non_root_and_has_entrypoints():
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", DOCKERFILE, re.MULTILINE).group(1)
    assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+", base), base
    assert "USER 10001:10001" in _stage("runtime")
    assert "HEALTHCHECK" in _stage("api")
    for target in ("api", "worker"):
        assert "USER root" not in _stage(target)
    # runtime images install without the [dev] extra: no test tools in them
    build = re.search(
        r"^FROM \S+ AS build\n(.*?)^FROM", DOCKERFILE, re.MULTILINE | re.DOTALL
    ).group(1)
    assert "[dev]" not in build
    # the build context is an allow-list: nothing (.env, .venv, .local) unless named
    rules = [r for r in (ROOT / ".dockerignore").read_text().splitlines() if r and r[0] != "#"]
    assert rules[0] == "*"


def test_the_lambda_image_runs_the_scheduler_handler():
    stage = _stage("scheduler")
    assert 'ENTRYPOINT ["python", "-m", "awslambdaric"]' in stage
    assert _cmd("scheduler") == ["services.scheduler.handler.handler"]
    module, _, function = _cmd("scheduler")[0].rpartition(".")
    assert callable(getattr(importlib.import_module(module), function))
    pins = (ROOT / "constraints.txt").read_text()
    assert re.search(r"^awslambdaric==", pins, re.MULTILINE)


def _cmd(target: str) -> list[str]:
    return json.loads(re.search(r"^CMD (\[.*\])$", _stage(target), re.MULTILINE).group(1))


@pytest.mark.parametrize("target", ["api", "worker"])
async def test_image_entrypoints_run_as_processes(
    target, moto, queues, discord, signing_key, tmp_path
):
    port = free_port()
    env = api_process_env(moto, queues, discord.url, signing_key, port, PATH="/usr/bin:/bin")
    command = _cmd(target)
    assert command[:2] == ["python", "-m"]
    log = (tmp_path / "out.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, *command[1:]], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        if target == "api":
            await asyncio.to_thread(wait_http, f"http://127.0.0.1:{port}/healthz", 20)
        else:
            async with asyncio.timeout(20):
                while "worker_started" not in Path(log.name).read_text():
                    await asyncio.sleep(0.1)
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
    assert process.returncode in (0, -15)


async def test_compose_init_and_standin_work_as_processes(moto, tmp_path):
    from devtools.aws import client
    from tests.conftest import run_module

    port = free_port()
    standin = subprocess.Popen(
        [sys.executable, "-m", "devtools.standin"],
        env={"PATH": "/usr/bin:/bin", "HOST": "127.0.0.1", "DISCORD_STANDIN_PORT": str(port)},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        await asyncio.to_thread(wait_http, f"http://127.0.0.1:{port}/api/v10/", 20)
        prefix = "/compose-init-test"
        env = {
            **base_env(moto, type("Q", (), {"url": ""})(), f"http://127.0.0.1:{port}/api/v10"),
            "SSM_PREFIX": prefix,
        }
        result = await asyncio.to_thread(run_module, "devtools.init_local", env=env)
        assert result.returncode == 0, result.stderr
    finally:
        standin.terminate()
        standin.wait(timeout=20)
    ssm = client("ssm", moto)
    names = {
        p["Name"] for p in ssm.get_parameters_by_path(Path=prefix, Recursive=True)["Parameters"]
    }
    assert f"{prefix}/webhook-url" in names
    assert client("sqs", moto).get_queue_url(QueueName="discord-bot-jobs")["QueueUrl"]


def test_the_bot_token_reaches_only_the_worker_and_ports_only_this_machine():
    services = COMPOSE["services"]
    for name, service in services.items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} on every interface"
        blanked = service.get("environment", {}).get("DISCORD_BOT_TOKEN") == ""
        if name in ("worker", "discord"):  # the worker, and the stand-in playing Discord
            assert not blanked
        elif "env_file" in service:
            assert blanked, f"{name} would get DISCORD_BOT_TOKEN from .env"
