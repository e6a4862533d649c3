"""Point-in-time recovery of a local PostgreSQL from a base backup and its WAL archive (the folder
`postgres.archive_settings` makes the server archive into, one gzipped file a segment).

Pure parts (unit-tested): WAL segment names and their order, the continuity of an archive from a backup's start
segment, the argv of pg_basebackup, a backup's start segment from its backup_label. Thin runners through `process`:
the base backup, the frozen copy of an archive, a restored data folder, and waiting for a restored server to leave
recovery. Segment size: 16 MiB (PostgreSQL's default; `SHOW wal_segment_size`), 0x100 segments per log id.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infractl.adapters import pg, postgres, process
from infractl.errors import CloudError, CommandError, ExternalToolError

SEGMENT_BYTES = 16 * 1024 * 1024
SEGMENT_RE = re.compile(r"^[0-9A-F]{24}$")
_LABEL_RE = re.compile(r"^START WAL LOCATION: \S+ \(file ([0-9A-F]{24})\)$", re.MULTILINE)


# --- segment names (pure) ----------------------------------------------------------------------------------------


def parse_segment(name: str) -> tuple[int, int, int]:
    """ "000000010000000A000000FF" -> (timeline 1, log 0xA, segment 0xFF)."""
    if not SEGMENT_RE.match(name):
        raise ValueError(f"not a WAL segment name: {name!r}")
    return int(name[:8], 16), int(name[8:16], 16), int(name[16:], 16)


def segment_name(timeline: int, log: int, seg: int) -> str:
    return f"{timeline:08X}{log:08X}{seg:08X}"


def segments_per_log(segment_bytes: int = SEGMENT_BYTES) -> int:
    """Segments in one 4 GiB log id: 0x100 with 16 MiB segments."""
    return 0x100000000 // segment_bytes


def next_segment(name: str, segment_bytes: int = SEGMENT_BYTES) -> str:
    """The segment after name on its timeline: ...0A000000FF -> ...0B00000000 with 16 MiB segments."""
    timeline, log, seg = parse_segment(name)
    seg += 1
    if seg >= segments_per_log(segment_bytes):
        log, seg = log + 1, 0
    return segment_name(timeline, log, seg)


def segment_number(name: str, segment_bytes: int = SEGMENT_BYTES) -> int:
    """The position of a segment on its timeline (log * segments per log + segment)."""
    _, log, seg = parse_segment(name)
    return log * segments_per_log(segment_bytes) + seg


def continuity(start: str, segments: Iterable[str], segment_bytes: int = SEGMENT_BYTES) -> list[str]:
    """The segments missing between start (a base backup's first segment) and the newest archived one of start's
    timeline: a restore replays up to the first missing one and stops there. [start] when nothing from start on is
    archived. Segments of other timelines and older ones are ignored."""
    timeline = parse_segment(start)[0]
    first = segment_number(start, segment_bytes)
    present = {
        segment_number(s, segment_bytes)
        for s in segments
        if SEGMENT_RE.match(s) and parse_segment(s)[0] == timeline and segment_number(s, segment_bytes) >= first
    }
    if not present:
        return [start]
    missing, name = [], start
    for number in range(first, max(present) + 1):
        if number not in present:
            missing.append(name)
        name = next_segment(name, segment_bytes)
    return missing


def archive_segments(archive: Path) -> list[str]:
    """The WAL segment names archived in `archive` (<name>.gz, or plain <name>), sorted; partial uploads
    (*.tmp), backup history and timeline history files are not segments."""
    names = set()
    for entry in os.listdir(archive):
        name = entry[:-3] if entry.endswith(".gz") else entry
        if SEGMENT_RE.match(name):
            names.add(name)
    return sorted(names)


# --- base backup -------------------------------------------------------------------------------------------------


def base_backup_argv(
    bindir: Path, host: str, port: int, user: str, dest: Path, *, label: str = "infractl", standby: bool = False
) -> list[str]:
    """pg_basebackup into dest as a plain data folder (a restore is one copy, no extraction), without WAL (-X none:
    the restore reads every segment from the archive, which is what the drill checks; pg_basebackup then waits
    until the backup's last segment is archived), fast checkpoint, no manifest, no fsync of the copy. standby: a
    streaming replica's folder instead (-R: standby.signal and primary_conninfo; -X stream: the WAL alongside)."""
    wal = ["-R", "-X", "stream"] if standby else ["-X", "none"]
    return [
        str(Path(bindir) / "pg_basebackup"),
        "-h",
        host,
        "-p",
        str(port),
        "-U",
        user,
        "-D",
        str(dest),
        "-F",
        "p",
        *wal,
        "--checkpoint=fast",
        "--no-manifest",
        "--no-sync",
        "-l",
        label,
    ]


def start_segment(label_text: str) -> str:
    """The first WAL segment a backup needs, from its backup_label."""
    found = _LABEL_RE.search(label_text)
    if not found:
        raise ValueError("backup_label has no START WAL LOCATION line")
    return found.group(1)


@dataclass(frozen=True)
class BaseBackup:
    path: Path
    start_segment: str
    bytes: int
    seconds: float


def base_backup(
    bindir: Path, host: str, port: int, dest: Path, *, run_as: str, timeout: float = 600, standby: bool = False
) -> BaseBackup:
    """A fresh base backup of the server into dest (which must not exist or be empty), as run_as (the server
    user, so the copy is a data folder it may start); standby: a streaming replica's (base_backup_argv)."""
    argv = base_backup_argv(bindir, host, port, postgres.ADMIN_USER, dest, standby=standby)
    if run_as:
        argv = ["runuser", "-u", run_as, "--", *argv]
    t0 = time.monotonic()
    try:
        process.run(argv, env=process.clean_env(drop_prefixes=("PG",)), timeout=timeout)
    except CommandError as exc:
        raise ExternalToolError(
            f"pg_basebackup of {host}:{port} failed",
            details=exc.details,
            hint="it needs `host replication postgres 127.0.0.1/32 trust` in pg_hba.conf and WAL archiving on",
        ) from None
    seconds = time.monotonic() - t0
    start = start_segment((dest / "backup_label").read_text())
    return BaseBackup(path=dest, start_segment=start, bytes=folder_bytes(dest), seconds=seconds)


def folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


# --- the archive at a moment, a restored data folder ---------------------------------------------------------------


def freeze(archive: Path, dest: Path) -> list[str]:
    """What `archive` holds now, hard-linked into dest (copied across file systems): the WAL a loss at this moment
    would leave. Archived files are never rewritten (archive_settings), so a link is a stable snapshot. Returns the
    file names, sorted; unfinished uploads (*.tmp) are left out."""
    dest.mkdir(parents=True, exist_ok=True)
    names = sorted(n for n in os.listdir(archive) if not n.endswith(".tmp"))
    for name in names:
        try:
            os.link(archive / name, dest / name)
        except FileExistsError:
            continue
        except OSError:
            shutil.copy2(archive / name, dest / name)
    return names


def prepare_restore(backup: Path, data: Path, archive: Path, *, run_as: str) -> dict[str, str]:
    """A new data folder from a plain base backup (cp -a keeps owner and modes), set to recover from archive: a
    recovery.signal, and the settings to start it with (restore_command, no archiving of its own, no reads during
    recovery: it accepts connections only once promoted). With no recovery target, PostgreSQL replays every segment
    the archive has, then ends recovery and promotes itself onto a new timeline."""
    if data.exists():
        raise ExternalToolError(f"{data} already exists", hint="remove it, or restore into a new folder")
    try:
        process.run(["cp", "-a", str(backup), str(data)], timeout=1800)
    except CommandError as exc:
        raise ExternalToolError(f"copying the base backup {backup} to {data} failed", details=exc.details) from None
    for stale in ("postmaster.pid", "postmaster.opts"):
        (data / stale).unlink(missing_ok=True)
    signal = data / "recovery.signal"
    signal.touch()
    if run_as:
        shutil.chown(signal, run_as, run_as)
    return recovery_settings(archive)


def recovery_settings(archive: Path) -> dict[str, str]:
    return {
        "restore_command": postgres.restore_command(archive),
        "recovery_target_timeline": "latest",
        "archive_mode": "off",
        "hot_standby": "off",
    }


# --- a running server ---------------------------------------------------------------------------------------------


def archiver_status(conn: Any) -> dict[str, Any]:
    """pg_stat_archiver and the archiving settings of a connected server."""
    row = conn.execute(
        "SELECT archived_count, last_archived_wal, last_archived_time, failed_count, last_failed_wal,"
        " last_failed_time, current_setting('archive_mode'), current_setting('archive_command'),"
        " current_setting('wal_segment_size') FROM pg_stat_archiver"
    ).fetchone()
    keys = ("archived_count", "last_archived_wal", "last_archived_time", "failed_count", "last_failed_wal")
    keys += ("last_failed_time", "archive_mode", "archive_command", "wal_segment_size")
    return dict(zip(keys, row, strict=True))


def switch_wal(conn: Any) -> str:
    """Close the current WAL segment (the archiver then archives it); returns the closed segment's name."""
    return str(conn.execute("SELECT pg_walfile_name(pg_switch_wal())").fetchone()[0])


def wait_archived(conn: Any, segment: str, timeout: float) -> dict[str, Any]:
    """Poll pg_stat_archiver until segment (or a later one) is archived, within timeout seconds; a failed attempt
    since is an ExternalToolError naming the segment. Returns the archiver's status."""
    deadline = time.monotonic() + timeout
    while True:
        status = archiver_status(conn)
        done = status["last_archived_wal"]
        if done and SEGMENT_RE.match(done) and segment_number(done) >= segment_number(segment):
            return status
        failed = status["last_failed_time"]
        if failed is not None and (status["last_archived_time"] is None or failed > status["last_archived_time"]):
            raise ExternalToolError(
                f"archiving WAL segment {status['last_failed_wal']} failed",
                hint="see archive_command's error in the PostgreSQL log",
            )
        if time.monotonic() > deadline:
            raise ExternalToolError(f"WAL segment {segment} was not archived within {timeout:.0f} s")
        time.sleep(0.05)


def wait_promoted(server: pg.PgServer, timeout: float, *, alive: Callable[[], bool], log: Path) -> None:
    """Poll until the server accepts connections and is out of recovery (promoted), within timeout seconds. An
    exited server or the deadline is an ExternalToolError with its log's tail."""
    deadline = time.monotonic() + timeout
    while True:
        if not alive():
            raise ExternalToolError(
                "the restored PostgreSQL exited during recovery", details=process.tail_file(log), hint=f"log: {log}"
            )
        try:
            with pg.connect(server, "postgres") as conn:
                if not conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]:
                    return
        except CloudError:  # not accepting connections yet (recovery runs with hot_standby off)
            pass
        if time.monotonic() > deadline:
            raise ExternalToolError(
                f"the restored PostgreSQL did not finish recovery within {timeout:.0f} s",
                details=process.tail_file(log),
                hint=f"log: {log}",
            )
        time.sleep(0.05)
