"""CloudWatch's rules for a log line in Embedded Metric Format (AWS docs, "Specification:
Embedded metric format"), as a checker the tests run on the lines the services print.

AWS publishes the format's JSON schema only inside that page (under the documentation's
terms), so the rules are written out here rather than vendored: what the schema says
(required members, types, lengths, at least one dimension set) and what it cannot (at most
100 metrics and 30 dimensions, every name a member of the line with a number or string).
"""

from __future__ import annotations

from typing import Any, Final

MAX_METRICS: Final = 100
MAX_DIMENSIONS: Final = 30
MAX_VALUES: Final = 100
MAX_NAME: Final = 1024
MAX_DIMENSION_NAME: Final = 250
MAX_DIMENSION_VALUE: Final = 1024
UNITS: Final = frozenset(
    [
        "Seconds",
        "Microseconds",
        "Milliseconds",
        "Bytes",
        "Kilobytes",
        "Megabytes",
        "Gigabytes",
        "Terabytes",
        "Bits",
        "Kilobits",
        "Megabits",
        "Gigabits",
        "Terabits",
        "Percent",
        "Count",
        "Bytes/Second",
        "Kilobytes/Second",
        "Megabytes/Second",
        "Gigabytes/Second",
        "Terabytes/Second",
        "Bits/Second",
        "Kilobits/Second",
        "Megabits/Second",
        "Gigabits/Second",
        "Terabits/Second",
        "Count/Second",
        "None",
    ]
)


def _number(value: Any) -> bool:
    return type(value) in (int, float)


def emf_problems(line: dict[str, Any]) -> list[str]:
    """Why CloudWatch would not take ``line`` (a parsed JSON log line) as EMF; [] if it would."""
    aws = line.get("_aws")
    if not isinstance(aws, dict):
        return ["_aws: a member object is required"]
    problems = []
    stamp = aws.get("Timestamp")
    if type(stamp) is not int or stamp < 10**12:  # milliseconds since the epoch
        problems.append(f"_aws.Timestamp: milliseconds since the epoch, got {stamp!r}")
    directives = aws.get("CloudWatchMetrics")
    if not isinstance(directives, list) or not directives:
        return [*problems, "_aws.CloudWatchMetrics: a non-empty list is required"]
    for n, directive in enumerate(directives):
        where = f"_aws.CloudWatchMetrics[{n}]"
        namespace = directive.get("Namespace")
        if not isinstance(namespace, str) or not 1 <= len(namespace) <= MAX_NAME:
            problems.append(f"{where}.Namespace: 1-{MAX_NAME} characters required")
        sets = directive.get("Dimensions")
        if not isinstance(sets, list) or not sets:
            problems.append(f"{where}.Dimensions: at least one dimension set is required")
            sets = []
        for dimensions in sets:
            if not isinstance(dimensions, list) or len(dimensions) > MAX_DIMENSIONS:
                problems.append(f"{where}.Dimensions: sets of at most {MAX_DIMENSIONS} names")
                continue
            for name in dimensions:
                value = line.get(name)
                if not isinstance(name, str) or not 1 <= len(name) <= MAX_DIMENSION_NAME:
                    problems.append(f"{where}: dimension name {name!r} is not 1-250 characters")
                elif not isinstance(value, str) or not 1 <= len(value) <= MAX_DIMENSION_VALUE:
                    problems.append(f"{name}: a dimension needs a string member, got {value!r}")
                elif not value.isascii() or not value.isprintable() or not value.strip():
                    # CloudWatch's Dimension type: printable ASCII, not only whitespace.
                    problems.append(f"{name}: not printable ASCII with a non-space: {value!r}")
        metrics = directive.get("Metrics")
        if not isinstance(metrics, list) or len(metrics) > MAX_METRICS:
            problems.append(f"{where}.Metrics: a list of at most {MAX_METRICS} is required")
            continue
        for metric in metrics:
            name = metric.get("Name")
            value = line.get(name)
            if not isinstance(name, str) or not 1 <= len(name) <= MAX_NAME:
                problems.append(f"{where}: metric name {name!r} is not 1-{MAX_NAME} characters")
                continue
            if metric.get("Unit", "None") not in UNITS:
                problems.append(f"{name}: unit {metric.get('Unit')!r} is not one of CloudWatch's")
            values = value if isinstance(value, list) else [value]
            if not values or len(values) > MAX_VALUES or not all(_number(v) for v in values):
                problems.append(f"{name}: a metric needs a number member, got {value!r}")
    return problems
