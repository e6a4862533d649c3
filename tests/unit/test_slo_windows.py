"""The burn-rate windows: the SRE workbook's table at 30 days, scaled by period/30d, never under 4 scrape intervals.
Expectations are written out by hand (the workbook's numbers divided by 30 or by 30/7)."""

from __future__ import annotations

import pytest

from infractl.models.slo import format_duration, parse_duration
from infractl.services.slo.windows import MIN_SCRAPES, WindowError, alert_for, burn_windows

DAY = 86_400


def _table(period: str, scrape: str) -> list[tuple[str, str, str, float, float]]:
    return [
        (w.severity, w.long, w.short, w.factor, w.budget_consumed)
        for w in burn_windows(parse_duration(period), parse_duration(scrape))
    ]


def test_thirty_days_is_the_workbook_table():
    assert _table("30d", "30s") == [
        ("page", "1h", "5m", 14.4, 0.02),
        ("page", "6h", "30m", 6.0, 0.05),
        ("ticket", "1d", "2h", 3.0, 0.1),
        ("ticket", "3d", "6h", 1.0, 0.1),
    ]
    assert alert_for(30 * DAY, 30) == {"page": "2m", "ticket": "15m"}


def test_one_day_divides_by_thirty_and_raises_the_shortest_window_to_four_scrapes():
    # 1h/30 = 2m, 5m/30 = 10s -> 20s (4 x 5s); 6h/30 = 12m, 30m/30 = 1m;
    # 1d/30 = 48m, 2h/30 = 4m; 3d/30 = 2h24m, 6h/30 = 12m
    assert _table("1d", "5s") == [
        ("page", "2m", "20s", 14.4, 0.02),
        ("page", "12m", "1m", 6.0, 0.05),
        ("ticket", "48m", "4m", 3.0, 0.1),
        ("ticket", "2h24m", "12m", 1.0, 0.1),
    ]
    # for: 2m/30 = 4s -> 5s (one scrape interval); 15m/30 = 30s
    assert alert_for(DAY, 5) == {"page": "5s", "ticket": "30s"}


def test_seven_days_multiplies_by_seven_thirtieths():
    # 3600 x 7/30 = 840s = 14m; 300 x 7/30 = 70s; 21600 x 7/30 = 5040s = 1h24m; 1800 x 7/30 = 420s = 7m; ...
    assert _table("7d", "15s") == [
        ("page", "14m", "1m10s", 14.4, 0.02),
        ("page", "1h24m", "7m", 6.0, 0.05),
        ("ticket", "5h36m", "28m", 3.0, 0.1),
        ("ticket", "16h48m", "1h24m", 1.0, 0.1),
    ]
    assert alert_for(7 * DAY, 15) == {"page": "28s", "ticket": "3m30s"}


@pytest.mark.parametrize("period", [3_600, 3_600 * 6, DAY, 7 * DAY, 28 * DAY, 30 * DAY, 90 * DAY])
@pytest.mark.parametrize("scrape", [1, 5, 15, 30, 60])
def test_no_window_is_under_four_scrapes_and_each_short_window_is_shorter_than_its_long(period, scrape):
    # the first pair collapses when 4 scrapes reach its long window (1h x period/30d = period/720)
    collapses = MIN_SCRAPES * scrape >= round(period / 720)
    if collapses:
        with pytest.raises(WindowError):
            burn_windows(period, scrape)
        return
    windows = burn_windows(period, scrape)
    for w in windows:
        assert w.short_s >= MIN_SCRAPES * scrape and w.long_s >= MIN_SCRAPES * scrape
        assert w.short_s < w.long_s <= period
        assert parse_duration(w.long) == w.long_s and parse_duration(w.short) == w.short_s


def test_a_period_too_short_for_its_scrape_interval_is_refused():
    with pytest.raises(WindowError, match="the 20m/20m page windows collapse"):
        burn_windows(DAY, 300)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30d", 2_592_000), ("1h30m", 5_400), ("90s", 90), ("1w", 604_800), ("2h24m", 8_640), ("1m10s", 70)],
)
def test_durations_parse_and_format(text, seconds):
    assert parse_duration(text) == seconds
    assert parse_duration(format_duration(seconds)) == seconds


@pytest.mark.parametrize("text", ["", "0s", "1x", "30", "5m1h", "1.5h", "-1m"])
def test_bad_durations_are_refused(text):
    with pytest.raises(ValueError):
        parse_duration(text)
