"""cfn-lint and checkov findings we accept, as CloudFormation metadata on the resources they
are about (where both tools read it), each with its reason here. Anything new is still
reported, and fails ``make check``.

Encryption at rest with a customer managed KMS key is what most of checkov's findings ask
for: every queue, table, secret and log group here is encrypted at rest with the key its
service manages; a key of our own costs 1 USD a month plus its calls and protects nothing
more here, as only the stack's own roles can read these resources.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Final

from aws_cdk import CfnResource
from aws_cdk import aws_sqs as sqs
from constructs import IConstruct

if TYPE_CHECKING:
    from infra.stack import BotStack

AT_REST: Final = "Encrypted at rest with the key the service manages (see infra/static_checks.py)."
# checkov, for every resource of a type (queues: only those with SSE-SQS on, below).
BY_TYPE: Final = {
    "AWS::DynamoDB::Table": [("CKV_AWS_119", AT_REST)],
    "AWS::SecretsManager::Secret": [("CKV_AWS_149", AT_REST)],
    "AWS::Logs::LogGroup": [
        ("CKV_AWS_158", AT_REST + " Log lines carry no secret (services/core/redact.py).")
    ],
}
QUEUE_SSE: Final = [("CKV_AWS_27", "SSE-SQS: " + AT_REST)]
ALARM_TOPIC: Final = [
    (
        "CKV_AWS_26",
        (
            "CloudWatch alarms cannot publish to a topic encrypted with the SNS-managed key; "
            "alarm notices carry no secret."
        ),
    )
]
SCHEDULER: Final = [
    (
        "CKV_AWS_115",
        (
            "One run a day and a few events: a reserved concurrency would only take from the "
            "account's pool (and fails to deploy where that pool is at its minimum of 10)."
        ),
    ),
    (
        "CKV_AWS_116",
        (
            "Failed asynchronous invocations go to an on-failure destination (an SQS queue), which "
            "keeps the error with the event; a dead-letter config would keep less."
        ),
    ),
    (
        "CKV_AWS_117",
        (
            "It calls Discord and AWS APIs on the internet; in a VPC it would need a NAT gateway "
            "(~32 USD a month) for nothing it protects."
        ),
    ),
    (
        "CKV_AWS_173",
        (
            "Its environment holds no secret (the job key is read from Secrets Manager); Lambda "
            "encrypts it at rest with its managed key."
        ),
    ),
]
LOAD_BALANCER: Final = [
    ("CKV_AWS_91", "Access logs need a bucket and cost more than this bot's traffic is worth.")
]
LOAD_BALANCER_GROUP: Final = [
    (
        "CKV_AWS_260",
        (
            "Port 80 answers only with a redirect to HTTPS (or serves dev, which has no "
            "certificate); Discord's requests are authenticated by their Ed25519 signature."
        ),
    )
]
PLAIN_HTTP: Final = [
    ("CKV_AWS_2", "dev without a certificate: HTTP only (README, 'Deploy')."),
    ("CKV_AWS_103", "dev without a certificate: no TLS listener (README, 'Deploy')."),
]
# cfn-lint W3005 (a DependsOn the references already imply): CDK writes these for the ECS
# service (on its listener rule) and the Lambda (on its role's policy) on purpose, for the
# order of deletion; harmless.
REDUNDANT_DEPENDENCY: Final = ["W3005"]


def suppress_static_checks(stack: BotStack) -> None:
    skips: dict[CfnResource, list[tuple[str, str]]] = defaultdict(list)
    for construct in stack.node.find_all():
        if isinstance(construct, CfnResource):
            skips[construct] += BY_TYPE.get(construct.cfn_resource_type, [])
        # A queue is accepted only with SSE-SQS on: checkov asks for a KMS key alone, and a
        # queue with no encryption at all must still be reported.
        if isinstance(construct, sqs.CfnQueue) and construct.sqs_managed_sse_enabled is True:
            skips[construct] += QUEUE_SSE
    skips[_cfn(stack.alarm_topic)] += ALARM_TOPIC
    service = stack.api.service
    skips[_cfn(stack.scheduler.function)] += SCHEDULER
    skips[_cfn(service.load_balancer)] += LOAD_BALANCER
    skips[_cfn(service.load_balancer.connections.security_groups[0])] += LOAD_BALANCER_GROUP
    if service.certificate is None:
        skips[_cfn(service.listener)] += PLAIN_HTTP
    for resource, found in skips.items():
        if found:
            resource.add_metadata(
                "checkov", {"skip": [{"id": ident, "comment": why} for ident, why in found]}
            )
    for construct in (service.service, stack.scheduler.function):
        _cfn(construct).add_metadata(
            "cfn-lint", {"config": {"ignore_checks": REDUNDANT_DEPENDENCY}}
        )


def _cfn(construct: IConstruct) -> CfnResource:
    child = construct.node.default_child
    assert isinstance(child, CfnResource)
    return child
