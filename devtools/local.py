"""``make run``: the whole product on this machine.

With no Discord credentials in the environment it needs no AWS account and no Discord
application: an embedded SQS (moto's server), the API, the worker, and a local stand-in for
Discord that prints every message the bot sends. Send it signed interactions with
``python -m devtools.send``.

With ``DISCORD_PUBLIC_KEY`` (and ``DISCORD_APPLICATION_ID``, ``DISCORD_BOT_TOKEN``) set, the
same command serves real Discord; with ``JOBS_QUEUE_URL`` set it uses that queue instead of the
embedded one.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import secrets
import signal
import socket
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError
from nacl.signing import SigningKey

from devtools import aws

if TYPE_CHECKING:
    from devtools.standin import DiscordStandIn

ROOT = Path(__file__).resolve().parent.parent
STATE_DIR = Path(os.environ.get("LOCAL_STATE_DIR", ROOT / ".local"))
DEV_FILE = STATE_DIR / "dev.json"
DEV_APPLICATION_ID = "100000000000000001"


# What `devtools.fire` needs to reach the running stack.
_SHARED_ENV = frozenset(
    {
        "AWS_ENDPOINT_URL",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "JOBS_QUEUE_URL",
        "DISCORD_APPLICATION_ID",
        "DISCORD_API_URL",
        "EVENT_BUS_NAME",
        "SCHEDULER_QUEUE_URL",
        "SSM_PREFIX",
        "STANDIN",
    }
)


def _webhooks_for_local_servers(env: Mapping[str, str], fake: Any) -> None:
    """A default webhook and one for the development server, on the stand-in, in SSM."""
    from devtools.interactions import DEV_CHANNEL_ID, DEV_GUILD_ID

    prefix = env.get("SSM_PREFIX", "/discord-bot")
    ssm = aws.client("ssm", env["AWS_ENDPOINT_URL"])
    for name in (f"{prefix}/webhook-url", f"{prefix}/servers/{DEV_GUILD_ID}/webhook-url"):
        ssm.put_parameter(
            Name=name,
            Value=fake.create_webhook(DEV_CHANNEL_ID),
            Type="SecureString",
            Overwrite=True,
        )


def dev_identity() -> dict[str, str]:
    """The local signing key and application id, made once and kept in ``.local/``."""
    if DEV_FILE.exists():
        data: dict[str, str] = json.loads(DEV_FILE.read_text(encoding="utf-8"))
        if "custom_id_secret" in data and "job_signing_key" in data:
            return data
        # A file from an older version: add what it lacks.
        data.setdefault("custom_id_secret", secrets.token_urlsafe(32))
        data.setdefault("job_signing_key", secrets.token_urlsafe(32))
    else:
        STATE_DIR.mkdir(parents=True, exist_ok=True)
        key = SigningKey.generate()
        data = {
            "signing_key": key.encode().hex(),
            "public_key": key.verify_key.encode().hex(),
            "application_id": DEV_APPLICATION_ID,
            "custom_id_secret": secrets.token_urlsafe(32),
            "job_signing_key": secrets.token_urlsafe(32),
        }
    DEV_FILE.write_text(json.dumps(data, indent=1), encoding="utf-8")
    DEV_FILE.chmod(0o600)
    return data


def _interaction_id(token: str | None) -> str:
    """Dev tokens are base64 of ``interaction:<id>:...``; show the id, never the token."""
    if not token:
        return "?"
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except ValueError:
        return "?"
    parts = text.split(":")
    return parts[1] if len(parts) > 1 else "?"


def _components(message: Mapping[str, Any]) -> str:
    """Buttons and menus as ``[label → custom_id]``, so one can click them with devtools.send."""
    shown = [
        f"[{c.get('label') or c.get('placeholder') or 'menu'} → "
        f"{c.get('custom_id') or c.get('url')}{_choices(c)}]"
        for row in message.get("components") or []
        for c in row.get("components") or []
        if isinstance(c, Mapping)
    ]
    return (" " + " ".join(shown)) if shown else ""


def _choices(component: Mapping[str, Any]) -> str:
    """A string select's values, to pass with ``devtools.send --click ID --values ...``."""
    values = [o.get("value") for o in component.get("options") or [] if isinstance(o, Mapping)]
    return f" values {'|'.join(map(str, values))}" if values else ""


