"""cdk-nag AwsSolutions findings we accept: each on the resource it is about and, for
wildcards, on the one permission it names, with its reason. Anything new is still reported."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cdk_nag import NagSuppressions

if TYPE_CHECKING:
    from infra.stack import BotStack

# The region and account are tokens (<AWS::Region>) in an environment-agnostic synth, and
# their values once `cdk` or CDK_DEFAULT_REGION gives them: the same permission either way.
_WHERE = "(<AWS::Region>|[a-z0-9-]+):(<AWS::AccountId>|[0-9]{12})"
SSM_WILDCARDS = {"regex": f"/^Resource::arn:aws:ssm:{_WHERE}:parameter/.*$/"}
TASK_WILDCARD = {"regex": f"/^Resource::arn:aws:ecs:{_WHERE}:task/.*$/"}
# A cross-region inference profile's model, in the regions the profile routes to (one model).
PROFILE_MODEL = {"regex": "/^Resource::arn:aws:bedrock:\\*::foundation-model/.*$/"}
LAMBDA_LOGS = (
    "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
)
ENVIRONMENT = {
    "id": "AwsSolutions-ECS2",
    "reason": "Only non-secret configuration (queue URL, prefixes, log format) is in "
    "environment variables; secrets come from Secrets Manager as ECS secrets.",
}
EXECUTION_ROLE = {
    "id": "AwsSolutions-IAM5",
    "reason": "ecr:GetAuthorizationToken only exists on '*'; CDK adds it to every task "
    "execution role that pulls from ECR.",
    "appliesTo": ["Resource::*"],
}
READ_CONFIGURATION = {
    "id": "AwsSolutions-IAM5",
    "reason": "Reads the bot's own configuration: parameters under its SSM prefix only.",
    "appliesTo": [SSM_WILDCARDS],
}


def suppress(stack: BotStack) -> None:
    add = NagSuppressions.add_resource_suppressions
    api, worker, scheduler = stack.api, stack.worker, stack.scheduler
    add(
        api.service.load_balancer.connections.security_groups[0],
        [
            {
                "id": "AwsSolutions-EC23",
                "reason": "The load balancer is Discord's entry point and must accept the "
                "internet on its listener ports; every request is authenticated by its Ed25519 "
                "signature.",
            }
        ],
    )
    add(
        api.service.load_balancer,
        [
            {
                "id": "AwsSolutions-ELB2",
                "reason": "Access logs need a bucket and cost more than this bot's traffic is "
                "worth; the API writes one canonical line per request.",
            }
        ],
    )
    add(api.service.task_definition, [ENVIRONMENT])
    add(worker.service.task_definition, [ENVIRONMENT])
    for task in (api.service.task_definition, worker.service.task_definition):
        add(task.obtain_execution_role(), [EXECUTION_ROLE], apply_to_children=True)
    add(
        worker.task_role,
        [
            {
                "id": "AwsSolutions-IAM5",
                "reason": "Reads the bot's configuration under its SSM prefix and writes only "
                "servers' own (prefix/servers/*); scale-in protection is set on the worker's "
                "own tasks, whose ids are not known before they start; an inference profile "
                "streams from its one model in whichever region it routes to.",
                "appliesTo": [SSM_WILDCARDS, TASK_WILDCARD, PROFILE_MODEL],
            }
        ],
        apply_to_children=True,
    )
    role = scheduler.function.role
    assert role is not None
    add(
        role,
        [
            READ_CONFIGURATION,
            {
                "id": "AwsSolutions-IAM4",
                "reason": "AWSLambdaBasicExecutionRole is the least-privilege managed policy "
                "for a Lambda's own logs.",
                "appliesTo": [LAMBDA_LOGS],
            },
        ],
        apply_to_children=True,
    )
    add(
        scheduler.dead_letters,
        [
            {
                "id": "AwsSolutions-SQS3",
                "reason": "This queue is itself where failed events and invocations wait.",
            }
        ],
    )
    for secret in (
        stack.secrets.bot_token,
        stack.secrets.custom_id_key,
        stack.secrets.job_signing_key,
        *([stack.model.api_key] if stack.model.api_key is not None else []),
    ):
        add(
            secret,
            [
                {
                    "id": "AwsSolutions-SMG4",
                    "reason": "The public key and bot token are issued by Discord and rotated "
                    "in its Developer Portal, a model's API key by its provider; the signing "
                    "keys are rotated by a deploy (README, 'Rotating keys').",
                }
            ],
        )
