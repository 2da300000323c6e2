"""structlog set-up, once per process.

JSON lines by default. Info lines are rendered and written in batches by a background
thread, at most ``FLUSH_INTERVAL`` late: the API logs a canonical line per request, and
rendering it in the request's path cost a tenth of the API's throughput (``make bench``).
Warnings and errors are rendered and written at once, and ``flush_logs()`` runs at shutdown,
so what a crash can lose is a fraction of a second of info lines, never an error.
Every line passes the secret redaction in ``services.core.redact``.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import sys
import threading
import time
from collections.abc import Callable, MutableMapping
from typing import Any, Final, TextIO

import orjson
import structlog

from services.core.config import LogSettings
from services.core.metrics import embed as embed_metrics
from services.core.redact import redact_secret_keys, scrub_rendered, scrub_text

FLUSH_INTERVAL: Final = 0.2
_format_exc_info: Final = structlog.processors.format_exc_info
_URGENT: Final = frozenset({"warning", "warn", "error", "err", "critical", "fatal", "exception"})


class _UtcTimestamp:
    """ISO 8601 UTC with milliseconds; the formatted second is cached."""

    __slots__ = ("_prefix", "_second")

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def format(self, now: float) -> str:
        second = int(now)
        if second != self._second:
            self._second = second
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._prefix}.{int((now - second) * 1000):03d}Z"

    def __call__(
        self, _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        event_dict["timestamp"] = self.format(time.time())
        return event_dict


class _JsonSink:
    """The end of the JSON pipeline: holds info lines as dicts and renders them in batches;
    renders and writes warnings and errors at once."""

    def __init__(
        self, stream: TextIO, metrics_service: str | None = None, namespace: str = ""
    ) -> None:
        self._stream = stream
        # The service the lines' metrics are counted for (None: no metrics), and where.
        self._metrics_service = metrics_service
        self._namespace = namespace
        self._timestamp = _UtcTimestamp()
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()  # guards _pending: held for an append, never longer
        self._write_lock = threading.Lock()  # one writer at a time, so lines keep their order
        self._thread = threading.Thread(target=self._run, name="log-flush", daemon=True)
        self._thread.start()
        atexit.register(self.flush)

    def render(self, event: dict[str, Any]) -> str:
        metrics = None
        if self._metrics_service is not None:
            metrics = embed_metrics(
                event, self._metrics_service, self._namespace, event["timestamp"]
            )
        event["timestamp"] = self._timestamp.format(event["timestamp"])
        redact_secret_keys(None, "", event)
        # Anything orjson cannot encode natively (an exception object, a Secret): its repr.
        text = scrub_text(orjson.dumps(event, default=repr).decode())
        # The metric directive is ours and the same for every line of a kind: added to the
        # rendered line, past the redaction, which has nothing to look for in it.
        return text if metrics is None else f"{text[:-1]}{metrics}}}"

    def defer(self, logger: Any, method: str, event_dict: MutableMapping[str, Any]) -> Any:
        """Last structlog processor: stamp the line now, render it later. A traceback is
        formatted now, while the exception is at hand."""
        if "exc_info" in event_dict:
            event_dict = _format_exc_info(logger, method, event_dict)
        event_dict["level"] = "warning" if method == "warn" else method
        event_dict["timestamp"] = time.time()
        return (event_dict,), {}

    def take(self, event: dict[str, Any]) -> None:
        with self._lock:
            self._pending.append(event)
        if event["level"] in _URGENT:
            self.flush()

    def write_line(self, line: str) -> None:
        """For lines rendered elsewhere (stdlib logging): keep the order, write at once."""
        with self._write_lock:
            self._write_pending()
            self._stream.write(line)
            self._stream.flush()

    def flush(self) -> None:
        with self._write_lock:
            self._write_pending()
            self._stream.flush()

    def _write_pending(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
        if batch:
            self._stream.write("".join(self._render_or_say_why(e) + "\n" for e in batch))

    def _render_or_say_why(self, event: dict[str, Any]) -> str:
        """One line that cannot be rendered (an integer past 64 bits, a key that is not a
        string) becomes a line saying so, never the end of the batch or of the thread."""
        try:
            return self.render(event)
        except Exception as exc:  # whatever a caller put in a line
            return self.render(
                {
                    "event": "log_line_unrenderable",
                    "level": "error",
                    "timestamp": time.time(),
                    "original_event": str(event.get("event")),
                    "error": f"{type(exc).__name__}: {exc}",
                }
            )

    def _run(self) -> None:
        while True:
            time.sleep(FLUSH_INTERVAL)
            # A stream that failed (closed, full disk) is tried again at the next tick.
            with contextlib.suppress(OSError, ValueError):
                self.flush()


class _SinkLogger:
    """structlog's final logger for the JSON pipeline."""

    __slots__ = ("_sink",)

    def __init__(self, sink: _JsonSink) -> None:
        self._sink = sink

    def _take(self, event: dict[str, Any]) -> None:
        self._sink.take(event)

    msg = debug = info = warning = warn = error = err = critical = fatal = exception = _take


