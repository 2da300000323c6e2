"""What the README tells a new user to do: `make run`, then send a signed /ping and /countdown."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time

from devtools.aws import free_port
from services.core.bot.loader import load_bot
from tests.conftest import APPLICATION_ID, BOT_TOKEN, ROOT, run_module
from tests.local_stack import local_env, make_run, wait_for_text

# What the bot declares (slash commands are type 1, user commands 2, message commands 3),
# read from the router, so adding a command does not break these tests.
BOT_COMMANDS = {(c["type"], c["name"]) for c in load_bot().router.to_discord()}
# The shipped examples the README shows.
SHIPPED = {
    (1, "ping"),
    (1, "countdown"),
    (1, "config"),
    (1, "notify"),
    (1, "roll"),
    (1, "feedback"),
    (1, "help"),
    (2, "User info"),
    (3, "Word count"),
}


def test_the_shipped_examples_are_declared():
    assert BOT_COMMANDS >= SHIPPED


def test_local_stack_answers_signed_commands_and_shows_edits(tmp_path):
    with make_run(tmp_path) as running:
        env, out = running.env, running.out
        url = f"{running.api_url}/interactions"

        def send(*words):
            result = run_module("devtools.send", "--url", url, *words, env=env)
            assert result.returncode == 0, result.stderr
            return result.stdout

        assert '"content": "Pong!"' in send("ping")
        assert '"type": 1' in send("--ping")
        assert '"type": 5' in send("countdown", "seconds=2")
        shown = wait_for_text(out, "Countdown of 2 s finished", 30)
        assert "[discord] edit_original" in shown
        assert "Counting down" in shown
        # every other kind, through the stand-in as Discord would deliver it
        assert '"type": 6' in send("--click", "again")
        wait_for_text(out, "[discord] deferred", 10)
        assert '"custom_id": "roll:1:20"' in send("roll", "sides=20")
        assert '"type": 7' in send("--click", "roll")
        wait_for_text(out, "[discord] update", 10)
        assert '"type": 9' in send("feedback")
        assert "> Thanks, @everyone" in send("--modal", "feedback", "text=Thanks, @everyone")
        assert '"/countdown"' in send("--complete", "help", "command=count")
        assert "3 words" in send("--message", "Word count", "--text", "one two three")
        assert "Account created" in send("--user", "User info", "--target", "1" + "0" * 17)
        assert "form 'Feedback'" in out.read_text()
        # a scheduled task and a notification reach the stand-in through the scheduler
        fired = run_module("devtools.fire", "daily-reminder", env=env)
        assert fired.returncode == 0, fired.stderr
        wait_for_text(out, "Daily reminder", 30)
        notified = run_module("devtools.fire", "--notify", "Deploy finished", env=env)
        assert notified.returncode == 0, notified.stderr
        shown = wait_for_text(out, "'Deploy finished'", 30)
        assert "[discord] webhook_post" in shown
        # the AI commands, answered by the model stand-in: streamed, followed up, with a
        # file, and a summary of the channel read back with the local bot token
        assert '"type": 5' in send("ask", "prompt=Tell me about rivers")
        wait_for_text(out, "answer-more:", 30)
        assert '"type": 9' in send("--click", "answer-more")
        assert '"type": 5' in send("--modal", "answer-ask", "question=And lakes?")
        wait_for_text(out, "kind=follow_up messages=1 model=standin-chat outcome=end", 30)
        notes = tmp_path / "notes.txt"
        notes.write_text("otters hold hands while they sleep")
        assert '"type": 5' in send("ask", "prompt=What is this?", f"file={notes}")
        # its answer: the second of /ask's (the stand-in's text names the file's words)
        deadline = time.monotonic() + 30
        while out.read_text().count("kind=ask messages=1") < 2:
            assert time.monotonic() < deadline, "the answer about the file never came"
            time.sleep(0.2)
        assert "That file is not one Discord hosts" not in out.read_text()
        assert '"type": 5' in send("summarize", "messages=3")
        wait_for_text(out, "kind=summarize", 60)
    assert running.process.returncode == 0
    assert "[local] stopped" in out.read_text()


def test_a_port_in_use_stops_make_run_at_once_naming_its_variable(tmp_path):
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        taken = str(held.getsockname()[1])
        env = local_env(tmp_path, {"PORT": str(free_port()), "LLM_STANDIN_PORT": taken})
        result = run_module("devtools.local", env=env, timeout=30)
    assert result.returncode == 1
    assert f"port {taken} is in use" in result.stdout
    assert "LLM_STANDIN_PORT=" in result.stdout


def test_a_service_that_cannot_start_stops_make_run(tmp_path):
    ports = {name: str(free_port()) for name in ("PORT", "LOCAL_AWS_PORT", "DISCORD_STANDIN_PORT")}
    env = local_env(tmp_path, ports)
    # Anthropic without its key: the worker stops at once with a configuration error.
    env.update(LLM_PROVIDER="anthropic", LLM_MODEL="claude-x")
    result = run_module("devtools.local", env=env, timeout=90)
    assert result.returncode == 1
    assert "LLM_API_KEY: is required with LLM_PROVIDER=anthropic" in result.stdout
    assert "a service stopped on its own: stopping the rest" in result.stdout
    assert "[local] stopped" in result.stdout


def test_register_prints_the_bulk_overwrite_body():
    printed = subprocess.run(
        [sys.executable, "-m", "devtools.register", "--print"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    assert {(c["type"], c["name"]) for c in json.loads(printed)} == BOT_COMMANDS


async def test_register_overwrites_commands_with_the_bot_token(discord):
    import asyncio

    env = {
        **os.environ,
        "DISCORD_APPLICATION_ID": APPLICATION_ID,
        "DISCORD_BOT_TOKEN": BOT_TOKEN,
        "DISCORD_API_URL": discord.url,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "devtools.register",
        "--guild",
        "900000000000000001",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
    )
    stdout, _ = await process.communicate()
    assert process.returncode == 0
    assert f"registered {len(BOT_COMMANDS)} commands for server 900000000000000001" in (
        stdout.decode()
    )
    stored = discord.commands["900000000000000001"]
    assert {(c["type"], c["name"]) for c in stored} == BOT_COMMANDS


async def test_a_service_line_longer_than_the_readers_buffer_does_not_stop_its_output(capsys):
    from devtools.local import _pump

    stream = asyncio.StreamReader()
    stream.feed_data(b"x" * 200_000 + b"\nthe next line\n")
    stream.feed_eof()
    await _pump("api", stream)
    printed = capsys.readouterr().out
    assert "[api] the next line" in printed
    assert printed.count("x") == 200_000 + 1  # shown in pieces, nothing lost ("next": 1)
