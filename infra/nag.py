"""cdk-nag AwsSolutions findings we accept, each with its reason."""

from __future__ import annotations

from aws_cdk import Stack
from cdk_nag import NagSuppressions

REASONS = [
    {
        "id": "AwsSolutions-IAM5",
        "reason": "Wildcards are scoped: SSM parameters under the bot's prefix, the ECS/X-Ray actions CDK grants to task execution roles, and log streams in the bot's own log groups.",
    },
    {
        "id": "AwsSolutions-IAM4",
        "reason": "AWSLambdaBasicExecutionRole is the standard, least-privilege managed policy for a Lambda's own logs.",
    },
    {
        "id": "AwsSolutions-ELB2",
        "reason": "ALB access logs need an S3 bucket and cost more than this bot's traffic is worth; request logs are the API's canonical lines.",
    },
    {
        "id": "AwsSolutions-EC23",
        "reason": "The load balancer is Discord's entry point: it must accept the internet on its listener port; requests are authenticated by their Ed25519 signature.",
    },
    {
        "id": "AwsSolutions-SMG4",
        "reason": "The Discord public key and bot token are issued by Discord; rotating them is done in the Developer Portal, not by a Lambda.",
    },
    {
        "id": "AwsSolutions-ECS2",
        "reason": "Only non-secret configuration is in environment variables; secrets come from Secrets Manager as ECS secrets.",
    },
    {"id": "AwsSolutions-SQS3", "reason": "This queue is itself a dead-letter queue."},
]


def suppress(stack: Stack) -> None:
    NagSuppressions.add_stack_suppressions(stack, REASONS, apply_to_nested_stacks=True)
