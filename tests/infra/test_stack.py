"""The CDK stack, synthesized offline (no credentials, no network, no Docker): resources and
their key properties, and cdk-nag's AwsSolutions checks. Two synths per session, and one
that must fail."""

from __future__ import annotations

import json
import re
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Annotations, Match, Template

from infra.app import SettingsError, build
from services.core.metrics import DIRECTIVES

IDS = {"application_id": "100000000000000001", "public_key": "ab" * 32}
CERT = "arn:aws:acm:us-east-1:111111111111:certificate/abc"
BEDROCK_PROFILE = "us.anthropic.claude-3-5-haiku-20241022-v1:0"


@pytest.fixture(scope="session")
def synthesized():
    out = {}
    for stage, context in (
        (
            "dev",
            {"stage": "dev", "max_receives": "7", "llm_provider": "openai", "llm_model": "m-1"},
        ),
        (
            "prod",
            {
                "stage": "prod",
                "certificate_arn": CERT,
                "domain_name": "bot.example.org",
                "alarm_email": "ops@example.org",
                "llm_provider": "bedrock",
                "llm_model": BEDROCK_PROFILE,
            },
        ),
    ):
        app = cdk.App(context={**context, **IDS})
        stack = build(app)
        out[stage] = (Template.from_stack(stack), Annotations.from_stack(stack))
    return out


@pytest.fixture(scope="session")
def dev(synthesized):
    return synthesized["dev"][0]


@pytest.fixture(scope="session")
def prod(synthesized):
    return synthesized["prod"][0]


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_no_unsuppressed_cdk_nag_findings(synthesized, stage):
    annotations = synthesized[stage][1]
    findings = annotations.find_error("*", Match.string_like_regexp("AwsSolutions-.*"))
    assert [f.entry.data for f in findings] == []


def test_queues_are_encrypted_and_the_dlq_outlives_the_queue(prod):
    queues = prod.find_resources("AWS::SQS::Queue")
    assert len(queues) == 3  # jobs, its DLQ, the scheduler's DLQ
    assert all(q["Properties"].get("SqsManagedSseEnabled") for q in queues.values())
    jobs = next(q for q in queues.values() if "RedrivePolicy" in q["Properties"])
    assert jobs["Properties"]["RedrivePolicy"]["maxReceiveCount"] == 5
    assert jobs["Properties"]["MessageRetentionPeriod"] == 4 * 86400
    dlq_retention = [
        q["Properties"]["MessageRetentionPeriod"] for q in queues.values() if q is not jobs
    ]
    assert all(r == 14 * 86400 for r in dlq_retention)


def test_idempotency_limits_and_answers_tables_have_ttl(prod):
    prod.resource_count_is("AWS::DynamoDB::Table", 3)
    prod.all_resources_properties(
        "AWS::DynamoDB::Table",
        {
            "BillingMode": "PAY_PER_REQUEST",
            "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        },
    )


def test_no_nat_gateway_by_default(prod, dev):
    prod.resource_count_is("AWS::EC2::NatGateway", 0)
    dev.resource_count_is("AWS::EC2::NatGateway", 0)


def test_api_behind_https_with_healthz_and_two_tasks_in_production(prod, dev):
    services = prod.find_resources("AWS::ECS::Service")
    counts = sorted(str(s["Properties"].get("DesiredCount")) for s in services.values())
    # The API runs 2; the worker's count belongs to scaling, so a deploy never resets it.
    assert counts == ["2", "None"]
    prod.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener",
        {"Protocol": "HTTPS", "Port": 443, "SslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06"},
    )
    prod.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener",
        {
            "Protocol": "HTTP",
            "Port": 80,
            "DefaultActions": [
                Match.object_like(
                    {"Type": "redirect", "RedirectConfig": Match.object_like({"Port": "443"})}
                )
            ],
        },
    )
    prod.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        {
            "HealthCheckPath": "/healthz",
            "TargetGroupAttributes": Match.array_with(
                [{"Key": "deregistration_delay.timeout_seconds", "Value": "10"}]
            ),
        },
    )
    prod.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        {
            "LoadBalancerAttributes": Match.array_with(
                [
                    {"Key": "idle_timeout.timeout_seconds", "Value": "60"},
                    {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"},
                ]
            )
        },
    )
    dev.has_resource_properties("AWS::ElasticLoadBalancingV2::Listener", {"Protocol": "HTTP"})


