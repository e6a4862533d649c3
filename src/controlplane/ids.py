"""UUIDv7 (RFC 9562) identifiers, strictly increasing within a process.

Layout: 48-bit Unix milliseconds | version 7 | 12 bits | variant 10 | 62 bits. The 12 bits of `rand_a` and the top
30 bits of `rand_b` form a 42-bit counter (RFC 9562 section 6.2, method 1): it starts at a random value with its
top bit clear each new millisecond and increments within one, so ids made in the same millisecond still sort in
creation order. The remaining 32 bits are random. If the counter overflows, or the wall clock steps backwards,
the generator keeps using (and advances) the last timestamp instead, so the ids never go backwards.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

COUNTER_BITS = 42
RANDOM_BITS = 32
_COUNTER_MAX = (1 << COUNTER_BITS) - 1


def _random_bits(bits: int) -> int:
    return int.from_bytes(os.urandom((bits + 7) // 8), "big") & ((1 << bits) - 1)


class UUIDv7Generator:
    """The IdGenerator port's adapter. Thread-safe; `clock_ms` and `random_bits` are injectable for tests."""

    def __init__(
        self,
        clock_ms: Callable[[], int] | None = None,
        random_bits: Callable[[int], int] = _random_bits,
    ) -> None:
        self._clock_ms = clock_ms or (lambda: time.time_ns() // 1_000_000)
        self._random_bits = random_bits
        self._lock = threading.Lock()
        self._last_ms = -1
        self._counter = 0

    def new(self) -> uuid.UUID:
        with self._lock:
            now = self._clock_ms()
            if now > self._last_ms:
                self._last_ms = now
                self._counter = self._random_bits(COUNTER_BITS - 1)  # top bit clear: room to count up
            else:
                self._counter += 1
                if self._counter > _COUNTER_MAX:  # 2**41+ ids in one millisecond: borrow the next one
                    self._last_ms += 1
                    self._counter = self._random_bits(COUNTER_BITS - 1)
            return build(self._last_ms, self._counter, self._random_bits(RANDOM_BITS))


def build(unix_ms: int, counter: int, random: int) -> uuid.UUID:
    """Assemble a UUIDv7 from its parts (unix_ms: 48 bits, counter: 42 bits, random: 32 bits)."""
    if not 0 <= unix_ms < 1 << 48:
        raise ValueError("unix_ms out of range for UUIDv7")
    rand_a = counter >> 30  # top 12 bits of the counter
    rand_b = ((counter & ((1 << 30) - 1)) << RANDOM_BITS) | (random & ((1 << RANDOM_BITS) - 1))
    value = (unix_ms << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
    return uuid.UUID(int=value)


def timestamp(value: uuid.UUID) -> datetime:
    """The creation time a UUIDv7 carries (millisecond precision)."""
    if value.version != 7:
        raise ValueError(f"{value} is not a UUIDv7")
    return datetime.fromtimestamp((value.int >> 80) / 1000, tz=UTC)
