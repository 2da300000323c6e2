"""The API (Fargate behind an ALB) and the worker (Fargate scaled on queue backlog)."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_ecs_patterns as patterns
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.network import Network

ROOT = str(Path(__file__).resolve().parent.parent)


def image(target: str) -> ecs.ContainerImage:
    return ecs.ContainerImage.from_asset(ROOT, file="docker/Dockerfile", target=target)


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
        secret: secretsmanager.ISecret,
        custom_id_key: secretsmanager.ISecret,
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
            public_load_balancer=True,
            assign_public_ip=network.tasks_public,
            task_subnets=network.task_subnets,
            circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True),
            certificate=acm.Certificate.from_certificate_arn(self, "Cert", certificate_arn)
            if https and certificate_arn
            else None,
            protocol=elbv2.ApplicationProtocol.HTTPS if https else elbv2.ApplicationProtocol.HTTP,
            redirect_http=https,
            task_image_options=patterns.ApplicationLoadBalancedTaskImageOptions(
                image=image("api"),
                container_port=8080,
                environment=environment,
                secrets={
                    "DISCORD_PUBLIC_KEY": ecs.Secret.from_secrets_manager(secret, "public_key"),
                    "CUSTOM_ID_SECRET": ecs.Secret.from_secrets_manager(custom_id_key),
                },
                log_driver=log_driver(self, "Api", retention),
            ),
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
        secret: secretsmanager.ISecret,
        custom_id_key: secretsmanager.ISecret,
        min_tasks: int,
        max_tasks: int,
        backlog_metric: object,
        retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        task = ecs.FargateTaskDefinition(self, "Task", cpu=512, memory_limit_mib=1024)
        task.add_container(
            "worker",
            image=image("worker"),
            environment=environment,
            secrets={
                "DISCORD_BOT_TOKEN": ecs.Secret.from_secrets_manager(secret, "bot_token"),
                "CUSTOM_ID_SECRET": ecs.Secret.from_secrets_manager(custom_id_key),
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
            desired_count=max(min_tasks, 1),
            assign_public_ip=network.tasks_public,
            vpc_subnets=network.task_subnets,
            circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True),
            min_healthy_percent=100,
        )
        scaling = self.service.auto_scale_task_count(min_capacity=min_tasks, max_capacity=max_tasks)
        # Steps on the backlog of visible messages: one task per ~50 waiting jobs, and to the
        # minimum (zero, when allowed) once the queue is empty.
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
            cooldown=Duration.seconds(60),
        )
        self.task_role = task.task_role
