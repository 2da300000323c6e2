"""Alarms, sent to one SNS topic (and by e-mail, with ``-c alarm_email=...``): anything
parked in a dead-letter queue, jobs waiting too long, the API's 5xx and the load balancer's
own, no healthy API task, and the scheduler Lambda's failed invocations; and, from the
metrics the services' log lines carry, acknowledgements near Discord's 3 s deadline,
interactions and jobs that failed, and storms of Discord 429s or model throttling. The
README's "Alarms" section says what to do about each."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.dashboard import bot_metric

MINUTE = Duration.minutes(1)
FIVE_MINUTES = Duration.minutes(5)


class Alarms(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        jobs: sqs.IQueue,
        dead_letter_queues: list[sqs.IQueue],
        load_balancer: elbv2.ApplicationLoadBalancer,
        target_group: elbv2.ApplicationTargetGroup,
        scheduler: lambda_.IFunction,
        email: str | None,
        namespace: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(self, "Topic", display_name="Discord bot alarms", enforce_ssl=True)
        if email:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
        notify = actions.SnsAction(self.topic)
        alarms: list[cloudwatch.Alarm] = []
        for index, dlq in enumerate(dead_letter_queues):
            alarms.append(
                dlq.metric_approximate_number_of_messages_visible(period=MINUTE).create_alarm(
                    self,
                    f"Parked{index}",
                    alarm_description=f"Messages are parked in dead-letter queue {index} "
                    "(0: jobs, 1: scheduler events); see the README's runbook",
                    threshold=0,
                    comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                    evaluation_periods=1,
                )
            )
        # An interaction token lasts 15 minutes: a job waiting 10 is close to losing its reply.
        alarms.append(
            jobs.metric_approximate_age_of_oldest_message(period=MINUTE).create_alarm(
                self,
                "OldestJob",
                alarm_description="The oldest job has waited over 10 minutes",
                threshold=600,
                evaluation_periods=2,
            )
        )
        alarms.append(
            load_balancer.metrics.http_code_target(
                elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=MINUTE
            ).create_alarm(
                self,
                "Api5xx",
                alarm_description="The API answers 5xx",
                threshold=5,
                evaluation_periods=2,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
        )
        # The balancer's own 5xx: no healthy task to send to, or tasks that hang up.
        alarms.append(
            load_balancer.metrics.http_code_elb(
                elbv2.HttpCodeElb.ELB_5XX_COUNT, period=MINUTE
            ).create_alarm(
                self,
                "LoadBalancer5xx",
                alarm_description="The load balancer answers 5xx (no healthy API task?)",
                threshold=5,
                evaluation_periods=2,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
        )
        alarms.append(
            target_group.metrics.healthy_host_count(period=MINUTE).create_alarm(
                self,
                "NoHealthyApi",
                alarm_description="No API task is healthy: Discord's requests fail",
                threshold=1,
                comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                evaluation_periods=2,
                treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
            )
        )
        alarms.append(
            scheduler.metric_errors(period=MINUTE).create_alarm(
                self,
                "SchedulerErrors",
                alarm_description="The scheduler Lambda failed (the event waits in its DLQ)",
                threshold=0,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
        )
        alarms += _metric_alarms(self, namespace)
        for alarm in alarms:
            alarm.add_alarm_action(notify)


def _sum_of(
    namespace: str, name: str, service: str, outcomes: list[str]
) -> cloudwatch.MathExpression:
    """The five-minute sum of a metric over some of its outcomes."""
    using = {
        f"m{n}": bot_metric(namespace, name, "Sum", Service=service, Outcome=outcome).with_(
            period=FIVE_MINUTES
        )
        for n, outcome in enumerate(outcomes)
    }
    return cloudwatch.MathExpression(
        expression=" + ".join(f"FILL({key}, 0)" for key in using),
        using_metrics=using,
        period=FIVE_MINUTES,
        label=f"{name}: {', '.join(outcomes)}",
    )


def _metric_alarms(scope: Construct, namespace: str) -> list[cloudwatch.Alarm]:
    """Alarms on the bot's own metrics. Missing data is no traffic, never a breach."""
    quiet = cloudwatch.TreatMissingData.NOT_BREACHING
    above = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
    return [
        # The API's own time to answer; Discord's limit is 3 s from its side, network
        # included: a p99 of 2 s for three minutes leaves little room.
        bot_metric(namespace, "AckLatency", "p99", Service="api").create_alarm(
            scope,
            "SlowAcks",
            alarm_description="The API's p99 acknowledgement time is near Discord's 3 s limit",
            threshold=2000,
            comparison_operator=above,
            evaluation_periods=3,
            treat_missing_data=quiet,
        ),
        _sum_of(
            namespace, "Interactions", "api", ["command_failed", "enqueue_failed"]
        ).create_alarm(
            scope,
            "FailedInteractions",
            alarm_description="Commands failed or could not be queued (users saw an error)",
            threshold=5,
            comparison_operator=above,
            evaluation_periods=1,
            treat_missing_data=quiet,
        ),
        _sum_of(namespace, "Jobs", "worker", ["failed", "parked"]).create_alarm(
            scope,
            "FailedJobs",
            alarm_description="Jobs failed or were parked (users were told it failed)",
            threshold=5,
            comparison_operator=above,
            evaluation_periods=1,
            treat_missing_data=quiet,
        ),
        bot_metric(namespace, "DiscordRateLimited", "Sum", Service="worker")
        .with_(period=FIVE_MINUTES)
        .create_alarm(
            scope,
            "DiscordThrottling",
            alarm_description="Discord answered over 50 requests with 429 in five minutes",
            threshold=50,
            comparison_operator=above,
            evaluation_periods=1,
            treat_missing_data=quiet,
        ),
        bot_metric(namespace, "ModelRetries", "Sum", Service="worker", Kind="rate_limited")
        .with_(period=FIVE_MINUTES)
        .create_alarm(
            scope,
            "ModelThrottling",
            alarm_description="The model throttled over 20 requests in five minutes",
            threshold=20,
            comparison_operator=above,
            evaluation_periods=1,
            treat_missing_data=quiet,
        ),
    ]