class _SinkStream:
    """A file-like face of the sink for stdlib logging's StreamHandler."""

    def __init__(self, sink: _JsonSink) -> None:
        self._sink = sink

    def write(self, text: str) -> int:
        self._sink.write_line(text)
        return len(text)

    def flush(self) -> None:
        return None


class _JsonLine:
    """Renders one stdlib record's event dict as a JSON line, as the sink does."""

    def __init__(self, sink: _JsonSink) -> None:
        self._sink = sink

    def __call__(self, _logger: Any, method: str, event_dict: MutableMapping[str, Any]) -> str:
        event = dict(event_dict)
        event["level"] = method
        event["timestamp"] = time.time()
        return self._sink.render(event)


_sink: _JsonSink | None = None
_info_enabled = True


def line_writer(name: str) -> Callable[[str, dict[str, Any]], None]:
    """A writer of the one info line per unit of work (``write("interaction", fields)``).

    With the JSON sink it hands the line straight to it, as the structlog chain would have
    after its last processor: that chain cost a sixth of a /ping (``make bench``). Otherwise
    (console format, or logging not configured, as in tests that capture structlog's
    events) it logs through structlog under ``name``.
    """
    sink = _sink
    if sink is None:
        log = structlog.get_logger(name)

        def through_structlog(event: str, fields: dict[str, Any]) -> None:
            log.info(event, **fields)

        return through_structlog
    if not _info_enabled:
        return lambda _event, _fields: None

    def to_sink(event: str, fields: dict[str, Any]) -> None:
        fields["event"] = event
        fields["level"] = "info"
        fields["timestamp"] = time.time()
        sink.take(fields)

    return to_sink


def flush_logs() -> None:
    """Write out every pending line; services call it as they stop."""
    if _sink is not None:
        _sink.flush()


def configure_logging(
    settings: LogSettings,
    *,
    stream: TextIO | None = None,
    context_vars: bool = True,
    metrics_service: str | None = None,
) -> None:
    """Configure structlog, and route stdlib logging (uvicorn, aiohttp, botocore) through the
    same format and redaction.

    ``metrics_service`` (``api``, ``worker``, ``scheduler``): the JSON lines that are
    canonical lines carry their metrics in CloudWatch's embedded format, for that service
    (``services.core.metrics``); they are rendered off the request's path, with the line.

    ``context_vars`` merges what ``structlog.contextvars`` binds (the worker binds the job);
    it scans every context variable on every line, so the API, which binds none, turns it off.
    """
    global _sink, _info_enabled  # noqa: PLW0603 - one per process, like structlog's own
    level = logging.getLevelNamesMapping()[settings.level]
    _info_enabled = level <= logging.INFO
    out = stream or sys.stdout
    merge = [structlog.contextvars.merge_contextvars] if context_vars else []
    handler: logging.Handler
    if settings.format == "console":
        if _sink is not None:
            _sink.flush()
            _sink = None
        render: list[Any] = [
            structlog.processors.add_log_level,
            redact_secret_keys,
            _UtcTimestamp(),
            structlog.dev.ConsoleRenderer(colors=False),
            scrub_rendered,
        ]
        structlog.configure(
            processors=[*merge, *render],
            wrapper_class=structlog.make_filtering_bound_logger(level),
            logger_factory=structlog.WriteLoggerFactory(out),
            cache_logger_on_first_use=True,
        )
        handler = logging.StreamHandler(out)
    else:
        if _sink is not None:
            _sink.flush()
        sink = _sink = _JsonSink(out, metrics_service, settings.metrics_namespace)
        final = _SinkLogger(sink)
        structlog.configure(
            processors=[*merge, sink.defer],
            wrapper_class=structlog.make_filtering_bound_logger(level),
            logger_factory=lambda *_args: final,
            cache_logger_on_first_use=True,
        )
        render = [structlog.processors.format_exc_info, _JsonLine(sink)]
        handler = logging.StreamHandler(_SinkStream(sink))
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *render],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(max(level, logging.INFO))
    # Lines a library writes for every call, which say nothing the service's own lines do
    # not: the model clients' "HTTP Request: POST …" for each answer, botocore's "Found
    # credentials" for each client. Their warnings and errors still come through.
    for chatty in ("httpx2", "httpx", "aiobotocore.credentials", "botocore.credentials"):
        logging.getLogger(chatty).setLevel(max(level, logging.WARNING))
