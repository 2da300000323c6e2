"""Alarms: anything parked in a dead-letter queue, jobs waiting too long, API 5xx."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_sqs as sqs
from constructs import Construct


class Alarms(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        jobs: sqs.IQueue,
        dead_letter_queues: list[sqs.IQueue],
        load_balancer: elbv2.ApplicationLoadBalancer,
    ) -> None:
        super().__init__(scope, construct_id)
        for index, dlq in enumerate(dead_letter_queues):
            dlq.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(1)
            ).create_alarm(
                self,
                f"Parked{index}",
                alarm_description="Messages are parked in a dead-letter queue",
                threshold=0,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=1,
            )
        # An interaction token lasts 15 minutes: a job waiting 10 is close to losing its reply.
        jobs.metric_approximate_age_of_oldest_message(period=Duration.minutes(1)).create_alarm(
            self,
            "OldestJob",
            alarm_description="The oldest job has waited over 10 minutes",
            threshold=600,
            evaluation_periods=2,
        )
        load_balancer.metrics.http_code_target(
            elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=Duration.minutes(1)
        ).create_alarm(
            self,
            "Api5xx",
            alarm_description="The API answers 5xx",
            threshold=5,
            evaluation_periods=2,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
