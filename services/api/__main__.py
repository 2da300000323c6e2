"""``python -m services.api``: settings from the environment, then uvicorn."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

import uvicorn

from services.api.app import create_app
from services.api.guard import server_options
from services.core.config import ApiSettings
from services.core.errors import ConfigError
from services.core.logs import configure_logging


def main(environ: Mapping[str, str] = os.environ) -> int:
    try:
        settings = ApiSettings.from_environ(environ)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    try:
        app = create_app(settings)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log, context_vars=False, metrics_service="api")
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        # One canonical line per interaction replaces the access log.
        access_log=False,
        server_header=False,
        # Behind the load balancer: trust its X-Forwarded-* headers.
        proxy_headers=True,
        forwarded_allow_ips="*",
        # ECS gives a task 30 s by default between SIGTERM and SIGKILL.
        timeout_graceful_shutdown=20,
        # Deadlines on reading a request, keep-alive longer than the load balancer's.
        **server_options(),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