def test_prod_without_a_certificate_says_what_to_pass():
    app = cdk.App(context={"stage": "prod", **IDS})
    with pytest.raises(SettingsError, match=r"-c certificate_arn=.* -c domain_name="):
        build(app)


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ({}, "application_id and public_key: pass"),  # a prod stack would verify nothing
        ({"application_id": "100000000000000001"}, "public_key: pass"),
        ({**IDS, "public_key": "AB" * 32}, "public_key: pass"),  # not as the Portal shows it
        ({**IDS, "application_id": "my-bot"}, "application_id: pass"),
        # A JSON number (unquoted in cdk.json): its last digits are already lost.
        ({**IDS, "application_id": 123456789012345678}, "application_id: give it as text"),
    ],
)
def test_ids_that_cannot_work_stop_the_synth_saying_which(given, named, monkeypatch):
    monkeypatch.delenv("DISCORD_APPLICATION_ID", raising=False)
    monkeypatch.delenv("DISCORD_PUBLIC_KEY", raising=False)
    context = {"stage": "prod", "certificate_arn": CERT, "domain_name": "bot.example.org"}
    with pytest.raises(SettingsError) as refused:
        build(cdk.App(context={**context, **given}))
    assert str(refused.value).startswith(named)


def test_images_and_functions_are_arm64(prod):
    for definition in prod.find_resources("AWS::ECS::TaskDefinition").values():
        assert definition["Properties"]["RuntimePlatform"] == {
            "CpuArchitecture": "ARM64",
            "OperatingSystemFamily": "LINUX",
        }
    prod.has_resource_properties("AWS::Lambda::Function", {"Architectures": ["arm64"]})


def test_worker_stops_gracefully_and_scales_on_backlog_to_zero_in_dev(prod, dev):
    prod.has_resource_properties(
        "AWS::ECS::TaskDefinition",
        {"ContainerDefinitions": [Match.object_like({"Name": "worker", "StopTimeout": 120})]},
    )
    dev.has_resource_properties("AWS::ApplicationAutoScaling::ScalableTarget", {"MinCapacity": 0})
    prod.has_resource_properties("AWS::ApplicationAutoScaling::ScalableTarget", {"MinCapacity": 1})
    # The scaling alarms look at each minute, one datapoint: a job after an idle spell gets
    # a worker within about a minute, not five to ten.
    scaling = [a for a in _alarms(prod) if _scales(prod, a)]
    assert len(scaling) == 2  # one to scale out, one to scale in
    assert all(
        (a["Period"], a["EvaluationPeriods"], a.get("DatapointsToAlarm", 1)) == (60, 1, 1)
        for a in scaling
    )
    policies = prod.find_resources("AWS::ApplicationAutoScaling::ScalingPolicy")
    assert any(p["Properties"]["PolicyType"] == "StepScaling" for p in policies.values())


SECRETS = {"DISCORD_BOT_TOKEN", "CUSTOM_ID_SECRET", "JOB_SIGNING_KEY"}


def test_secrets_are_never_plain_environment_values(prod):
    given = []
    for definition in prod.find_resources("AWS::ECS::TaskDefinition").values():
        for container in definition["Properties"]["ContainerDefinitions"]:
            environment = {e["Name"]: e.get("Value") for e in container.get("Environment", [])}
            assert not environment.keys() & SECRETS
            # Public by design, and valid from the first deploy (a placeholder would stop
            # both services from starting, and the deploy would roll back).
            assert environment["DISCORD_PUBLIC_KEY"] == IDS["public_key"]
            given.append(sorted(s["Name"] for s in container.get("Secrets", [])))
    # Both sign custom_ids and jobs; only the worker has the bot token.
    assert sorted(given) == [
        ["CUSTOM_ID_SECRET", "DISCORD_BOT_TOKEN", "JOB_SIGNING_KEY"],
        ["CUSTOM_ID_SECRET", "JOB_SIGNING_KEY"],
    ]


def test_a_model_key_reaches_the_worker_alone_and_both_services_know_the_model(dev, prod):
    containers = {}
    for definition in dev.find_resources("AWS::ECS::TaskDefinition").values():
        for container in definition["Properties"]["ContainerDefinitions"]:
            containers[container["Name"]] = container
    secrets = {n: {s["Name"] for s in c.get("Secrets", [])} for n, c in containers.items()}
    assert "LLM_API_KEY" in secrets["worker"]
    assert not any("LLM_API_KEY" in v for n, v in secrets.items() if n != "worker")
    for container in containers.values():
        environment = {e["Name"]: e.get("Value") for e in container.get("Environment", [])}
        assert (environment["LLM_PROVIDER"], environment["LLM_MODEL"]) == ("openai", "m-1")
        assert "LLM_TABLE" in environment
        assert "LLM_API_KEY" not in environment
    # Bedrock needs no key: its credential is the worker's role.
    assert len(prod.find_resources("AWS::SecretsManager::Secret")) == 3


