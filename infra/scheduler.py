"""The scheduler Lambda, the bot's event bus, the rule that routes notifications to it, and
the daily schedule (09:00 UTC)."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.jobs import encrypted_queue
from infra.services import ROOT


class Scheduler(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        environment: dict[str, str],
        retention: logs.RetentionDays,
        bus_name: str,
    ) -> None:
        super().__init__(scope, construct_id)
        # What EventBridge could not deliver after its retries waits here, and so does an
        # event whose invocation failed after Lambda's own retries (its on-failure
        # destination): a failing task or notification is kept, never dropped.
        self.dead_letters = encrypted_queue(self, "DeadLetters", days=14)
        self.function = lambda_.DockerImageFunction(
            self,
            "Function",
            code=lambda_.DockerImageCode.from_image_asset(
                ROOT,
                file="docker/Dockerfile",
                target="scheduler",
                platform=ecr_assets.Platform.LINUX_ARM64,
            ),
            architecture=lambda_.Architecture.ARM_64,
            timeout=Duration.minutes(5),
            memory_size=512,
            environment=environment,
            log_group=logs.LogGroup(self, "Logs", retention=retention),
            retry_attempts=2,
            on_failure=destinations.SqsDestination(self.dead_letters),
        )
        target_options = {"dead_letter_queue": self.dead_letters, "retry_attempts": 3}
        self.bus = events.EventBus(self, "Bus", event_bus_name=bus_name)
        events.Rule(
            self,
            "Notifications",
            event_bus=self.bus,
            event_pattern=events.EventPattern(source=["discord-bot"], detail_type=["notification"]),
            targets=[targets.LambdaFunction(self.function, **target_options)],  # type: ignore[arg-type]
        )
        events.Rule(
            self,
            "DailyReminder",
            schedule=events.Schedule.cron(minute="0", hour="9"),
            targets=[
                targets.LambdaFunction(
                    self.function,
                    # The run's time and id go with it: a long task is keyed by its time, so a
                    # retried invocation of the same run does not run it twice.
                    event=events.RuleTargetInput.from_object(
                        {
                            "type": "scheduled_task",
                            "task": "daily-reminder",
                            "time": events.EventField.time,
                            "id": events.EventField.event_id,
                        }
                    ),
                    **target_options,  # type: ignore[arg-type]
                )
            ],
        )
