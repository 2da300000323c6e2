"""The one stack: network, jobs, secrets, API, worker, scheduler and alarms, wired with
least-privilege grants. Values that differ per environment come from ``infra/app.py``."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.jobs import Jobs
from infra.monitoring import Alarms
from infra.network import Network
from infra.scheduler import BUS_NAME, Scheduler
from infra.secrets import BotSecrets
from infra.services import Api, Worker

SSM_PREFIX = "/discord-bot"


@dataclass(frozen=True, kw_only=True)
class StackSettings:
    application_id: str
    api_tasks: int = 2
    worker_min_tasks: int = 1
    worker_max_tasks: int = 10
    nat_gateways: int = 0
    max_receives: int = 5
    visibility_seconds: int = 60
    log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH
    certificate_arn: str | None = None
    domain_name: str | None = None


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
        secrets = BotSecrets(self, "Secrets")
        common = {
            "DISCORD_APPLICATION_ID": settings.application_id,
            "JOBS_QUEUE_URL": jobs.queue.queue_url,
            "SSM_PREFIX": SSM_PREFIX,
            "LOG_FORMAT": "json",
        }
        api = Api(
            self,
            "Api",
            network=network,
            environment={**common, "AWS_REGION": self.region},
            secret=secrets.secret,
            custom_id_key=secrets.custom_id_key,
            desired_count=settings.api_tasks,
            retention=settings.log_retention,
            certificate_arn=settings.certificate_arn,
            domain_name=settings.domain_name,
        )
        # Lambda sets AWS_REGION itself (and refuses it as a variable).
        scheduler = Scheduler(
            self, "Scheduler", environment=common, retention=settings.log_retention
        )
        worker = Worker(
            self,
            "Worker",
            network=network,
            environment={
                **common,
                "AWS_REGION": self.region,
                "IDEMPOTENCY_TABLE": jobs.table.table_name,
                "EVENT_BUS_NAME": BUS_NAME,
                "WORKER_MAX_RECEIVES": str(settings.max_receives),
                "WORKER_VISIBILITY_TIMEOUT": str(settings.visibility_seconds),
            },
            secret=secrets.secret,
            custom_id_key=secrets.custom_id_key,
            min_tasks=settings.worker_min_tasks,
            max_tasks=settings.worker_max_tasks,
            backlog_metric=jobs.queue.metric_approximate_number_of_messages_visible(),
            retention=settings.log_retention,
        )
        # Least privilege: the API only sends; the worker consumes, keeps its ledger,
        # publishes events and reads/writes server configuration; the Lambda reads it and
        # hands long tasks to the queue.
        jobs.queue.grant_send_messages(api.task_role)
        jobs.queue.grant(api.task_role, "sqs:GetQueueAttributes")
        jobs.queue.grant_consume_messages(worker.task_role)
        jobs.table.grant_read_write_data(worker.task_role)
        scheduler.bus.grant_put_events_to(worker.task_role)
        jobs.queue.grant_send_messages(scheduler.function)
        parameters = f"arn:aws:ssm:{self.region}:{self.account}:parameter{SSM_PREFIX}/*"
        read = iam.PolicyStatement(
            actions=["ssm:GetParameter", "ssm:GetParametersByPath"],
            resources=[
                parameters,
                f"arn:aws:ssm:{self.region}:{self.account}:parameter{SSM_PREFIX}",
            ],
        )
        for role in (worker.task_role, scheduler.function.role):
            assert role is not None
            role.add_to_principal_policy(read)
        worker.task_role.add_to_principal_policy(
            iam.PolicyStatement(actions=["ssm:PutParameter"], resources=[parameters])
        )
        Alarms(
            self,
            "Alarms",
            jobs=jobs.queue,
            dead_letter_queues=[jobs.dlq, scheduler.dead_letters],
            load_balancer=api.service.load_balancer,
        )
        self.api, self.worker, self.scheduler, self.jobs = api, worker, scheduler, jobs
