"""Code shared by the API, the worker and the scheduler.

Kept free of heavy imports so each service loads only what it uses.
"""
