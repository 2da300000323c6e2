"""``python -m infra.app`` (what ``cdk synth`` / ``cdk deploy`` run): the only place with
values for an environment. Pick one with ``-c stage=prod``; the application id and public
key come from ``-c application_id=... -c public_key=...`` or DISCORD_APPLICATION_ID and
DISCORD_PUBLIC_KEY (required for prod; a dev synth without them uses placeholders, which
Discord's requests never verify against, and says so). Also: ``-c certificate_arn=...
-c domain_name=...`` (HTTPS; required for prod), ``-c alarm_email=...`` (who alarms reach),
``-c nat_gateways=N``, ``-c max_receives=N`` (redrive count), and the language model:
``-c llm_provider=bedrock|openai|anthropic|none -c llm_model=... [-c llm_base_url=...]``."""

from __future__ import annotations

import os
import re
import sys

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from infra.model import PROVIDERS, ModelSettings
from infra.nag import suppress
from infra.stack import BotStack, StackSettings
from infra.static_checks import suppress_static_checks

STAGES = {
    # One API task, a worker that scales to zero when the queue is empty.
    "dev": {"api_tasks": 1, "worker_min_tasks": 0, "worker_max_tasks": 2},
    # At least two API tasks (one per AZ), a worker always up.
    "prod": {"api_tasks": 2, "worker_min_tasks": 1, "worker_max_tasks": 10},
}


SNOWFLAKE = re.compile(r"[0-9]{17,20}")
PUBLIC_KEY = re.compile(r"[0-9a-f]{64}")
PLACEHOLDER_ID = "100000000000000001"
PLACEHOLDER_KEY = "0" * 64


class SettingsError(ValueError):
    """Context that cannot make a working stack; the message says what to pass."""


def build(app: cdk.App) -> BotStack:
    stage = app.node.try_get_context("stage") or "dev"
    if stage not in STAGES:
        raise SettingsError(f"unknown stage {stage!r}: pass -c stage=dev or -c stage=prod")
    certificate_arn = app.node.try_get_context("certificate_arn")
    domain_name = app.node.try_get_context("domain_name")
    # Discord only calls an https:// Interactions Endpoint URL, and a prod stack on plain
    # HTTP would be one nobody can point Discord at.
    if stage == "prod" and not (certificate_arn and domain_name):
        raise SettingsError(
            "prod serves Discord over HTTPS: pass -c certificate_arn=arn:aws:acm:... "
            "-c domain_name=bot.example.com (an ACM certificate for that name, in the "
            "stack's region)"
        )
    application_id = _text(app, "application_id", "DISCORD_APPLICATION_ID")
    public_key = _text(app, "public_key", "DISCORD_PUBLIC_KEY")
    if not (application_id or public_key) and stage != "prod":
        application_id, public_key = PLACEHOLDER_ID, PLACEHOLDER_KEY
        print(
            f"note: {stage} synthesized with a placeholder application id and public key: pass "
            "-c application_id=... -c public_key=... to deploy one Discord can use",
            file=sys.stderr,
        )
    wrong = [
        name
        for name, value, pattern in (
            ("application_id", application_id, SNOWFLAKE),
            ("public_key", public_key, PUBLIC_KEY),
        )
        if not pattern.fullmatch(value)
    ]
    if wrong:
        raise SettingsError(
            f"{' and '.join(wrong)}: pass your application's id and public key, from the "
            "Developer Portal's General Information: -c application_id=123456789012345678 "
            "-c public_key=<64 hex digits>"
        )
    settings = StackSettings(
        application_id=application_id,
        public_key=public_key,
        stage=stage,
        certificate_arn=certificate_arn,
        domain_name=domain_name,
        alarm_email=app.node.try_get_context("alarm_email"),
        nat_gateways=int(app.node.try_get_context("nat_gateways") or 0),
        max_receives=int(app.node.try_get_context("max_receives") or 5),
        model=_model(app),
        api_tasks=STAGES[stage]["api_tasks"],
        worker_min_tasks=STAGES[stage]["worker_min_tasks"],
        worker_max_tasks=STAGES[stage]["worker_max_tasks"],
    )
    stack = BotStack(
        app,
        f"DiscordBot-{stage}",
        settings=settings,
        env=cdk.Environment(
            account=os.environ.get("CDK_DEFAULT_ACCOUNT"),
            region=os.environ.get("CDK_DEFAULT_REGION"),
        ),
    )
    suppress(stack)
    suppress_static_checks(stack)
    cdk.Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    return stack


def _model(app: cdk.App) -> ModelSettings:
    provider = _text(app, "llm_provider", "LLM_PROVIDER") or "none"
    if provider not in PROVIDERS:
        raise SettingsError(f"llm_provider: one of {', '.join(PROVIDERS)}, not {provider!r}")
    model = _text(app, "llm_model", "LLM_MODEL")
    if provider != "none" and not model:
        raise SettingsError(
            f"llm_model: name the model {provider} should use, e.g. -c llm_model="
            + ("us.anthropic.claude-3-5-haiku-20241022-v1:0" if provider == "bedrock" else "...")
        )
    base_url = _text(app, "llm_base_url", "LLM_BASE_URL") or None
    return ModelSettings(provider=provider, model=model, base_url=base_url)


def _text(app: cdk.App, key: str, variable: str) -> str:
    """A context value or, without one, an environment variable. Ids must come as text: a
    number in JSON context (an unquoted value in cdk.json) has already lost digits."""
    value = app.node.try_get_context(key)
    if value is None:
        return os.environ.get(variable, "")
    if not isinstance(value, str):
        raise SettingsError(f"{key}: give it as text (quoted in cdk.json), not {value!r}")
    return value


def context_arguments(argv: list[str]) -> dict[str, str]:
    """``-c key=value`` pairs, as the cdk CLI takes them (``make synth CONTEXT="-c ..."``)."""
    context: dict[str, str] = {}
    pairs = iter(argv)
    for word in pairs:
        value = next(pairs, "") if word in ("-c", "--context") else word
        if word not in ("-c", "--context") or "=" not in value:
            raise SettingsError(f"expected -c key=value, got {word!r} {value!r}".strip())
        key, _, given = value.partition("=")
        context[key] = given
    return context


def main(argv: list[str] | None = None) -> int:
    # `cdk synth` sets CDK_OUTDIR; run directly (`make synth`), write to cdk.out/ too.
    try:
        context = context_arguments(sys.argv[1:] if argv is None else argv)
        app = cdk.App(outdir=os.environ.get("CDK_OUTDIR", "cdk.out"), context=context)
        build(app)
    except SettingsError as exc:
        print(f"settings error: {exc}", file=sys.stderr)
        return 2
    app.synth()
    # The cdk CLI fails a synth with errors (cdk-nag's findings among them); so does this.
    errors = [
        f"{construct.node.path}: {entry.data}"
        for construct in app.node.find_all()
        for entry in construct.node.metadata
        if entry.type == "aws:cdk:error"
    ]
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
