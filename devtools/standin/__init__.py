"""The local Discord stand-in: a Discord REST API on loopback that answers like Discord,
checks every request body against Discord's OpenAPI schemas, and can be made to fail; and
Discord's side of an interaction, delivered signed to the bot's endpoint.

``make run`` and compose's ``discord`` service run it as the bot's Discord; the tests use it
as theirs. Not part of any deployed image.

    server.py     DiscordStandIn: recording, faults, the interaction-token routes,
                  ``connect``/``interact`` and the stand-in's own ``/_fake/`` routes
    channels.py   the bot-token routes: channel messages, application commands
    state.py      what the bot sent; messages, attachments and interactions as Discord keeps them
    delivery.py   signing an interaction, reading the bot's answer, checking and applying it
    multipart.py  payload_json + files[n] bodies, and whether their two halves agree
    refusals.py   Discord's error bodies and codes, and the faults tests inject
    schemas.py    the request schemas cut from Discord's OpenAPI description
"""

from devtools.standin.delivery import InteractionResult, NotConnectedError
from devtools.standin.multipart import UploadedFile
from devtools.standin.refusals import Fault
from devtools.standin.schemas import Schemas, schemas
from devtools.standin.server import DiscordStandIn
from devtools.standin.state import InteractionState, Recorded

__all__ = [
    "DiscordStandIn",
    "Fault",
    "InteractionResult",
    "InteractionState",
    "NotConnectedError",
    "Recorded",
    "Schemas",
    "UploadedFile",
    "schemas",
]
