"""The language model's part of the stack: the answers table (Stop flags, follow-up history,
token budgets and answers in flight), the provider's API key (Secrets Manager, read by the
worker alone), and, for Bedrock, permission to stream from the one model configured.

``provider`` ``none`` leaves the LLM commands off (they say so); ``bedrock`` needs no key
(the worker's role is the credential); ``openai`` and ``anthropic`` read the key from the
``LlmApiKey`` secret, which you fill in after the first deploy, as the bot token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.jobs import keyed_table

PROVIDERS: Final = ("none", "bedrock", "openai", "anthropic")
# Bedrock's cross-region inference profiles are named for where they route: "us.", "eu."...
_PROFILE_PREFIXES: Final = ("us.", "eu.", "apac.", "us-gov.", "global.", "ca.", "jp.", "au.")


@dataclass(frozen=True, kw_only=True)
class ModelSettings:
    provider: str = "none"
    model: str = ""
    base_url: str | None = None

    @property
    def enabled(self) -> bool:
        return self.provider != "none"


class Model(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, settings: ModelSettings, retain: bool
    ) -> None:
        super().__init__(scope, construct_id)
        self.settings = settings
        self.table = keyed_table(self, "Answers") if settings.enabled else None
        self.api_key: secretsmanager.Secret | None = None
        if settings.provider in ("openai", "anthropic"):
            self.api_key = secretsmanager.Secret(
                self,
                "LlmApiKey",
                description=f"The {settings.provider} API key the bot's worker uses: put yours here",
                generate_secret_string=secretsmanager.SecretStringGenerator(
                    password_length=48, exclude_punctuation=True
                ),
            )
            self.api_key.apply_removal_policy(
                RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY
            )

    def environment(self) -> dict[str, str]:
        """What the API and the worker both read (the API to refuse over budget and to
        set Stop flags; never to call the model)."""
        if not self.settings.enabled or self.table is None:
            return {}
        env = {
            "LLM_PROVIDER": self.settings.provider,
            "LLM_MODEL": self.settings.model,
            "LLM_TABLE": self.table.table_name,
        }
        if self.settings.base_url:
            env["LLM_BASE_URL"] = self.settings.base_url
        return env

    def worker_secrets(self) -> dict[str, ecs.Secret]:
        if self.api_key is None:
            return {}
        return {"LLM_API_KEY": ecs.Secret.from_secrets_manager(self.api_key)}

    def grant(self, *, api: iam.IRole, worker: iam.IRole) -> None:
        if self.table is None:
            return
        # The API reads budgets, takes and gives back places, and sets Stop flags; the
        # worker reads Stop flags and history, keeps history, counts tokens, frees places.
        self.table.grant(api, "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem")
        self.table.grant(worker, "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem")
        if self.settings.provider == "bedrock":
            worker.add_to_principal_policy(
                iam.PolicyStatement(
                    # ConverseStream is authorised as InvokeModelWithResponseStream.
                    actions=["bedrock:InvokeModelWithResponseStream"],
                    resources=bedrock_resources(Stack.of(self), self.settings.model),
                )
            )


def bedrock_resources(stack: Stack, model: str) -> list[str]:
    """The ARNs that streaming from ``model`` needs, and no others: the foundation model in
    the stack's region, or an inference profile and the model in the regions it routes to."""
    if model.startswith(_PROFILE_PREFIXES):
        base = model.split(".", 1)[1]
        return [
            f"arn:aws:bedrock:{stack.region}:{stack.account}:inference-profile/{model}",
            f"arn:aws:bedrock:*::foundation-model/{base}",
        ]
    return [f"arn:aws:bedrock:{stack.region}::foundation-model/{model}"]
