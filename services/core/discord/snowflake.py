"""Discord ids (snowflakes): the one check that a value is one, and what it tells.

A snowflake is an unsigned 64-bit integer sent as a decimal string (Discord docs, "Snowflakes").
Its top 42 bits are milliseconds since Discord's epoch, the first second of 2015. Leading zeros
are accepted (other libraries' fixtures write ``"00000000000000000"``); what matters for safety
is that nothing but digits can reach a URL path or an SSM name.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Final, TypeGuard

DISCORD_EPOCH_MS: Final = 1_420_070_400_000
_MAX: Final = 2**64 - 1
_MAX_DIGITS: Final = len(str(_MAX))
_DIGITS: Final = re.compile(f"[0-9]{{1,{_MAX_DIGITS}}}")


def is_snowflake(value: object) -> TypeGuard[str]:
    """Whether ``value`` is a snowflake as Discord sends it: a string of 1-20 ASCII digits
    within 64 bits. Safe to put in a URL path or an SSM parameter name."""
    # Called several times per interaction: a regex, and the int() only at the 64-bit edge.
    return (
        isinstance(value, str)
        and _DIGITS.fullmatch(value) is not None
        and (len(value) < _MAX_DIGITS or int(value) <= _MAX)
    )


def created_at(snowflake: str) -> datetime:
    """When the object with this id was created (UTC)."""
    return datetime.fromtimestamp(((int(snowflake) >> 22) + DISCORD_EPOCH_MS) / 1000, UTC)
