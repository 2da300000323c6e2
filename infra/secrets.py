"""The bot's secrets, in Secrets Manager: never plain environment values in the template.

One secret, JSON ``{"public_key": "...", "bot_token": "..."}``, created empty by the stack
and filled by you (README, "Deploy from zero"). Tasks receive its fields as ECS secrets."""

from __future__ import annotations

from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct


class BotSecrets(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.secret = secretsmanager.Secret(
            self,
            "Discord",
            description="Discord application public key and bot token for the bot",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                # A placeholder to replace, not a secret.
                secret_string_template='{"public_key": "set-me"}',  # noqa: S106
                generate_string_key="bot_token",
            ),
        )
