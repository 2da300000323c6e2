"""The one stack: network, jobs, secrets, API, worker, scheduler and alarms, wired with
least-privilege grants. Values that differ per environment come from ``infra/app.py``."""

from __future__ import annotations

from dataclasses import dataclass, field

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.dashboard import BotDashboard
from infra.jobs import Jobs
from infra.model import Model, ModelSettings
from infra.monitoring import Alarms
from infra.network import Network
from infra.scheduler import Scheduler
from infra.secrets import BotSecrets
from infra.services import Api, Worker


@dataclass(frozen=True, kw_only=True)
class StackSettings:
    application_id: str
    # The application's public key (hex): public by design (Discord shows it to anyone with
    # the application), so a plain setting, not a secret; valid from the first deploy.
    public_key: str
    stage: str = "dev"
    api_tasks: int = 2
    worker_min_tasks: int = 1
    worker_max_tasks: int = 10
    nat_gateways: int = 0
    max_receives: int = 5
    visibility_seconds: int = 60
    log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH
    certificate_arn: str | None = None
    domain_name: str | None = None
    alarm_email: str | None = None
    model: ModelSettings = field(default_factory=ModelSettings)

    @property
    def prod(self) -> bool:
        return self.stage == "prod"

    @property
    def suffix(self) -> str:
        """Names unique in an account and region carry the stage outside prod, so dev and
        prod can share an account without one writing the other's configuration."""
        return "" if self.prod else f"-{self.stage}"

    @property
    def metrics_namespace(self) -> str:
        return f"DiscordBot{self.suffix}"

    @property
    def ssm_prefix(self) -> str:
        return f"/discord-bot{self.suffix}"

    @property
    def bus_name(self) -> str:
        return f"discord-bot-events{self.suffix}"


class BotStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, settings: StackSettings, **kwargs: object
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        network = Network(self, "Network", nat_gateways=settings.nat_gateways)
        jobs = Jobs(
            self,
            "Jobs",
            max_receives=settings.max_receives,
            visibility_seconds=settings.visibility_seconds,
        )
        secrets = BotSecrets(self, "Secrets", retain=settings.prod)
        model = Model(self, "Model", settings=settings.model, retain=settings.prod)
        common = {
            "DISCORD_APPLICATION_ID": settings.application_id,
            "JOBS_QUEUE_URL": jobs.queue.queue_url,
            "SSM_PREFIX": settings.ssm_prefix,
            "LOG_FORMAT": "json",
            # The metrics the services' log lines carry, apart for each stage.
            "METRICS_NAMESPACE": settings.metrics_namespace,
        }
        api = Api(
            self,
            "Api",
            network=network,
            environment={
                **common,
                "DISCORD_PUBLIC_KEY": settings.public_key,
                "AWS_REGION": self.region,
                "LIMITS_TABLE": jobs.limits.table_name,
                **model.environment(),
            },
            secrets=secrets,
            desired_count=settings.api_tasks,
            retention=settings.log_retention,
            certificate_arn=settings.certificate_arn,
            domain_name=settings.domain_name,
        )
        # Lambda sets AWS_REGION itself (and refuses it as a variable); it reads the job
        # signing key from Secrets Manager when it first hands a long task over.
        scheduler = Scheduler(
            self,
            "Scheduler",
            environment={
                **common,
                "JOB_SIGNING_KEY_SECRET_ARN": secrets.job_signing_key.secret_arn,
            },
            retention=settings.log_retention,
            bus_name=settings.bus_name,
        )
        worker = Worker(
            self,
            "Worker",
            network=network,
            environment={
                **common,
                "DISCORD_PUBLIC_KEY": settings.public_key,
                "AWS_REGION": self.region,
                "IDEMPOTENCY_TABLE": jobs.table.table_name,
                "LIMITS_TABLE": jobs.limits.table_name,
                "EVENT_BUS_NAME": settings.bus_name,
                "WORKER_MAX_RECEIVES": str(settings.max_receives),
                "WORKER_VISIBILITY_TIMEOUT": str(settings.visibility_seconds),
                **model.environment(),
            },
            secrets=secrets,
            extra_secrets=model.worker_secrets(),
            min_tasks=settings.worker_min_tasks,
            max_tasks=settings.worker_max_tasks,
            # Every minute, so the first job after an idle spell starts a worker within one.
            backlog_metric=jobs.queue.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(1)
            ),
            retention=settings.log_retention,
        )
        grant(self, settings, jobs=jobs, api=api, worker=worker, scheduler=scheduler)
        model.grant(api=api.task_role, worker=worker.task_role)
        secrets.job_signing_key.grant_read(scheduler.function)
        alarms = Alarms(
            self,
            "Alarms",
            jobs=jobs.queue,
            dead_letter_queues=[jobs.dlq, scheduler.dead_letters],
            load_balancer=api.service.load_balancer,
            target_group=api.service.target_group,
            scheduler=scheduler.function,
            email=settings.alarm_email,
            namespace=settings.metrics_namespace,
        )
        BotDashboard(
            self,
            "Dashboard",
            namespace=settings.metrics_namespace,
            dashboard_name=f"discord-bot{settings.suffix}",
            jobs=jobs.queue,
            dead_letter_queues=[jobs.dlq, scheduler.dead_letters],
            load_balancer=api.service.load_balancer,
            api_service=api.service.service,
            worker_service=worker.service,
            scheduler=scheduler.function,
        )
        self.api, self.worker, self.scheduler, self.jobs = api, worker, scheduler, jobs
        self.alarm_topic = alarms.topic
        self.secrets = secrets
        self.model = model


