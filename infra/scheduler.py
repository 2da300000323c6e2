"""The scheduler Lambda, the bot's event bus, the rule that routes notifications to it, and
the daily schedule (09:00 UTC)."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.jobs import encrypted_queue
from infra.services import ROOT

BUS_NAME = "discord-bot-events"


class Scheduler(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        environment: dict[str, str],
        retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = lambda_.DockerImageFunction(
            self,
            "Function",
            code=lambda_.DockerImageCode.from_image_asset(
                ROOT, file="docker/Dockerfile", target="scheduler"
            ),
            timeout=Duration.minutes(5),
            memory_size=512,
            environment=environment,
            log_group=logs.LogGroup(self, "Logs", retention=retention),
        )
        # What EventBridge could not deliver after its retries waits here.
        self.dead_letters = encrypted_queue(self, "DeadLetters", days=14)
        target_options = {"dead_letter_queue": self.dead_letters, "retry_attempts": 3}
        self.bus = events.EventBus(self, "Bus", event_bus_name=BUS_NAME)
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
                    event=events.RuleTargetInput.from_object(
                        {"type": "scheduled_task", "task": "daily-reminder"}
                    ),
                    **target_options,  # type: ignore[arg-type]
                )
            ],
        )
