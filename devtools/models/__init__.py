"""Loopback stand-ins of model services, for tests and `make run`."""
