"""Settings: read once, validated, and a bad value stops the process with one clear line."""

from __future__ import annotations

import pytest

from services.core.config import ApiSettings, WorkerSettings
from services.core.env import Secret
from services.core.errors import ConfigError
from tests.conftest import run_module

GOOD = {
    "DISCORD_PUBLIC_KEY": "ab" * 32,
    "DISCORD_APPLICATION_ID": "100000000000000000",
    "JOBS_QUEUE_URL": "http://127.0.0.1:1/000000000000/jobs",
    "AWS_REGION": "eu-west-1",
    "JOB_SIGNING_KEY": "k" * 32,
}


def test_defaults():
    settings = ApiSettings.from_environ(GOOD)
    assert (settings.host, settings.port) == ("0.0.0.0", 8080)
    assert settings.discord.api_url == "https://discord.com/api/v10"
    assert settings.discord.bot_token is None
    assert settings.replay_window == 300
    assert settings.log.format == "json"
    worker = WorkerSettings.from_environ(GOOD)
    assert (worker.concurrency, worker.visibility_timeout, worker.poll_seconds) == (16, 60, 20)
    assert worker.shutdown_grace < 120


@pytest.mark.parametrize(
    "url",
    [
        "https://discord.com/api/v10",
        "http://127.0.0.1:8081/api/v10",
        "http://localhost:8081/api/v10",
        "http://[::1]:8081/api/v10",
        "http://discord:8081/api/v10",  # a compose service
    ],
)
def test_the_discord_api_url_is_https_unless_local(url):
    assert ApiSettings.from_environ({**GOOD, "DISCORD_API_URL": url}).discord.api_url == url


def test_region_falls_back_to_aws_default_region():
    env = {k: v for k, v in GOOD.items() if k != "AWS_REGION"} | {"AWS_DEFAULT_REGION": "us-west-2"}
    assert ApiSettings.from_environ(env).aws.region == "us-west-2"


@pytest.mark.parametrize(
    ("change", "variable"),
    [
        ({"DISCORD_PUBLIC_KEY": None}, "DISCORD_PUBLIC_KEY"),
        ({"DISCORD_PUBLIC_KEY": "xyz"}, "DISCORD_PUBLIC_KEY"),
        ({"DISCORD_PUBLIC_KEY": "ab" * 31}, "DISCORD_PUBLIC_KEY"),
        ({"DISCORD_APPLICATION_ID": "my-bot"}, "DISCORD_APPLICATION_ID"),
        ({"JOBS_QUEUE_URL": None}, "JOBS_QUEUE_URL"),
        ({"JOBS_QUEUE_URL": "jobs"}, "JOBS_QUEUE_URL"),
        ({"AWS_REGION": None}, "AWS_REGION"),
        ({"PORT": "eighty"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"DISCORD_API_URL": "discord.com"}, "DISCORD_API_URL"),
        ({"DISCORD_API_URL": "http://discord.example.com/api/v10"}, "DISCORD_API_URL"),
        ({"DISCORD_API_URL": "http://10.0.0.5/api/v10"}, "DISCORD_API_URL"),
        ({"DISCORD_API_URL": "https:///api"}, "DISCORD_API_URL"),
        ({"JOB_SIGNING_KEY": None}, "JOB_SIGNING_KEY"),
        ({"JOB_SIGNING_KEY": "short"}, "JOB_SIGNING_KEY"),
        ({"CUSTOM_ID_SECRET": "short"}, "CUSTOM_ID_SECRET"),
        ({"JOBS_ACCEPT_V1": "maybe"}, "JOBS_ACCEPT_V1"),
    ],
)
def test_bad_values_name_the_variable(change, variable):
    env = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    with pytest.raises(ConfigError) as caught:
        ApiSettings.from_environ(env)
    assert caught.value.name == variable


def test_secret_never_prints():
    settings = ApiSettings.from_environ({**GOOD, "DISCORD_BOT_TOKEN": "very-secret-token"})
    assert "very-secret-token" not in repr(settings)
    assert "k" * 32 not in repr(settings)
    assert "very-secret-token" not in str(settings.discord.bot_token)
    assert settings.discord.bot_token == Secret("very-secret-token")


@pytest.mark.parametrize("service", ["api", "worker"])
def test_process_stops_at_start_with_one_clear_line(service):
    env = {"PATH": "/usr/bin:/bin", "DISCORD_APPLICATION_ID": "100000000000000000"}
    result = run_module(f"services.{service}", env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("configuration error: ")
    assert result.stdout == ""
