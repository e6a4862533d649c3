"""The burn-rate windows of one environment: the SRE workbook's table for a 30-day SLO, scaled to the env's period.

The workbook (Site Reliability Workbook, ch. 5 "Alerting on SLOs", multiwindow multi-burn-rate alerts) pages when
2% of a 30-day budget burns in 1 hour or 5% in 6 hours, and opens a ticket at 10% in 1 day or 10% in 3 days, each
long window paired with a short one (1/12 of it) so an alert resolves soon after the burn stops. Scaling every
window by period/30d keeps those budget shares: a 1-day dev period pages on 2m/10s and 12m/1m windows. No window is
shorter than MIN_SCRAPES scrape intervals (a rate needs samples; four tolerate a missed scrape), so dev's 10s
becomes 20s at a 5s scrape interval."""

from __future__ import annotations

from infractl.models.slo import BurnWindow, format_duration

REFERENCE_PERIOD_S = 30 * 86_400
# (severity, long window, short window, burn-rate factor) for a 30-day period, seconds.
WORKBOOK_30D = (
    ("page", 3_600, 300, 14.4),
    ("page", 21_600, 1_800, 6.0),
    ("ticket", 86_400, 7_200, 3.0),
    ("ticket", 259_200, 21_600, 1.0),
)
# How long a burn-rate alert's condition must hold before it fires, for a 30-day period (scaled like the windows,
# at least one scrape interval): short against the windows, so one odd evaluation does not page.
FOR_30D = {"page": 120, "ticket": 900}
MIN_SCRAPES = 4


class WindowError(ValueError):
    """The period is too short for the scrape interval: a pair's two windows would be the same."""


def scale(seconds: int, period_s: int) -> int:
    return max(1, round(seconds * period_s / REFERENCE_PERIOD_S))


def burn_windows(period_s: int, scrape_s: int) -> list[BurnWindow]:
    """The four window pairs for this period, each window at least MIN_SCRAPES scrape intervals."""
    floor = MIN_SCRAPES * scrape_s
    out = []
    for severity, long_30d, short_30d, factor in WORKBOOK_30D:
        long_s = max(floor, scale(long_30d, period_s))
        short_s = max(floor, scale(short_30d, period_s))
        if short_s >= long_s:
            raise WindowError(
                f"the {format_duration(long_s)}/{format_duration(short_s)} {severity} windows collapse: a period of"
                f" {format_duration(period_s)} is too short for a {format_duration(scrape_s)} scrape interval"
                f" (windows are at least {MIN_SCRAPES} scrape intervals)"
            )
        out.append(
            BurnWindow(
                severity=severity,
                long=format_duration(long_s),
                short=format_duration(short_s),
                long_s=long_s,
                short_s=short_s,
                factor=factor,
                budget_consumed=round(factor * long_s / period_s, 4),
            )
        )
    return out


def alert_for(period_s: int, scrape_s: int) -> dict[str, str]:
    return {sev: format_duration(max(scrape_s, scale(s, period_s))) for sev, s in FOR_30D.items()}
