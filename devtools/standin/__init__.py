"""The local Discord stand-in: a Discord REST API on loopback that answers like Discord,
checks every request body against Discord's OpenAPI schemas, and can be made to fail.

``make run`` and compose's ``discord`` service run it as the bot's Discord; the tests use it
as theirs. Not part of any deployed image.
"""

from devtools.standin.schemas import Schemas, schemas
from devtools.standin.server import DiscordStandIn, Fault, Recorded

__all__ = ["DiscordStandIn", "Fault", "Recorded", "Schemas", "schemas"]
