"""UUIDv7 generator: layout, monotonicity within a millisecond, clock steps back, counter overflow."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime

import pytest

from controlplane.ids import COUNTER_BITS, UUIDv7Generator, build, timestamp


def test_layout_version_variant_and_timestamp():
    now_ms = 1_764_000_000_123
    value = UUIDv7Generator(clock_ms=lambda: now_ms).new()
    assert value.version == 7
    assert value.variant == uuid.RFC_4122
    assert timestamp(value) == datetime.fromtimestamp(now_ms / 1000, tz=UTC)
    assert value.int >> 80 == now_ms


def test_strictly_increasing_within_one_millisecond_as_uuid_string_and_bytes():
    gen = UUIDv7Generator(clock_ms=lambda: 1_000)
    ids = [gen.new() for _ in range(20_000)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert [str(i) for i in ids] == sorted(str(i) for i in ids)
    assert [i.bytes for i in ids] == sorted(i.bytes for i in ids)


def test_never_goes_backwards_when_the_clock_does():
    times = iter([5_000, 5_000, 4_000, 3_000, 5_001])
    gen = UUIDv7Generator(clock_ms=lambda: next(times))
    ids = [gen.new() for _ in range(5)]
    assert ids == sorted(ids)
    assert [i.int >> 80 for i in ids] == [5_000, 5_000, 5_000, 5_000, 5_001]


def test_counter_overflow_borrows_the_next_millisecond():
    # random_bits returns the largest seed, so the counter overflows after 2**41 + 1 steps; start near the end
    gen = UUIDv7Generator(clock_ms=lambda: 7_000, random_bits=lambda bits: (1 << bits) - 1)
    first = gen.new()
    gen._counter = (1 << COUNTER_BITS) - 1  # the last counter value of this millisecond
    second = gen.new()
    assert second > first
    assert second.int >> 80 == 7_001


def test_ids_from_many_threads_are_unique_and_each_thread_sees_them_increase():
    gen = UUIDv7Generator()
    per_thread: list[list[uuid.UUID]] = [[] for _ in range(8)]

    def work(out: list[uuid.UUID]) -> None:
        for _ in range(2_000):
            out.append(gen.new())

    threads = [threading.Thread(target=work, args=(o,)) for o in per_thread]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    everything = [i for out in per_thread for i in out]
    assert len(set(everything)) == len(everything)
    assert all(out == sorted(out) for out in per_thread)


def test_build_rejects_out_of_range_time_and_timestamp_rejects_other_versions():
    with pytest.raises(ValueError):
        build(1 << 48, 0, 0)
    with pytest.raises(ValueError, match="not a UUIDv7"):
        timestamp(uuid.uuid4())
