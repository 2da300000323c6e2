"""The job worker: consumes the SQS jobs queue and runs deferred commands."""
