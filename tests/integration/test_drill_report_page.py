"""The drill report's HTML page, rendered by a real browser (headless Chromium): the timeline's bars and the
objectives' bars are drawn, in the step's colour, with the areas their durations give them."""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from infractl.models.drill import DrillStep, DrReport, Measure, PartResult
from infractl.services.drill import report

T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
GREEN, RED = (0x2E, 0x7D, 0x32), (0xC6, 0x28, 0x28)
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)


def _png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and rows of RGB(A) bytes of an 8-bit, non-interlaced PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color, _c, _f, interlace = struct.unpack(">IIBBBBB", body)
            assert (depth, interlace) == (8, 0) and color in (2, 6)
            bpp = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 0xFF
            elif f == 2:
                line[i] = (line[i] + b) & 0xFF
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, [bytes(r[i : i + 3]) for r in rows for i in range(0, stride, bpp)]


def _report() -> DrReport:
    def step(name: str, offset: float, seconds: float, status: str = "passed") -> DrillStep:
        return DrillStep(name=name, status=status, started_at=T0 + timedelta(seconds=offset), seconds=seconds)

    return DrReport(
        env="dev",
        emulate=True,
        target="local",
        started_at=T0,
        finished_at=T0 + timedelta(seconds=20),
        parts=[
            PartResult(
                part="database",
                steps=[
                    step("database.base-backup", 0, 4),
                    step("database.restore", 4, 8),
                    step("evidence.compare", 12, 8, "failed"),
                ],
            )
        ],
        measures=[Measure(name="rto", scope="database", target_minutes=1, measured_seconds=12.0)],
    )


def test_chromium_draws_the_timeline_and_the_objectives(tmp_path: Path):
    chromium = shutil.which("chromium")
    assert chromium, "chromium is installed by `make tools` (APT_DRILLS)"
    page = tmp_path / "dr-dev.html"
    page.write_text(report.page(_report()), encoding="utf-8")
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            chromium,
            *FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={shot}",
            "--window-size=1100,700",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    width, height, pixels = _png_pixels(shot.read_bytes())
    assert (width, height) == (1100, 700)
    green = sum(1 for p in pixels if p == bytes(GREEN))
    red = sum(1 for p in pixels if p == bytes(RED))
    # the bars: 16 px high; the timeline's 640 px span 20 s (4 + 8 s green, 8 s red); the objectives' scale is the
    # 60 s target, so the 12 s RTO bar (green, met) is 128 px wide
    step_px = 640 / 20
    assert green == pytest.approx(16 * ((4 + 8) * step_px + 12 * 640 / 60), rel=0.1)
    assert red == pytest.approx(16 * 8 * step_px, rel=0.1)
