"""Local development tools: the local stack behind ``make run``, a CLI that signs and sends
interactions, and command registration. Not part of any deployed image."""