SHOWN_CHARS = 160
# The bot token of ``make run``: the stand-in plays Discord and accepts it for the bot's own
# routes (reading a channel for /summarize); it is nobody's real token.
LOCAL_BOT_TOKEN = "local.bot.token-make-run"


def _port_taken(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def print_event(kind: str, record: Any, message: Mapping[str, Any] | None) -> None:
    """One line per thing the stand-in saw or did, as a user would see it in Discord."""
    shown = dict(message or {})
    where = (
        f"channel {shown.get('channel_id')}"
        if kind == "webhook_post"
        else f"interaction {_interaction_id(record.token)}"
    )
    if kind == "modal":
        fields = [
            (c.get("component") or {}).get("custom_id") for c in shown.get("components") or []
        ]
        print(
            f"[discord] {kind:<14} {where}: form {shown.get('title')!r} "
            f"(custom_id {shown.get('custom_id')}, fields {fields})",
            flush=True,
        )
        return
    if kind == "autocomplete":
        names = [c.get("name") for c in shown.get("choices") or []]
        print(f"[discord] {kind:<14} {where}: {names}", flush=True)
        return
    flags = shown.get("flags") or 0
    visibility = " (ephemeral)" if flags & 64 else ""
    content = "Bot is thinking…" if flags & 128 else shown.get("content", "")
    if kind in ("edit_original", "edit_followup") and len(content) > SHOWN_CHARS:
        # A streamed answer is edited many times: its newest words say what changed.
        content = f"[{len(content)} chars] …{content[-SHOWN_CHARS:]}"
    if kind == "edit_followup" and shown.get("id"):
        where += f", follow-up {shown['id']}"
    extra = _components(shown)
    print(f"[discord] {kind:<14} {where}{visibility}: {content!r}{extra}", flush=True)


async def _register(env: Mapping[str, str]) -> None:
    """The bot's commands, registered with the stand-in as with Discord: what the page's
    composer suggests."""
    from devtools.register import register
    from services.core.bot.loader import load_bot
    from services.core.config import DiscordSettings
    from services.core.env import Env

    await register(DiscordSettings.from_env(Env(env)), load_bot().router.to_discord(), None)


async def run_scheduler(env: Mapping[str, str], queue_url: str, stopping: asyncio.Event) -> None:
    """Stands in for the scheduler Lambda: takes the events EventBridge routes to its queue
    (and what `devtools.fire` puts there) and runs the same handler."""
    from services.core.config import SchedulerSettings
    from services.scheduler.handler import dispatch

    settings = SchedulerSettings.from_environ(env)
    # The handler's AWS clients read credentials from this process's environment.
    os.environ.update({k: env[k] for k in aws.LOCAL_CREDENTIALS if k in env})
    sqs = aws.client("sqs", env["AWS_ENDPOINT_URL"])
    while not stopping.is_set():
        try:
            response = await asyncio.to_thread(
                sqs.receive_message, QueueUrl=queue_url, WaitTimeSeconds=1, MaxNumberOfMessages=10
            )
        except (BotoCoreError, ClientError) as exc:
            if stopping.is_set():
                return
            print(f"[scheduler] cannot read its queue: {exc}", flush=True)
            await asyncio.sleep(1)
            continue
        for message in response.get("Messages", []):
            try:
                await dispatch(json.loads(message["Body"]), settings)
            except Exception as exc:  # a failed event is reported and dropped locally
                print(f"[scheduler] failed: {exc}", flush=True)
            await asyncio.to_thread(
                sqs.delete_message, QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"]
            )


def _exit(code: int | None) -> str:
    # uvicorn re-raises SIGTERM after a clean shutdown, so the API's clean exit reads -15.
    return "stopped cleanly" if code in (0, -signal.SIGTERM) else f"exit {code}"


# A service's output is read in chunks, not lines: one line longer than the reader's buffer
# (a user's 70,000-character option, logged) must not stop the reading, or the service
# blocks on a full pipe and stops answering.
_PUMP_CHUNK = 64 * 1024


async def _pump(name: str, stream: asyncio.StreamReader) -> None:
    pending = b""
    while chunk := await stream.read(_PUMP_CHUNK):
        *lines, pending = (pending + chunk).split(b"\n")
        if len(pending) > _PUMP_CHUNK:  # a line that long is shown in pieces
            lines.append(pending)
            pending = b""
        for line in lines:
            print(f"[{name}] {line.decode(errors='replace').rstrip()}", flush=True)
    if pending:
        print(f"[{name}] {pending.decode(errors='replace').rstrip()}", flush=True)


async def _spawn(name: str, env: Mapping[str, str]) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        f"services.{name}",
        env=dict(env),
        cwd=ROOT,
        # Its own process group: Ctrl-C reaches this process only, which stops the services
        # in order (SIGTERM, as ECS would), and the local AWS last.
        start_new_session=True,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert process.stdout is not None
    task = asyncio.create_task(_pump(name, process.stdout))
    _PUMPS.add(task)
    task.add_done_callback(_PUMPS.discard)
    return process


_PUMPS: set[asyncio.Task[None]] = set()


async def serve(environ: Mapping[str, str]) -> int:
    env = dict(environ)
    env.setdefault("LOG_FORMAT", "console")
    env.setdefault("PORT", "8080")
    env.setdefault("HOST", "127.0.0.1")
    # Short polls so Ctrl-C stops an idle worker at once; deployed workers poll 20 s.
    env.setdefault("WORKER_POLL_SECONDS", "2")
    real_discord = bool(env.get("DISCORD_PUBLIC_KEY"))
    wanted = [("PORT", env["PORT"])]
    if not env.get("JOBS_QUEUE_URL"):
        wanted.append(("LOCAL_AWS_PORT", env.get("LOCAL_AWS_PORT", "4566")))
    if not real_discord:
        wanted.append(("DISCORD_STANDIN_PORT", env.get("DISCORD_STANDIN_PORT", "8081")))
    if not env.get("LLM_PROVIDER"):
        wanted.append(("LLM_STANDIN_PORT", env.get("LLM_STANDIN_PORT", "8082")))
    taken = [(name, port) for name, port in wanted if _port_taken(int(port))]
    if taken:
        for name, port in taken:
            print(
                f"[local] port {port} is in use (another `make run`, or LocalStack?): free it "
                f"or choose another with {name}=...",
                flush=True,
            )
        return 1
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)

    with contextlib.ExitStack() as stack:
        if not env.get("JOBS_QUEUE_URL"):
            endpoint = stack.enter_context(aws.moto_server(int(env.get("LOCAL_AWS_PORT", "4566"))))
            queues = aws.create_job_queues(endpoint, "discord-bot-jobs")
            env = aws.process_env(
                endpoint, **{k: v for k, v in env.items() if not k.startswith("AWS_")}
            )
            env["JOBS_QUEUE_URL"] = queues.url
            env["IDEMPOTENCY_TABLE"] = aws.create_table(endpoint, "discord-bot-jobs")
            env["LIMITS_TABLE"] = aws.create_table(endpoint, "discord-bot-limits")
            env["LLM_TABLE"] = aws.create_table(endpoint, "discord-bot-answers")
            env["EVENT_BUS_NAME"] = "discord-bot-events"
            env["SCHEDULER_QUEUE_URL"] = aws.create_event_route(
                endpoint, env["EVENT_BUS_NAME"], "discord-bot-scheduler"
            )
            print(f"[local] AWS (moto) at {endpoint}, jobs queue {queues.url}", flush=True)
        async with contextlib.AsyncExitStack() as astack:
            standin: DiscordStandIn | None = None
            # The bot's own keys (not Discord's): kept in .local/dev.json, with real Discord too.
            identity = dev_identity()
            env.setdefault("CUSTOM_ID_SECRET", identity["custom_id_secret"])
            env.setdefault("JOB_SIGNING_KEY", identity["job_signing_key"])
            if not real_discord:
                from devtools.fire import LocalScheduler
                from devtools.standin import DiscordStandIn
                from services.core.bot.loader import load_bot

                env.setdefault("DISCORD_BOT_TOKEN", LOCAL_BOT_TOKEN)
                standin = await astack.enter_async_context(
                    DiscordStandIn(
                        application_id=identity["application_id"],
                        bot_token=env["DISCORD_BOT_TOKEN"],
                        on_event=print_event,
                        port=int(env.get("DISCORD_STANDIN_PORT", "8081")),
                        # The page's scheduler buttons, where there is a scheduler to fire.
                        scheduler=LocalScheduler(env, load_bot().tasks.names())
                        if env.get("SCHEDULER_QUEUE_URL")
                        else None,
                    )
                )
                env.update(
                    DISCORD_PUBLIC_KEY=identity["public_key"],
                    DISCORD_APPLICATION_ID=identity["application_id"],
                    DISCORD_API_URL=standin.url,
                    # Files attached to commands are served by the stand-in, as by Discord's CDN.
                    DISCORD_CDN_URL=standin.url,
                    STANDIN="1",
                )
                print(f"[local] Discord stand-in at {standin.url}", flush=True)
                if env.get("SCHEDULER_QUEUE_URL"):
                    _webhooks_for_local_servers(env, standin)
            if not env.get("LLM_PROVIDER"):
                # A local model that speaks the OpenAI protocol, so /ask works offline; set
                # LLM_PROVIDER (and its settings) to use a real one instead.
                from devtools.models.openai_standin import OpenAIStandIn

                model = await astack.enter_async_context(
                    OpenAIStandIn.running(port=int(env.get("LLM_STANDIN_PORT", "8082")))
                )
                env.update(LLM_PROVIDER="openai", LLM_MODEL="standin-chat", LLM_BASE_URL=model.url)
                print(f"[local] model stand-in (OpenAI protocol) at {model.url}", flush=True)
            processes = [await _spawn("api", env), await _spawn("worker", env)]
            scheduler = None
            if env.get("SCHEDULER_QUEUE_URL"):
                scheduler = asyncio.create_task(
                    run_scheduler(env, env["SCHEDULER_QUEUE_URL"], stopping)
                )
            (STATE_DIR / "env.json").write_text(
                json.dumps({k: v for k, v in env.items() if k in _SHARED_ENV}), encoding="utf-8"
            )
            api_url = f"http://{env['HOST']}:{env['PORT']}"
            try:
                await asyncio.to_thread(aws.wait_http, api_url + "/healthz", 30.0)
            except TimeoutError:
                print(f"[local] the API did not start on {api_url}", flush=True)
                stopping.set()
            else:
                if standin is not None:
                    # The stand-in delivers what devtools.send gives it, signed as Discord does.
                    key = SigningKey(bytes.fromhex(dev_identity()["signing_key"]))
                    standin.connect(api_url + "/interactions", key)
                    await _register(env)
                print(f"[local] API at {api_url}/interactions", flush=True)
                if standin is not None:
                    page = standin.url.rsplit("/api/", 1)[0] + "/"
                    print(f"[local] open {page} to use the bot in a Discord-like page", flush=True)
                    print(
                        "[local] try:  .venv/bin/python -m devtools.send ping\n"
                        "[local]       .venv/bin/python -m devtools.send countdown seconds=10\n"
                        "[local]       .venv/bin/python -m devtools.send roll sides=20\n"
                        '[local]       .venv/bin/python -m devtools.send ask prompt="a long story"',
                        flush=True,
                    )
            exited = [asyncio.create_task(p.wait()) for p in processes]
            stop = asyncio.create_task(stopping.wait())
            await asyncio.wait([stop, *exited], return_when=asyncio.FIRST_COMPLETED)
            asked = stopping.is_set()  # Ctrl-C or SIGTERM, not a service that exited
            stop.cancel()
            if not asked:
                print("[local] a service stopped on its own: stopping the rest", flush=True)
                stopping.set()
            for process in processes:
                if process.returncode is None:
                    process.send_signal(signal.SIGTERM)
            codes = await asyncio.gather(*exited)
            if scheduler is not None:
                await scheduler
            await asyncio.gather(*_PUMPS, return_exceptions=True)
            print(f"[local] stopped (api {_exit(codes[0])}, worker {_exit(codes[1])})", flush=True)
            return 0 if asked else 1
    return 1


def main() -> int:
    return asyncio.run(serve(os.environ))


if __name__ == "__main__":
    sys.exit(main())
