"""Alarms, sent to one SNS topic (and by e-mail, with ``-c alarm_email=...``): anything
parked in a dead-letter queue, jobs waiting too long, the API's 5xx and the load balancer's
own, no healthy API task, and the scheduler Lambda's failed invocations."""

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

MINUTE = Duration.minutes(1)


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
                    alarm_description="Messages are parked in a dead-letter queue",
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
        for alarm in alarms:
            alarm.add_alarm_action(notify)
