"""The pure rules of the Object Lock patch (emulator_patches.s3_lock); the attack suite runs them on a server."""

from __future__ import annotations

import datetime as dt

import pytest

from infractl.adapters.emulator_patches.s3_lock import (
    BOTH_HEADERS,
    PAST_DATE,
    parse_date,
    retention_change_refusal,
    upload_lock_refusal,
)

NOW = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)
DAY_AGO, HOUR, DAY, WEEK = (
    (NOW + delta).strftime("%Y-%m-%dT%H:%M:%SZ")
    for delta in (-dt.timedelta(days=1), *(dt.timedelta(hours=h) for h in (1, 24, 168)))
)


@pytest.mark.parametrize(
    "text",
    ["2026-12-07T12:00:00Z", "2026-12-07T12:00:00.000000Z", "2026-12-07T13:00:00+01:00", "2026-12-07T12:00:00"],
)
def test_dates_parse_to_utc(text):
    assert parse_date(text) == NOW


@pytest.mark.parametrize(
    ("mode", "until", "refusal"),
    [
        (None, None, None),
        ("COMPLIANCE", DAY, None),
        ("COMPLIANCE", None, BOTH_HEADERS),
        (None, DAY, BOTH_HEADERS),
        ("GOVERNANCE", DAY_AGO, PAST_DATE),
    ],
)
def test_upload_lock_headers(mode, until, refusal):
    assert upload_lock_refusal(mode, until, NOW) == refusal


@pytest.mark.parametrize(
    ("current", "new", "bypass", "refusal"),
    [
        # COMPLIANCE while it runs: kept or lengthened only, bypass or not
        (("COMPLIANCE", DAY), ("COMPLIANCE", WEEK), False, None),
        (("COMPLIANCE", DAY), ("COMPLIANCE", DAY), False, None),
        (("COMPLIANCE", DAY), ("COMPLIANCE", HOUR), True, "AccessDenied"),
        (("COMPLIANCE", DAY), ("GOVERNANCE", WEEK), True, "AccessDenied"),
        (("COMPLIANCE", DAY), (None, None), True, "AccessDenied"),
        (("COMPLIANCE", DAY), ("COMPLIANCE", DAY_AGO), False, "InvalidArgument"),
        # GOVERNANCE: lengthened or made COMPLIANCE freely; weakened only with a permitted bypass
        (("GOVERNANCE", DAY), ("GOVERNANCE", WEEK), False, None),
        (("GOVERNANCE", DAY), ("COMPLIANCE", DAY), False, None),
        (("GOVERNANCE", DAY), ("GOVERNANCE", HOUR), False, "AccessDenied"),
        (("GOVERNANCE", DAY), ("GOVERNANCE", HOUR), True, None),
        (("GOVERNANCE", DAY), (None, None), True, None),
        # nothing running: anything with a future date
        ((None, None), ("GOVERNANCE", HOUR), False, None),
        (("COMPLIANCE", DAY_AGO), ("GOVERNANCE", HOUR), False, None),
        ((None, None), ("GOVERNANCE", DAY_AGO), False, "InvalidArgument"),
    ],
)
def test_retention_changes(current, new, bypass, refusal):
    assert retention_change_refusal(current, new, NOW, bypass) == refusal