def _secret_reads(template, role_fragment: str) -> set[str]:
    """The secrets a role may read, by logical id."""
    return {
        s["Resource"]["Ref"]
        for s in _statements(template, role_fragment)
        if "secretsmanager:GetSecretValue" in _actions([s])
    }


def test_each_role_reads_only_the_secrets_it_needs_and_prod_keeps_them(prod, dev):
    secrets = prod.find_resources("AWS::SecretsManager::Secret")
    assert len(secrets) == 3
    ids = {name.rstrip("0123456789ABCDEF"): name for name in secrets}
    token = ids["SecretsBotToken"]
    assert token not in _secret_reads(prod, "ApiServiceTaskDefExecutionRole")
    assert token in _secret_reads(prod, "WorkerTaskExecutionRole")
    assert _secret_reads(prod, "SchedulerFunctionServiceRole") == {ids["SecretsJobSigningKey"]}
    assert all(s["DeletionPolicy"] == "Retain" for s in secrets.values())
    assert all(
        s["DeletionPolicy"] == "Delete"
        for s in dev.find_resources("AWS::SecretsManager::Secret").values()
    )


def test_names_unique_in_an_account_carry_the_stage_outside_prod(prod, dev):
    prod.has_resource_properties("AWS::Events::EventBus", {"Name": "discord-bot-events"})
    dev.has_resource_properties("AWS::Events::EventBus", {"Name": "discord-bot-events-dev"})
    for template, prefix in ((prod, "/discord-bot"), (dev, "/discord-bot-dev")):
        template.has_resource_properties(
            "AWS::ECS::TaskDefinition",
            {
                "ContainerDefinitions": [
                    Match.object_like(
                        {"Environment": Match.array_with([{"Name": "SSM_PREFIX", "Value": prefix}])}
                    )
                ]
            },
        )


def test_scheduler_lambda_bus_rule_and_daily_schedule(prod):
    prod.has_resource_properties("AWS::Lambda::Function", {"PackageType": "Image"})
    prod.has_resource_properties(
        "AWS::Events::Rule",
        {"EventPattern": {"source": ["discord-bot"], "detail-type": ["notification"]}},
    )
    daily = [
        r["Properties"]
        for r in prod.find_resources("AWS::Events::Rule").values()
        if r["Properties"].get("ScheduleExpression") == "cron(0 9 * * ? *)"
    ]
    assert len(daily) == 1
    # The run's time and id go to the function, so a retried invocation keeps its job id.
    transformer = daily[0]["Targets"][0]["InputTransformer"]
    assert transformer["InputPathsMap"] == {"time": "$.time", "id": "$.id"}
    template = transformer["InputTemplate"]
    assert '"time":<time>' in template.replace(" ", "")
    assert '"id":<id>' in template.replace(" ", "")


def test_scheduler_failures_are_kept_and_alarmed(prod):
    # After Lambda's own retries a failed invocation lands in the dead-letter queue.
    prod.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {
            "MaximumRetryAttempts": 2,
            "DestinationConfig": {
                "OnFailure": {
                    "Destination": {
                        "Fn::GetAtt": [Match.string_like_regexp("SchedulerDeadLetters"), "Arn"]
                    }
                }
            },
        },
    )
    prod.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {"MetricName": "Errors", "Namespace": "AWS/Lambda"},
    )


def test_log_groups_have_retention_and_alarms_exist(prod):
    groups = prod.find_resources("AWS::Logs::LogGroup")
    assert groups
    assert all("RetentionInDays" in g["Properties"] for g in groups.values())
    alarms = prod.find_resources("AWS::CloudWatch::Alarm")
    metrics = {a["Properties"].get("MetricName") for a in alarms.values()}
    assert {
        "ApproximateNumberOfMessagesVisible",
        "ApproximateAgeOfOldestMessage",
        "HTTPCode_Target_5XX_Count",
        "HTTPCode_ELB_5XX_Count",
        "HealthyHostCount",
        "Errors",
    } <= metrics


