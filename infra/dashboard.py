"""The bot's CloudWatch dashboard: the metrics its log lines carry (``services.core.metrics``,
in the stage's namespace) beside the queue's, the load balancer's, the services' and the
scheduler's own. Series of one metric by outcome, status or model are SEARCH expressions,
so a new outcome or model shows up without a change here."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

MINUTE = Duration.minutes(1)
# Discord's deadline for the first answer to an interaction ("Receiving and Responding":
# "you must send an initial response within 3 seconds").
ACK_DEADLINE_MS = 3000


def bot_metric(
    namespace: str, name: str, statistic: str, label: str | None = None, **dimensions: str
) -> cloudwatch.Metric:
    """One series of the bot's own metrics, by its exact dimensions (Service at least)."""
    return cloudwatch.Metric(
        namespace=namespace,
        metric_name=name,
        dimensions_map=dimensions,
        statistic=statistic,
        period=MINUTE,
        label=label,
    )


def search(
    namespace: str, name: str, by: str, statistic: str, service: str
) -> cloudwatch.MathExpression:
    """Every series of ``name`` for one service, one line per value of dimension ``by``."""
    # Quoted: a namespace with a hyphen (DiscordBot-dev) must be, in a search's schema.
    query = f'{{"{namespace}",Service,{by}}} MetricName="{name}" Service="{service}"'
    return cloudwatch.MathExpression(
        expression=f"SEARCH('{query}', '{statistic}', 60)",
        using_metrics={},
        label="",
        period=MINUTE,
    )


def _graph(
    title: str, metrics: list[cloudwatch.IMetric], *, width: int = 8, **extra: object
) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(title=title, left=metrics, width=width, height=6, **extra)  # type: ignore[arg-type]


class BotDashboard(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        namespace: str,
        dashboard_name: str,
        jobs: sqs.IQueue,
        dead_letter_queues: list[sqs.IQueue],
        load_balancer: elbv2.ApplicationLoadBalancer,
        api_service: ecs.FargateService,
        worker_service: ecs.FargateService,
        scheduler: lambda_.IFunction,
    ) -> None:
        super().__init__(scope, construct_id)
        ns = namespace

        def own(name: str, statistic: str, label: str, **dims: str) -> cloudwatch.Metric:
            return bot_metric(ns, name, statistic, label, **dims)

        deadline = cloudwatch.HorizontalAnnotation(
            value=ACK_DEADLINE_MS, label="Discord's 3 s deadline", color="#d62728"
        )
        interactions = [
            _graph(
                "Interactions by outcome (per minute)",
                [search(ns, "Interactions", "Outcome", "Sum", "api")],
            ),
            _graph(
                "Acknowledgement latency, ms (the API's own time)",
                [
                    own("AckLatency", "p50", "p50", Service="api"),
                    own("AckLatency", "p99", "p99", Service="api"),
                    own("AckLatency", "Maximum", "max", Service="api"),
                ],
                left_annotations=[deadline],
            ),
            _graph(
                "Enqueue latency (SendMessage), ms",
                [
                    search(ns, "EnqueueLatency", "Outcome", "p99", "api"),
                ],
            ),
        ]
        jobs_row = [
            _graph(
                "Jobs by outcome (retry and parked included)",
                [search(ns, "Jobs", "Outcome", "Sum", "worker")],
            ),
            _graph(
                "Job duration by command, p99 ms",
                [search(ns, "JobDuration", "Command", "p99", "worker")],
            ),
            _graph(
                "Queue: waiting, in flight, oldest (s), dead-lettered",
                [
                    jobs.metric_approximate_number_of_messages_visible(period=MINUTE),
                    jobs.metric_approximate_number_of_messages_not_visible(period=MINUTE),
                    *(
                        dlq.metric_approximate_number_of_messages_visible(
                            period=MINUTE, label=f"dead-letter queue {n} (Parked{n})"
                        )
                        for n, dlq in enumerate(dead_letter_queues)
                    ),
                ],
                right=[jobs.metric_approximate_age_of_oldest_message(period=MINUTE)],
            ),
        ]
        discord = [
            _graph(
                "Discord requests by status (worker)",
                [search(ns, "DiscordRequests", "Status", "Sum", "worker")],
            ),
            _graph(
                "Discord 429s and unreachable (worker)",
                [
                    own("DiscordRateLimited", "Sum", "429s", Service="worker"),
                    search(ns, "DiscordConnectionErrors", "Route", "Sum", "worker"),
                ],
            ),
            _graph(
                "Refusals by reason (limits, budgets)",
                [search(ns, "Refusals", "Reason", "Sum", "api")],
            ),
        ]
        model = [
            _graph(
                "Model tokens in and out, by model",
                [
                    search(ns, "TokensIn", "Model", "Sum", "worker"),
                    search(ns, "TokensOut", "Model", "Sum", "worker"),
                ],
            ),
            _graph(
                "Time to first token, p50 and p99 ms",
                [
                    search(ns, "TimeToFirstToken", "Model", "p50", "worker"),
                    search(ns, "TimeToFirstToken", "Model", "p99", "worker"),
                ],
            ),
            _graph(
                "Model retries by kind (rate_limited: throttled)",
                [search(ns, "ModelRetries", "Kind", "Sum", "worker")],
            ),
        ]
        platform = [
            _graph(
                "Load balancer: requests, target 5xx, p99 response (s)",
                [
                    load_balancer.metrics.request_count(period=MINUTE),
                    load_balancer.metrics.http_code_target(
                        elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=MINUTE
                    ),
                ],
                right=[load_balancer.metrics.target_response_time(period=MINUTE, statistic="p99")],
            ),
            _graph(
                "CPU and memory, % of the task's",
                [
                    api_service.metric_cpu_utilization(period=MINUTE, label="api CPU"),
                    api_service.metric_memory_utilization(period=MINUTE, label="api memory"),
                    worker_service.metric_cpu_utilization(period=MINUTE, label="worker CPU"),
                    worker_service.metric_memory_utilization(period=MINUTE, label="worker memory"),
                ],
            ),
            _graph(
                "Scheduler: events by outcome, Lambda errors",
                [
                    search(ns, "ScheduledEvents", "Outcome", "Sum", "scheduler"),
                    scheduler.metric_errors(period=MINUTE),
                ],
            ),
        ]
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=dashboard_name,
            default_interval=Duration.hours(3),
            widgets=[interactions, jobs_row, discord, model, platform],
        )
