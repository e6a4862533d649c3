"""WAL segment arithmetic, archive continuity, the argv of pg_basebackup and the archiving settings: pure, no server."""

from __future__ import annotations

from pathlib import Path

import pytest

from infractl.adapters import pgarchive, postgres


def test_segment_names_roll_over_after_ff_with_16_mib_segments():
    assert pgarchive.segments_per_log() == 0x100
    assert pgarchive.next_segment("000000010000000000000001") == "000000010000000000000002"
    assert pgarchive.next_segment("00000001000000000000000F") == "000000010000000000000010"
    assert pgarchive.next_segment("0000000100000000000000FF") == "000000010000000100000000"
    assert pgarchive.next_segment("000000020000000A000000FF") == "000000020000000B00000000"


def test_other_segment_sizes_change_the_rollover():
    one_gib = 1024**3
    assert pgarchive.segments_per_log(one_gib) == 4
    assert pgarchive.next_segment("000000010000000000000003", one_gib) == "000000010000000100000000"


def test_parse_segment_refuses_what_is_not_a_segment():
    assert pgarchive.parse_segment("00000003000000020000001A") == (3, 2, 0x1A)
    for bad in ("00000001000000000000001", "000000010000000000000002.00000028.backup", "00000002.history"):
        with pytest.raises(ValueError):
            pgarchive.parse_segment(bad)


def test_continuity_of_a_complete_archive_is_empty():
    segs = ["000000010000000000000001", "000000010000000000000002", "000000010000000000000003"]
    assert pgarchive.continuity("000000010000000000000002", segs) == []
    assert pgarchive.continuity("000000010000000000000001", segs) == []


def test_continuity_names_every_gap_up_to_the_newest_segment():
    segs = ["000000010000000000000002", "000000010000000000000005", "000000010000000000000007"]
    assert pgarchive.continuity("000000010000000000000002", segs) == [
        "000000010000000000000003",
        "000000010000000000000004",
        "000000010000000000000006",
    ]


def test_continuity_across_a_log_id_boundary():
    segs = ["0000000100000000000000FE", "0000000100000000000000FF", "000000010000000100000000"]
    assert pgarchive.continuity("0000000100000000000000FE", segs) == []
    assert pgarchive.continuity("0000000100000000000000FE", [segs[0], segs[2]]) == ["0000000100000000000000FF"]


def test_continuity_when_the_start_segment_itself_is_missing():
    assert pgarchive.continuity("000000010000000000000004", ["000000010000000000000005"]) == [
        "000000010000000000000004"
    ]
    assert pgarchive.continuity("000000010000000000000004", []) == ["000000010000000000000004"]
    assert pgarchive.continuity("000000010000000000000004", ["000000010000000000000003"]) == [
        "000000010000000000000004"
    ]


def test_continuity_ignores_other_timelines_and_older_segments():
    segs = ["000000010000000000000001", "000000010000000000000004", "000000020000000000000005"]
    assert pgarchive.continuity("000000010000000000000004", segs) == []


def test_archive_segments_lists_segments_only(tmp_path: Path):
    for name in (
        "000000010000000000000003.gz",
        "000000010000000000000002.gz",
        "000000010000000000000002.00000028.backup.gz",
        "000000010000000000000004.gz.tmp",
        "00000002.history.gz",
        "000000010000000000000005",
    ):
        (tmp_path / name).write_bytes(b"")
    assert pgarchive.archive_segments(tmp_path) == [
        "000000010000000000000002",
        "000000010000000000000003",
        "000000010000000000000005",
    ]


def test_freeze_links_what_is_archived_now(tmp_path: Path):
    archive, frozen = tmp_path / "archive", tmp_path / "frozen"
    archive.mkdir()
    (archive / "000000010000000000000002.gz").write_bytes(b"wal")
    (archive / "000000010000000000000003.gz.tmp").write_bytes(b"half")
    assert pgarchive.freeze(archive, frozen) == ["000000010000000000000002.gz"]
    (archive / "000000010000000000000003.gz").write_bytes(b"later")
    assert sorted(p.name for p in frozen.iterdir()) == ["000000010000000000000002.gz"]
    assert (frozen / "000000010000000000000002.gz").stat().st_ino == (
        archive / "000000010000000000000002.gz"
    ).stat().st_ino


def test_base_backup_argv_plain_without_wal_fast_checkpoint():
    argv = pgarchive.base_backup_argv(Path("/pg/bin"), "127.0.0.1", 5433, "postgres", Path("/w/base"))
    assert argv[0] == "/pg/bin/pg_basebackup"
    joined = " ".join(argv)
    for part in ("-h 127.0.0.1", "-p 5433", "-U postgres", "-D /w/base", "-F p", "-X none", "--checkpoint=fast"):
        assert part in joined
    assert "--no-manifest" in argv and "--no-sync" in argv


def test_start_segment_from_backup_label():
    label = (
        "START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\n"
        "CHECKPOINT LOCATION: 0/2000060\nBACKUP METHOD: streamed\nBACKUP FROM: primary\n"
    )
    assert pgarchive.start_segment(label) == "000000010000000000000002"
    with pytest.raises(ValueError):
        pgarchive.start_segment("BACKUP METHOD: streamed\n")


def test_archive_settings_never_overwrite_and_restore_reads_the_same_names():
    s = postgres.archive_settings(Path("/a r/wal"))
    assert s["archive_mode"] == "on" and s["wal_level"] == "replica" and int(s["max_wal_senders"]) >= 4
    assert int(s["archive_timeout"]) == postgres.ARCHIVE_TIMEOUT_S
    cmd = s["archive_command"]
    assert "if test -f '/a r/wal'/%f.gz; then" in cmd and "cmp -s - %p" in cmd  # an archived segment: compared
    assert "mv '/a r/wal'/%f.gz.tmp '/a r/wal'/%f.gz" in cmd  # a new one appears whole
    assert postgres.restore_command(Path("/a r/wal")) == "test -f '/a r/wal'/%f.gz && gzip -dc '/a r/wal'/%f.gz > %p"
    recovery = pgarchive.recovery_settings(Path("/f"))
    assert recovery["archive_mode"] == "off"  # the restored instance never writes into an archive


def test_replication_hba_line_added_once(tmp_path: Path):
    hba = tmp_path / "pg_hba.conf"
    hba.write_text("local all all trust\nhost all postgres 127.0.0.1/32 trust\n")
    assert postgres.ensure_replication_hba(tmp_path, "") is True
    assert postgres.ensure_replication_hba(tmp_path, "") is False
    assert hba.read_text().count("replication") == 1
