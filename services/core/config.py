"""Settings, read once at start from an injected mapping (normally ``os.environ``).

Every service builds its frozen settings object in ``main()``; nothing reads the environment
later. A missing or malformed value raises ``ConfigError`` naming the variable, which the
service's ``main()`` prints as one line before exiting.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final, Literal, TypeVar
from urllib.parse import urlsplit

from services.core.discord.snowflake import is_snowflake
from services.core.errors import ConfigError

N = TypeVar("N", int, float)

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
        "SSM_PREFIX",
        "EVENT_BUS_NAME",
        "LOG_LEVEL",
        "LOG_FORMAT",
    }
)
DEFAULT_DISCORD_API_URL: Final = "https://discord.com/api/v10"
_LOG_LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR")


class Secret:
    """A string that never shows itself in ``repr``/``str``, so it cannot leak into a log."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def _private_host(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost" or "." not in host


class Env:
    """Typed, validating reads from an environment mapping."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def _raw(self, name: str) -> str | None:
        value = self._environ.get(name)
        if value is None or value.strip() == "":
            return None
        return value.strip()

    def text(self, name: str, default: str | None = None) -> str:
        value = self._raw(name)
        if value is None:
            if default is None:
                raise ConfigError(name, "is required but not set")
            return default
        return value

    def optional(self, name: str) -> str | None:
        return self._raw(name)

    def integer(self, name: str, default: int, *, minimum: int, maximum: int) -> int:
        return self._bounded(
            name, default, parse=int, kind="a whole number", low=minimum, high=maximum
        )

    def number(self, name: str, default: float, *, minimum: float, maximum: float) -> float:
        return self._bounded(name, default, parse=float, kind="a number", low=minimum, high=maximum)

    def _bounded(
        self, name: str, default: N, *, parse: Callable[[str], N], kind: str, low: N, high: N
    ) -> N:
        value = self._raw(name)
        if value is None:
            return default
        try:
            number = parse(value)
        except ValueError:
            raise ConfigError(name, f"must be {kind}, got {value!r}") from None
        if not low <= number <= high:
            raise ConfigError(name, f"must be between {low} and {high}, got {number}")
        return number

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self._raw(name)
        if value is None:
            return default
        if value.lower() in (c.lower() for c in choices):
            return next(c for c in choices if c.lower() == value.lower())
        raise ConfigError(name, f"must be one of {', '.join(choices)}, got {value!r}")

    def snowflake(self, name: str) -> str:
        value = self.text(name)
        if not is_snowflake(value):
            raise ConfigError(
                name, f"must be a Discord id (a number of up to 20 digits), got {value!r}"
            )
        return value

    def hex_bytes(self, name: str, length: int) -> bytes:
        value = self.text(name)
        try:
            raw = bytes.fromhex(value)
        except ValueError:
            raise ConfigError(name, "must be hexadecimal") from None
        if len(raw) != length:
            raise ConfigError(name, f"must be {length} bytes ({2 * length} hex digits)")
        return raw

    def secret(self, name: str, *, min_length: int) -> Secret | None:
        """A secret value (or ``None`` if unset), refused when too short to be a key."""
        value = self.optional(name)
        if value is None:
            return None
        if len(value) < min_length:
            raise ConfigError(name, f"must be at least {min_length} characters")
        return Secret(value)

    def flag(self, name: str) -> bool:
        value = self.choice(name, "false", ("true", "false", "1", "0", "yes", "no"))
        return value in ("true", "1", "yes")

    def url(self, name: str, default: str | None = None, *, secure: bool = False) -> str:
        """An http(s) URL. ``secure``: https, unless the host cannot be on the internet (a
        loopback address, or a one-word name such as a compose service's): the bot token
        travels to it."""
        value = self.text(name, default)
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(name, f"must be an http(s) URL, got {value!r}")
        if secure and parts.scheme != "https" and not _private_host(parts.hostname):
            raise ConfigError(name, f"must be https (http only for a local host), got {value!r}")
        return value.rstrip("/")


@dataclass(frozen=True, slots=True)
class LogSettings:
    level: str
    format: Literal["json", "console"]

    @classmethod
    def from_env(cls, env: Env) -> LogSettings:
        fmt = env.choice("LOG_FORMAT", "json", ("json", "console"))
        return cls(
            level=env.choice("LOG_LEVEL", "INFO", _LOG_LEVELS),
            format="console" if fmt == "console" else "json",
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
