"""The CDK stack, synthesized offline (no credentials, no network, no Docker): resources and
their key properties, and cdk-nag's AwsSolutions checks. Two synths per session."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Annotations, Match, Template

from infra.app import build

CERT = "arn:aws:acm:us-east-1:111111111111:certificate/abc"


@pytest.fixture(scope="session")
def synthesized():
    out = {}
    for stage, context in (
        ("dev", {"stage": "dev", "max_receives": "7"}),
        ("prod", {"stage": "prod", "certificate_arn": CERT, "domain_name": "bot.example.org"}),
    ):
        app = cdk.App(context={**context, "application_id": "100000000000000001"})
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


def test_idempotency_table_has_ttl(prod):
    prod.has_resource_properties(
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
    counts = sorted(s["Properties"]["DesiredCount"] for s in services.values())
    assert counts == [1, 2]  # worker starts at 1, API runs 2
    prod.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener", {"Protocol": "HTTPS", "Port": 443}
    )
    prod.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::TargetGroup", {"HealthCheckPath": "/healthz"}
    )
    dev.has_resource_properties("AWS::ElasticLoadBalancingV2::Listener", {"Protocol": "HTTP"})


def test_worker_stops_gracefully_and_scales_on_backlog_to_zero_in_dev(prod, dev):
    prod.has_resource_properties(
        "AWS::ECS::TaskDefinition",
        {"ContainerDefinitions": [Match.object_like({"Name": "worker", "StopTimeout": 120})]},
    )
    dev.has_resource_properties("AWS::ApplicationAutoScaling::ScalableTarget", {"MinCapacity": 0})
    prod.has_resource_properties("AWS::ApplicationAutoScaling::ScalableTarget", {"MinCapacity": 1})
    prod.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {"MetricName": "ApproximateNumberOfMessagesVisible", "Namespace": "AWS/SQS"},
    )
    policies = prod.find_resources("AWS::ApplicationAutoScaling::ScalingPolicy")
    assert any(p["Properties"]["PolicyType"] == "StepScaling" for p in policies.values())


def test_secrets_are_never_plain_environment_values(prod):
    rendered = json.dumps(prod.to_json())
    given = []
    for definition in prod.find_resources("AWS::ECS::TaskDefinition").values():
        for container in definition["Properties"]["ContainerDefinitions"]:
            names = {e["Name"] for e in container.get("Environment", [])}
            assert not names & {"DISCORD_PUBLIC_KEY", "DISCORD_BOT_TOKEN", "CUSTOM_ID_SECRET"}
            secrets = {s["Name"] for s in container.get("Secrets", [])}
            assert secrets <= {"DISCORD_PUBLIC_KEY", "DISCORD_BOT_TOKEN", "CUSTOM_ID_SECRET"}
            given.append(secrets)
    # The API and the worker share the custom_id key; only the worker has the bot token.
    assert sorted(map(sorted, given)) == [
        ["CUSTOM_ID_SECRET", "DISCORD_BOT_TOKEN"],
        ["CUSTOM_ID_SECRET", "DISCORD_PUBLIC_KEY"],
    ]
    assert "set-me" in rendered  # only the placeholder template, to be replaced


def test_scheduler_lambda_bus_rule_and_daily_schedule(prod):
    prod.has_resource_properties("AWS::Lambda::Function", {"PackageType": "Image"})
    prod.has_resource_properties("AWS::Events::EventBus", {"Name": "discord-bot-events"})
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
    assert json.loads(daily[0]["Targets"][0]["Input"]) == {
        "type": "scheduled_task",
        "task": "daily-reminder",
    }


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
    } <= metrics


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
    api = _actions(_statements(prod, "ApiServiceTaskDefTaskRole"))
    assert "sqs:SendMessage" in api
    assert not {"sqs:ReceiveMessage", "sqs:DeleteMessage", "dynamodb:PutItem"} & api
    worker = _actions(_statements(prod, "WorkerTaskTaskRole"))
    assert {
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:ChangeMessageVisibility",
        "dynamodb:PutItem",
        "events:PutEvents",
        "ssm:GetParameter",
        "ssm:PutParameter",
    } <= worker
    assert "sqs:SendMessage" not in worker


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
