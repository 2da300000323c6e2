"""What becomes of a job's message: the outcome the runner reports, and the retry delay the
consumer hides the message for."""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import Enum


class Outcome(Enum):
    COMPLETED = "completed"  # final reply delivered: delete the message
    FAILED = "failed"  # the user was told it failed: delete the message
    DUPLICATE = "duplicate"  # it already ran (a redelivery): delete the message
    INVALID = "invalid"  # not a genuine job: never run; the redrive policy parks it in the DLQ
    RETRY = "retry"  # a passing failure: hide the message for a backoff, run it again
    BUSY = "busy"  # another worker runs it: hide the message until its lock ends
    PARKED = "parked"  # failed on its last allowed receive: the user was told; to the DLQ

    @property
    def delete(self) -> bool:
        return self in (Outcome.COMPLETED, Outcome.FAILED, Outcome.DUPLICATE)

    @property
    def ended(self) -> bool:
        """The job will not run again: the places it held under the limits are free."""
        return self.delete or self is Outcome.PARKED


@dataclass(frozen=True, slots=True)
class Verdict:
    outcome: Outcome
    # Seconds to hide the message before it is received again (None: leave it as it is).
    retry_in: int | None = None


@dataclass(frozen=True, slots=True)
class Redelivery:
    """Retries through the queue: the message is hidden for a growing, jittered delay."""

    # The jobs queue's redrive maxReceiveCount: the receive after this one dead-letters it.
    max_receives: int = 5
    base: float = 5.0
    cap: float = 300.0

    def delay(self, receive_count: int) -> int:
        ceiling = min(self.cap, self.base * 2 ** (receive_count - 1))
        return max(1, int(random.uniform(ceiling / 2, ceiling)))