def test_every_alarm_tells_someone(prod):
    topics = prod.find_resources("AWS::SNS::Topic")
    assert len(topics) == 1
    (topic,) = topics
    prod.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "ops@example.org"}
    )
    operational = [a for a in _alarms(prod) if not _scales(prod, a)]
    assert len(operational) >= 7
    assert all(a["AlarmActions"] == [{"Ref": topic}] for a in operational)


def _alarms(template) -> list[dict]:
    return [a["Properties"] for a in template.find_resources("AWS::CloudWatch::Alarm").values()]


def _scales(template, alarm: dict) -> bool:
    policies = template.find_resources("AWS::ApplicationAutoScaling::ScalingPolicy")
    return any(action.get("Ref") in policies for action in alarm.get("AlarmActions", []))


def _statements(template, role_fragment: str) -> list[dict]:
    out = []
    for policy in template.find_resources("AWS::IAM::Policy").values():
        roles = json.dumps(policy["Properties"].get("Roles", []))
        if role_fragment in roles:
            out += policy["Properties"]["PolicyDocument"]["Statement"]
    return out


def _actions(statements) -> set[str]:
    actions: set[str] = set()
    for statement in statements:
        value = statement["Action"]
        actions |= {value} if isinstance(value, str) else set(value)
    return actions


def test_least_privilege_grants(prod):
    api_statements = _statements(prod, "ApiServiceTaskDefTaskRole")
    api = _actions(api_statements)
    assert "sqs:SendMessage" in api
    assert not {"sqs:ReceiveMessage", "sqs:DeleteMessage"} & api
    # The internet-facing API writes the limits table only, never the ledger.
    tables = {
        name.rstrip("0123456789ABCDEF"): name
        for name in prod.find_resources("AWS::DynamoDB::Table")
    }
    assert {
        json.dumps(s["Resource"]) for s in api_statements if "dynamodb" in json.dumps(s["Action"])
    } == {
        json.dumps([{"Fn::GetAtt": [tables[name], "Arn"]}])
        for name in ("JobsLimits", "ModelAnswers")
    }
    # Only the worker calls the model.
    assert not {a for a in api if a.startswith("bedrock:")}
    statements = _statements(prod, "WorkerTaskTaskRole")
    worker = _actions(statements)
    assert {
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:ChangeMessageVisibility",
        "events:PutEvents",
        "ssm:GetParameter",
        "ssm:PutParameter",
        # Scale-in protection while jobs run: without it ECS refuses, and busy tasks are
        # stopped at every scale-in and deploy.
        "ecs:UpdateTaskProtection",
    } <= worker
    assert "sqs:SendMessage" not in worker
    # The ledger item by item: no Scan, Query or batch writes.
    assert {a for a in worker if a.startswith("dynamodb:")} == {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
    }
    # One model, streamed, and nothing else of Bedrock: the inference profile and the model
    # in the regions it routes to.
    (bedrock,) = [s for s in statements if "bedrock" in json.dumps(s["Action"])]
    assert bedrock["Action"] == "bedrock:InvokeModelWithResponseStream"
    resources = json.dumps(bedrock["Resource"])
    assert f"inference-profile/{BEDROCK_PROFILE}" in resources
    assert "foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0" in resources
    assert "*" not in resources.replace("arn:aws:bedrock:*::", "")
    # It writes servers' own configuration only, never the operator's default webhook.
    (put,) = [s for s in statements if s["Action"] == "ssm:PutParameter"]
    assert json.dumps(put["Resource"]).endswith('parameter/discord-bot/servers/*"]]}')


def test_redrive_count_is_configurable_and_the_worker_is_told(dev):
    dev.has_resource_properties(
        "AWS::SQS::Queue", {"RedrivePolicy": Match.object_like({"maxReceiveCount": 7})}
    )
    dev.has_resource_properties(
        "AWS::ECS::TaskDefinition",
        {
            "ContainerDefinitions": [
                Match.object_like(
                    {
                        "Environment": Match.array_with(
                            [{"Name": "WORKER_MAX_RECEIVES", "Value": "7"}]
                        )
                    }
                )
            ]
        },
    )


