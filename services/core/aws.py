"""AWS clients (aioboto3) and the one translation of their errors.

Clients are opened for the lifetime of a service (``async with`` in ``main()`` or a lifespan);
credentials come from the standard chain. Every ``except`` around an AWS call names the
failure with ``error_code``, so logs and errors say ``ThrottlingException`` or
``ConnectTimeoutError`` the same way everywhere.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aioboto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from services.core.config import AwsSettings

# What an AWS call raises: the service's answer (ClientError) or the transport's (BotoCoreError).
AWS_ERRORS = (BotoCoreError, ClientError)


def error_code(exc: BaseException) -> str:
    """The AWS error code of a refused call (``ConditionalCheckFailedException``), or the
    transport failure's class name (``EndpointConnectionError``)."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code") or "ClientError")
    return type(exc).__name__


@asynccontextmanager
async def aws_client(
    service: str,
    aws: AwsSettings,
    *,
    connect_timeout: float,
    read_timeout: float,
    max_attempts: int,
) -> AsyncIterator[Any]:
    """An AWS client for the lifetime of a service."""
    session = aioboto3.Session(region_name=aws.region)
    config = Config(
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        # Attempts in all, the first included (botocore's own "max_attempts" counts retries).
        retries={"total_max_attempts": max_attempts, "mode": "standard"},
        max_pool_connections=64,
    )
    async with session.client(service, endpoint_url=aws.endpoint_url, config=config) as client:
        yield client
