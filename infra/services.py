"""The API (Fargate behind an ALB) and the worker (Fargate scaled on queue backlog), both
ARM64 (Graviton: the same work for about a fifth less than x86 on Fargate)."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_ecs_patterns as patterns
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.network import Network
from infra.secrets import BotSecrets

ROOT = str(Path(__file__).resolve().parent.parent)
ARM64: ecs.RuntimePlatform = ecs.RuntimePlatform(
    cpu_architecture=ecs.CpuArchitecture.ARM64,
    operating_system_family=ecs.OperatingSystemFamily.LINUX,
)
# The load balancer closes an idle connection after this; the API keeps them longer (75 s,
# services/api/guard.py), so the balancer never sends on one the API is closing.
LOAD_BALANCER_IDLE = Duration.seconds(60)
# The API holds no long requests: a task leaving the target group is drained in seconds.
DEREGISTRATION_DELAY = "10"


def image(target: str) -> ecs.ContainerImage:
    return ecs.ContainerImage.from_asset(
        ROOT, file="docker/Dockerfile", target=target, platform=ecr_assets.Platform.LINUX_ARM64
    )


def log_driver(scope: Construct, name: str, retention: logs.RetentionDays) -> ecs.LogDriver:
    group = logs.LogGroup(scope, f"{name}Logs", retention=retention)
    return ecs.LogDrivers.aws_logs(stream_prefix=name.lower(), log_group=group)


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        network: Network,
        environment: dict[str, str],
        secrets: BotSecrets,
        desired_count: int,
        retention: logs.RetentionDays,
        certificate_arn: str | None,
        domain_name: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
        https = certificate_arn is not None and domain_name is not None
        self.service = patterns.ApplicationLoadBalancedFargateService(
            self,
            "Service",
            cluster=network.cluster,
            desired_count=desired_count,
            cpu=256,
            memory_limit_mib=512,
            runtime_platform=ARM64,
            public_load_balancer=True,
            # A deploy starts new tasks before it stops old ones: no moment with fewer.
            min_healthy_percent=100,
            assign_public_ip=network.tasks_public,
            task_subnets=network.task_subnets,
            circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True),
            certificate=acm.Certificate.from_certificate_arn(self, "Cert", certificate_arn)
            if https and certificate_arn
            else None,
            protocol=elbv2.ApplicationProtocol.HTTPS if https else elbv2.ApplicationProtocol.HTTP,
            # TLS 1.2 and 1.3 only (ELB's recommended policy); port 80 redirects to 443.
            ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS if https else None,
            redirect_http=https,
            idle_timeout=LOAD_BALANCER_IDLE,
            task_image_options=patterns.ApplicationLoadBalancedTaskImageOptions(
                image=image("api"),
                container_port=8080,
                environment=environment,
                secrets={
                    "CUSTOM_ID_SECRET": ecs.Secret.from_secrets_manager(secrets.custom_id_key),
                    "JOB_SIGNING_KEY": ecs.Secret.from_secrets_manager(secrets.job_signing_key),
                },
                log_driver=log_driver(self, "Api", retention),
            ),
        )
        # Requests with header fields HTTP does not allow never reach the API.
        self.service.load_balancer.set_attribute(
            "routing.http.drop_invalid_header_fields.enabled", "true"
        )
        self.service.target_group.set_attribute(
            "deregistration_delay.timeout_seconds", DEREGISTRATION_DELAY
        )
        self.service.target_group.configure_health_check(
            path="/healthz", healthy_http_codes="200", interval=Duration.seconds(15)
        )
        self.task_role = self.service.task_definition.task_role


class Worker(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        network: Network,
        environment: dict[str, str],
        secrets: BotSecrets,
        extra_secrets: dict[str, ecs.Secret] | None = None,
        min_tasks: int,
        max_tasks: int,
        backlog_metric: object,
        retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        task = ecs.FargateTaskDefinition(
            self, "Task", cpu=512, memory_limit_mib=1024, runtime_platform=ARM64
        )
        task.add_container(
            "worker",
            image=image("worker"),
            environment=environment,
            secrets={
                "DISCORD_BOT_TOKEN": ecs.Secret.from_secrets_manager(secrets.bot_token),
                "CUSTOM_ID_SECRET": ecs.Secret.from_secrets_manager(secrets.custom_id_key),
                "JOB_SIGNING_KEY": ecs.Secret.from_secrets_manager(secrets.job_signing_key),
                **(extra_secrets or {}),
            },
            logging=log_driver(self, "Worker", retention),
            # ECS's longest: the worker drains running jobs within WORKER_SHUTDOWN_GRACE.
            stop_timeout=Duration.seconds(120),
        )
        self.service = ecs.FargateService(
            self,
            "Service",
            cluster=network.cluster,
            task_definition=task,
            assign_public_ip=network.tasks_public,
            vpc_subnets=network.task_subnets,
            circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True),
            min_healthy_percent=100,
        )
        # No DesiredCount in the template: scaling owns it, and a deploy that set it would
        # reset a scaled-out fleet to one task (ECS starts a new service with one).
        service = self.service.node.default_child
        assert isinstance(service, ecs.CfnService)
        service.add_property_deletion_override("DesiredCount")
        scaling = self.service.auto_scale_task_count(min_capacity=min_tasks, max_capacity=max_tasks)
        # Steps on the backlog of visible messages, looked at every minute (SQS publishes
        # its metrics each minute): one task per ~50 waiting jobs, and down to the minimum
        # (zero, when allowed) once the queue is empty.
        scaling.scale_on_metric(
            "Backlog",
            metric=backlog_metric,  # type: ignore[arg-type]
            scaling_steps=[
                appscaling.ScalingInterval(upper=0, change=-1),
                appscaling.ScalingInterval(lower=1, change=+1),
                appscaling.ScalingInterval(lower=50, change=+2),
                appscaling.ScalingInterval(lower=500, change=+5),
            ],
            adjustment_type=appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
            evaluation_periods=1,
            datapoints_to_alarm=1,
            cooldown=Duration.seconds(60),
        )
        self.task_role = task.task_role
