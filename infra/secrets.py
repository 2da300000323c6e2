"""The bot's secrets, in Secrets Manager: never plain environment values in the template.

One secret per reader, so each role reads only what it needs:

- ``bot_token``: the bot token, filled by you; only the worker reads it;
- ``custom_id_key``: signs components' custom_ids; generated; the API and the worker;
- ``job_signing_key``: signs every job on the queue; generated; the API, the worker and the
  scheduler Lambda (which reads it itself, at its first long task).

In ``prod`` they outlive the stack (a re-created stack keeps the keys and the token).
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct


class BotSecrets(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, retain: bool) -> None:
        super().__init__(scope, construct_id)
        policy = RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY

        def secret(name: str, description: str) -> secretsmanager.Secret:
            # Random either way: the keys are used as generated; the token is a placeholder
            # until you put Discord's in (the worker starts with it, and its calls to
            # Discord fail until then).
            made = secretsmanager.Secret(
                self,
                name,
                description=description,
                generate_secret_string=secretsmanager.SecretStringGenerator(
                    password_length=48, exclude_punctuation=True
                ),
            )
            made.apply_removal_policy(policy)
            return made

        self.bot_token = secret("BotToken", "The Discord bot token: put yours here")
        self.custom_id_key = secret("CustomIdKey", "Signs the bot's signed custom_ids")
        self.job_signing_key = secret("JobSigningKey", "Signs every job on the bot's queue")