def test_a_synth_for_a_real_region_has_no_unsuppressed_findings(monkeypatch, tmp_path):
    # What `cdk deploy` synthesizes: the region and account are values, not tokens, and the
    # suppressions must still match (a deploy stops on any cdk-nag error).
    monkeypatch.setenv("CDK_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("CDK_DEFAULT_ACCOUNT", "111111111111")
    monkeypatch.setenv("CDK_OUTDIR", str(tmp_path))
    from infra.app import main

    assert main(["-c", "llm_provider=bedrock", "-c", f"llm_model={BEDROCK_PROFILE}"]) == 0


def test_context_comes_as_the_cdk_cli_takes_it():
    from infra.app import context_arguments

    assert context_arguments(["-c", "stage=prod", "--context", "llm_model=a=b"]) == {
        "stage": "prod",
        "llm_model": "a=b",
    }
    with pytest.raises(SettingsError, match="expected -c key=value"):
        context_arguments(["stage=prod"])


def _dashboard(template) -> dict:
    """The dashboard's body, its references (region, queue names) filled with placeholders."""
    (dashboard,) = template.find_resources("AWS::CloudWatch::Dashboard").values()
    parts = dashboard["Properties"]["DashboardBody"]["Fn::Join"][1]
    return json.loads("".join(p if isinstance(p, str) else "ref" for p in parts))


def _bot_series(template, namespace: str) -> list[tuple[str, frozenset[str]]]:
    """Each (metric, dimension names) of the bot's own namespace that an alarm watches or
    the dashboard draws (SEARCH expressions by the schema they name)."""
    series = []
    for alarm in _alarms(template):
        stats = [alarm] if "MetricName" in alarm else []
        stats += [m["MetricStat"]["Metric"] for m in alarm.get("Metrics", []) if "MetricStat" in m]
        series += [
            (s["MetricName"], frozenset(d["Name"] for d in s.get("Dimensions", [])))
            for s in stats
            if s.get("Namespace") == namespace
        ]
    for widget in _dashboard(template)["widgets"]:
        for metric in widget["properties"].get("metrics", []):
            if isinstance(metric[0], dict):
                found = re.search(_SEARCH, metric[0]["expression"])
                ns, *dimensions = found.group(1).split(",")
                assert ns == f'"{namespace}"'  # quoted, as a hyphen requires
                series.append((found.group(2), frozenset(dimensions)))
            elif metric[0] == namespace:
                fields = [f for f in metric[2:] if isinstance(f, str)]
                series.append((metric[1], frozenset(fields[0::2])))
    return series


_SEARCH = re.compile(r"SEARCH\('\{([^}]*)\} MetricName=\"(\w+)\"")


@pytest.mark.parametrize(
    ("stage", "namespace"), [("dev", "DiscordBot-dev"), ("prod", "DiscordBot")]
)
def test_alarms_and_dashboard_read_metrics_the_services_write(synthesized, stage, namespace):
    # A typo in a metric or dimension name is an empty graph and an alarm that never fires.
    written = {
        (measure.name, frozenset(dims))
        for directives in DIRECTIVES.values()
        for directive in directives
        for measure in directive.measures
        for dims in directive.dimension_sets()
    }
    template = synthesized[stage][0]
    series = _bot_series(template, namespace)
    watched = {name for name, _ in series}
    assert {"AckLatency", "Interactions", "Jobs", "DiscordRateLimited", "ModelRetries"} <= watched
    assert {"DiscordRequests", "TokensIn", "TimeToFirstToken", "Refusals"} <= watched
    assert "JobDuration" in watched
    assert not [s for s in series if s not in written], [s for s in series if s not in written]
    # each service is told where its metrics go
    definitions = template.find_resources("AWS::ECS::TaskDefinition").values()
    assert len(definitions) == 2  # the API's and the worker's
    for definition in definitions:
        env = definition["Properties"]["ContainerDefinitions"][0]["Environment"]
        assert {"Name": "METRICS_NAMESPACE", "Value": namespace} in env
    (function,) = template.find_resources("AWS::Lambda::Function").values()
    assert function["Properties"]["Environment"]["Variables"]["METRICS_NAMESPACE"] == namespace


def test_the_dashboard_sets_the_bots_metrics_beside_the_platforms(prod):
    body = json.dumps(_dashboard(prod))
    for namespace in ("AWS/SQS", "AWS/ApplicationELB", "AWS/ECS", "AWS/Lambda"):
        assert namespace in body


def test_every_alarm_has_a_runbook_line_in_the_readme(prod):
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    runbook = readme.split("### Alarms", 1)[1].split("\n## ", 1)[0]
    names = {
        re.sub(r"[0-9A-F]{8}$", "", key).removeprefix("Alarms")
        for key, alarm in prod.find_resources("AWS::CloudWatch::Alarm").items()
        if not _scales(prod, alarm["Properties"])
    }
    assert len(names) >= 12
    missing = [n for n in sorted(names) if f"**{n}**" not in runbook]
    assert not missing, f"alarms without a runbook line: {missing}"
