"""Settings, read once at start from an injected mapping (normally ``os.environ``).

Every service builds its frozen settings object in ``main()``; nothing reads the environment
later. A missing or malformed value raises ``ConfigError`` naming the variable, which the
service's ``main()`` prints as one line before exiting.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from services.core.env import Env, Secret
from services.core.errors import ConfigError
from services.core.llm.settings import LLM_VARIABLES, LlmSettings

# Every variable the services read: the configuration contract (README, .env.example).
CONFIG_VARIABLES: Final = frozenset(
    {
        "DISCORD_PUBLIC_KEY",
        "DISCORD_APPLICATION_ID",
        "DISCORD_BOT_TOKEN",
        "DISCORD_API_URL",
        "DISCORD_REPLAY_WINDOW",
        "CUSTOM_ID_SECRET",
        "JOB_SIGNING_KEY",
        "JOB_SIGNING_KEY_SECRET_ARN",
        "JOBS_ACCEPT_V1",
        "JOBS_QUEUE_URL",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ENDPOINT_URL",
        "HOST",
        "PORT",
        "ENQUEUE_TIMEOUT",
        "WORKER_CONCURRENCY",
        "WORKER_VISIBILITY_TIMEOUT",
        "WORKER_SHUTDOWN_GRACE",
        "WORKER_POLL_SECONDS",
        "WORKER_MAX_RECEIVES",
        "WORKER_RETRY_BASE",
        "IDEMPOTENCY_TABLE",
        "IDEMPOTENCY_KEEP_SECONDS",
        "ECS_AGENT_URI",
        "LIMITS_TABLE",
        "LIMIT_USER_RUNNING",
        "LIMIT_USER_PER_MINUTE",
        "LIMIT_SERVER_RUNNING",
        "LIMIT_SERVER_PER_MINUTE",
        "SSM_PREFIX",
        "EVENT_BUS_NAME",
        "LOG_LEVEL",
        "LOG_FORMAT",
    }
    | LLM_VARIABLES
)
DEFAULT_DISCORD_API_URL: Final = "https://discord.com/api/v10"
_LOG_LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR")
DEFAULT_NAMESPACE: Final = "DiscordBot"
# CloudWatch's rules for a namespace (PutMetricData, "Namespace"): 1-255 characters, letters,
# digits, . - _ / # : and space, not starting with a colon, and AWS/ is AWS's own.
_NAMESPACE: Final = re.compile(r"[A-Za-z0-9.\-_/# ][A-Za-z0-9.\-_/#: ]{0,254}")


@dataclass(frozen=True, slots=True)
class LogSettings:
    level: str
    format: Literal["json", "console"]
    # The CloudWatch namespace of the metrics the JSON lines carry (the stack gives each
    # stage its own, so dev's commands never count as prod's).
    metrics_namespace: str = DEFAULT_NAMESPACE

    @classmethod
    def from_env(cls, env: Env) -> LogSettings:
        fmt = env.choice("LOG_FORMAT", "json", ("json", "console"))
        namespace = env.text("METRICS_NAMESPACE", DEFAULT_NAMESPACE)
        if _NAMESPACE.fullmatch(namespace) is None or namespace.upper().startswith("AWS/"):
            raise ConfigError(
                "METRICS_NAMESPACE",
                "must be 1-255 letters, digits, spaces or . - _ / # :, not start with a colon "
                "or AWS/",
            )
        return cls(
            level=env.choice("LOG_LEVEL", "INFO", _LOG_LEVELS),
            format="console" if fmt == "console" else "json",
            metrics_namespace=namespace,
        )


@dataclass(frozen=True, slots=True)
class AwsSettings:
    region: str
    endpoint_url: str | None
    jobs_queue_url: str

    @classmethod
    def from_env(cls, env: Env) -> AwsSettings:
        region = env.optional("AWS_REGION") or env.optional("AWS_DEFAULT_REGION")
        if region is None:
            raise ConfigError("AWS_REGION", "is required (or AWS_DEFAULT_REGION)")
        endpoint = env.optional("AWS_ENDPOINT_URL")
        return cls(
            region=region,
            endpoint_url=env.url("AWS_ENDPOINT_URL") if endpoint else None,
            jobs_queue_url=env.url("JOBS_QUEUE_URL"),
        )


# An HMAC key guessed from few characters would let a client forge signed custom_ids, or
# anyone who can send to the queue forge jobs.
MIN_CUSTOM_ID_SECRET: Final = 32
MIN_JOB_SIGNING_KEY: Final = 32


@dataclass(frozen=True, slots=True)
class JobSigning:
    """The key that signs and checks every job on the queue (``services.core.jobs``)."""

    key: Secret | None
    # The scheduler Lambda reads the key from Secrets Manager at its first long task, so it
    # never sits in the function's configuration.
    secret_arn: str | None = None
    # Read unsigned version-1 jobs: only during the deploy that upgrades a running bot.
    accept_v1: bool = False

    @classmethod
    def from_env(cls, env: Env, *, required: bool) -> JobSigning:
        key = env.secret("JOB_SIGNING_KEY", min_length=MIN_JOB_SIGNING_KEY)
        arn = env.optional("JOB_SIGNING_KEY_SECRET_ARN")
        if required and key is None:
            raise ConfigError("JOB_SIGNING_KEY", "is required: it signs and checks every job")
        return cls(key=key, secret_arn=arn, accept_v1=env.flag("JOBS_ACCEPT_V1"))

    @property
    def key_bytes(self) -> bytes | None:
        return self.key.reveal().encode() if self.key else None


@dataclass(frozen=True, slots=True)
class LimitSettings:
    """Limits on long jobs (``services.core.limits``); 0 turns one off. Without a table
    there are none: they must be counted where every API task sees the same numbers."""

    table: str | None
    user_running: int
    user_per_minute: int
    server_running: int
    server_per_minute: int

    @classmethod
    def from_env(cls, env: Env) -> LimitSettings:
        def limit(name: str, default: int) -> int:
            return env.integer(name, default, minimum=0, maximum=10_000)

        return cls(
            table=env.optional("LIMITS_TABLE"),
            user_running=limit("LIMIT_USER_RUNNING", 3),
            user_per_minute=limit("LIMIT_USER_PER_MINUTE", 10),
            server_running=limit("LIMIT_SERVER_RUNNING", 25),
            server_per_minute=limit("LIMIT_SERVER_PER_MINUTE", 60),
        )


@dataclass(frozen=True, slots=True)
class DiscordSettings:
    application_id: str
    api_url: str
    bot_token: Secret | None
    # Signs the custom_ids of components declared ``signed=True``; the API and the worker
    # must share it (the API reads ids the worker's replies carry, and the other way round).
    custom_id_secret: Secret | None = None

    @classmethod
    def from_env(cls, env: Env) -> DiscordSettings:
        token = env.optional("DISCORD_BOT_TOKEN")
        secret = env.optional("CUSTOM_ID_SECRET")
        if secret is not None and len(secret) < MIN_CUSTOM_ID_SECRET:
            raise ConfigError(
                "CUSTOM_ID_SECRET", f"must be at least {MIN_CUSTOM_ID_SECRET} characters"
            )
        return cls(
            application_id=env.snowflake("DISCORD_APPLICATION_ID"),
            api_url=env.url("DISCORD_API_URL", DEFAULT_DISCORD_API_URL, secure=True),
            bot_token=Secret(token) if token else None,
            custom_id_secret=Secret(secret) if secret else None,
        )

    @property
    def custom_id_key(self) -> bytes | None:
        return self.custom_id_secret.reveal().encode() if self.custom_id_secret else None


@dataclass(frozen=True, slots=True)
class ApiSettings:
    public_key: bytes
    discord: DiscordSettings
    aws: AwsSettings
    log: LogSettings
    host: str
    port: int
    # Discord signs the timestamp; refusing old ones stops a captured request being replayed.
    replay_window: float
    # Discord waits 3 s for the first response (Discord docs, "Receiving an Interaction");
    # the enqueue must give up well before that so the user still gets an error message.
    enqueue_timeout: float
    jobs: JobSigning
    limits: LimitSettings
    # The API refuses model commands over budget and sets Stop flags; it never calls a model.
    llm: LlmSettings

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> ApiSettings:
        env = Env(environ)
        return cls(
            jobs=JobSigning.from_env(env, required=True),
            public_key=env.hex_bytes("DISCORD_PUBLIC_KEY", 32),
            discord=DiscordSettings.from_env(env),
            aws=AwsSettings.from_env(env),
            log=LogSettings.from_env(env),
            host=env.text("HOST", "0.0.0.0"),  # noqa: S104 - a container listens on all interfaces
            port=env.integer("PORT", 8080, minimum=1, maximum=65535),
            replay_window=env.number("DISCORD_REPLAY_WINDOW", 300.0, minimum=1.0, maximum=3600.0),
            enqueue_timeout=env.number("ENQUEUE_TIMEOUT", 1.5, minimum=0.1, maximum=2.5),
            limits=LimitSettings.from_env(env),
            llm=LlmSettings.from_env(env, calls_model=False),
        )


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    discord: DiscordSettings
    aws: AwsSettings
    log: LogSettings
    concurrency: int
    visibility_timeout: int
    # ECS sends SIGTERM, then SIGKILL after the task's stopTimeout, at most 120 s
    # (ECS task definition docs, "stopTimeout"): drain must end before that.
    shutdown_grace: float
    # SQS long polling: 20 s is the longest wait SQS allows and the cheapest (fewest empty
    # receives); an idle worker's shutdown waits for the poll in flight, so at most this long.
    poll_seconds: int
    # The DynamoDB table that makes each job run once; unset, jobs run at least once.
    idempotency_table: str | None
    # Must equal the jobs queue's redrive maxReceiveCount: the last receive tells the user.
    max_receives: int
    # How long a "completed" record is kept: longer than the queue's message retention.
    idempotency_keep: int
    # First delay before a failed job runs again; doubled each receive, capped at 5 minutes.
    retry_base: float
    # Set by ECS in every task; when present the worker asks for scale-in protection.
    ecs_agent_uri: str | None
    # Per-server configuration in SSM, and the bus commands publish events on.
    ssm_prefix: str
    event_bus: str
    # The worker checks Discord's signature on every interaction job, as the API did.
    public_key: bytes
    jobs: JobSigning
    # The worker renews and frees the places its jobs hold.
    limits: LimitSettings
    llm: LlmSettings

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> WorkerSettings:
        env = Env(environ)
        return cls(
            public_key=env.hex_bytes("DISCORD_PUBLIC_KEY", 32),
            jobs=JobSigning.from_env(env, required=True),
            discord=DiscordSettings.from_env(env),
            aws=AwsSettings.from_env(env),
            log=LogSettings.from_env(env),
            concurrency=env.integer("WORKER_CONCURRENCY", 16, minimum=1, maximum=1000),
            # SQS allows 0..43200 s (12 h) for a message's visibility timeout.
            visibility_timeout=env.integer(
                "WORKER_VISIBILITY_TIMEOUT", 60, minimum=2, maximum=43200
            ),
            shutdown_grace=env.number("WORKER_SHUTDOWN_GRACE", 90.0, minimum=0.0, maximum=110.0),
            poll_seconds=env.integer("WORKER_POLL_SECONDS", 20, minimum=1, maximum=20),
            idempotency_table=env.optional("IDEMPOTENCY_TABLE"),
            max_receives=env.integer("WORKER_MAX_RECEIVES", 5, minimum=1, maximum=1000),
            # SQS keeps a message at most 14 days; keep the record a day longer than that.
            ecs_agent_uri=env.optional("ECS_AGENT_URI"),
            ssm_prefix=ssm_prefix(env),
            event_bus=env.text("EVENT_BUS_NAME", "discord-bot-events"),
            retry_base=env.number("WORKER_RETRY_BASE", 5.0, minimum=0.5, maximum=300.0),
            idempotency_keep=env.integer(
                "IDEMPOTENCY_KEEP_SECONDS", 15 * 86400, minimum=60, maximum=365 * 86400
            ),
            limits=LimitSettings.from_env(env),
            llm=LlmSettings.from_env(env, calls_model=True),
        )


@dataclass(frozen=True, slots=True)
class SchedulerSettings:
    discord: DiscordSettings
    aws: AwsSettings
    log: LogSettings
    # Where per-server configuration lives in SSM Parameter Store.
    ssm_prefix: str
    # Needed only to hand long tasks to the worker: the key, or the secret that holds it.
    jobs: JobSigning

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> SchedulerSettings:
        env = Env(environ)
        return cls(
            jobs=JobSigning.from_env(env, required=False),
            discord=DiscordSettings.from_env(env),
            aws=AwsSettings.from_env(env),
            log=LogSettings.from_env(env),
            ssm_prefix=ssm_prefix(env),
        )


def ssm_prefix(env: Env) -> str:
    prefix = env.text("SSM_PREFIX", "/discord-bot")
    if not prefix.startswith("/") or prefix.endswith("/"):
        raise ConfigError("SSM_PREFIX", f"must start with '/' and not end with one: {prefix!r}")
    return prefix
