"""The jobs queue with its dead-letter queue, the idempotency table and the limits table."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_sqs as sqs
from constructs import Construct


def encrypted_queue(
    scope: Construct, construct_id: str, *, days: int, **props: object
) -> sqs.Queue:
    """Every queue of the bot: SQS-managed encryption at rest, TLS only in transit."""
    return sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=Duration.days(days),
        **props,  # type: ignore[arg-type]
    )


class Jobs(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, max_receives: int, visibility_seconds: int
    ) -> None:
        super().__init__(scope, construct_id)
        # Kept longer than the queue's messages, so a parked job outlives anything retried.
        self.dlq = encrypted_queue(self, "DeadLetters", days=14)
        self.queue = encrypted_queue(
            self,
            "Queue",
            days=4,
            visibility_timeout=Duration.seconds(visibility_seconds),
            dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=max_receives, queue=self.dlq),
        )
        self.table = keyed_table(self, "Idempotency")
        # Places long jobs hold under the per-user and per-server limits
        # (services/core/limits.py); the API writes it, so it is apart from the ledger.
        self.limits = keyed_table(self, "Limits")


def keyed_table(scope: Construct, construct_id: str) -> dynamodb.Table:
    """Items by ``id``, that expire at ``expires_at``: the ledger's, the limits' and the
    answers'."""
    return dynamodb.Table(
        scope,
        construct_id,
        partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        time_to_live_attribute="expires_at",
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        removal_policy=RemovalPolicy.DESTROY,
    )