def grant(
    stack: Stack,
    settings: StackSettings,
    *,
    jobs: Jobs,
    api: Api,
    worker: Worker,
    scheduler: Scheduler,
) -> None:
    """Least privilege: the API only sends; the worker consumes, keeps its ledger item by item,
    publishes events, reads server configuration and writes only servers' own, and holds
    scale-in protection; the Lambda reads configuration and hands long tasks to the queue."""
    jobs.queue.grant_send_messages(api.task_role)  # with GetQueueAttributes, for /readyz
    # Limits: the API takes places (a read, then a conditional put) and gives one back when
    # the queue refuses the job; the worker renews and frees them.
    jobs.limits.grant(api.task_role, "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem")
    jobs.limits.grant(worker.task_role, "dynamodb:UpdateItem")
    jobs.queue.grant_consume_messages(worker.task_role)
    jobs.table.grant(
        worker.task_role,
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
    )
    scheduler.bus.grant_put_events_to(worker.task_role)
    jobs.queue.grant_send_messages(scheduler.function)
    region, account = stack.region, stack.account
    prefix = settings.ssm_prefix
    read = iam.PolicyStatement(
        actions=["ssm:GetParameter", "ssm:GetParametersByPath"],
        resources=[
            f"arn:aws:ssm:{region}:{account}:parameter{prefix}/*",
            f"arn:aws:ssm:{region}:{account}:parameter{prefix}",
        ],
    )
    for role in (worker.task_role, scheduler.function.role):
        assert role is not None
        role.add_to_principal_policy(read)
    # /config writes one server's settings and webhook; the default webhook is the operator's.
    worker.task_role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["ssm:PutParameter"],
            resources=[f"arn:aws:ssm:{region}:{account}:parameter{prefix}/servers/*"],
        )
    )
    # Scale-in protection while jobs run (services/worker/protection.py): without it ECS
    # refuses the call, and busy tasks are stopped at every scale-in and deploy.
    cluster = worker.service.cluster.cluster_name
    worker.task_role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["ecs:UpdateTaskProtection", "ecs:GetTaskProtection"],
            resources=[f"arn:aws:ecs:{region}:{account}:task/{cluster}/*"],
        )
    )
