"""PostgreSQL's server binaries for the local services: where they are, the data folder (initdb on first use, a
private $TMPDIR fallback when root's `postgres` user cannot reach it), the server's argv, its readiness probe
(`pg_isready`) and `pg_ctl stop`. Every program runs through `process`; `localservices.start_postgres` starts it."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shlex
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from infractl.adapters import process
from infractl.errors import CommandError, ConfigError, ExternalToolError

ADMIN_USER = "postgres"
BIN_CANDIDATES = ("/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin")
FALLBACK_ROOT = Path(tempfile.gettempdir()) / "infractl-postgres"
# pg_basebackup and a streaming replica connect as the admin role over loopback
REPLICATION_HBA = f"host    replication   {ADMIN_USER}   127.0.0.1/32   trust\n"
ARCHIVE_DIR = "wal-archive"
ARCHIVE_TIMEOUT_S = 60  # the dev stack's RPO bound: a segment with any write in it is archived within a minute


def find_bindir() -> Path:
    """The folder holding `postgres` and `initdb`: the one of pg_ctl/initdb on PATH, else a Debian default."""
    candidates = []
    for tool in ("pg_ctl", "initdb"):
        with contextlib.suppress(ExternalToolError):
            candidates.append(Path(process.find_binary(tool)).resolve().parent)
            break
    candidates += [Path(c) for c in BIN_CANDIDATES]
    for c in candidates:
        if (c / "postgres").is_file() and (c / "initdb").is_file():
            return c
    raise ExternalToolError(
        "PostgreSQL server binaries (postgres, initdb) not found",
        hint="install them, e.g. apt-get install postgresql-15, or put their folder on PATH",
    )


def server_argv(
    bindir: Path, data: Path, host: str, port: int, *, as_root: bool, settings: Mapping[str, str] | None = None
) -> list[str]:
    """The server on host:port only (no Unix socket), tuned for throwaway data (no fsync); settings: more
    `-c NAME=VALUE` (e.g. WAL archiving, a recovery target)."""
    argv = [
        str(bindir / "postgres"),
        "-D",
        str(data),
        "-p",
        str(port),
        "-c",
        f"listen_addresses={host}",
        "-c",
        "unix_socket_directories=",
        "-c",
        "fsync=off",
        "-c",
        "full_page_writes=off",
        "-c",
        "synchronous_commit=off",
    ]
    for name, value in (settings or {}).items():
        argv += ["-c", f"{name}={value}"]
    return ["runuser", "-u", ADMIN_USER, "--", *argv] if as_root else argv


def data_dir(base: Path, as_root: bool) -> Path:
    """<base>/postgres-data, or a private folder under $TMPDIR when the postgres user cannot reach base."""
    data = base / "postgres-data"
    if not as_root or _user_can_traverse(ADMIN_USER, base):
        if as_root:
            data.mkdir(mode=0o700, exist_ok=True)
            shutil.chown(data, ADMIN_USER, ADMIN_USER)
        else:
            data.mkdir(mode=0o700, exist_ok=True)
        return data
    data = _fallback_holder(base) / "data"
    data.mkdir(mode=0o700, exist_ok=True)
    shutil.chown(data, ADMIN_USER, ADMIN_USER)
    link = base / "postgres-data"
    if not link.exists() and not link.is_symlink():
        link.symlink_to(data)
    return data


def cluster_dir(bindir: Path, base: Path, as_root: bool, data: Path | None) -> Path:
    """The data folder a server starts from: `data` (an existing cluster, never initdb'd here) or <base>'s own
    (data_dir; initdb on first use)."""
    if data is None:
        data = data_dir(base, as_root)
        if not (data / "PG_VERSION").is_file():
            initdb(bindir, data, as_root)
    elif not (data / "PG_VERSION").is_file():
        raise ConfigError(f"{data} is not a PostgreSQL data folder (no PG_VERSION)")
    return data


def _fallback_holder(base: Path) -> Path:
    """$TMPDIR/infractl-postgres/<hash of base>: where the server's folders of base live when `postgres` cannot
    reach base (swept once base is gone)."""
    _sweep_fallback_dirs()
    FALLBACK_ROOT.mkdir(mode=0o711, exist_ok=True)
    os.chmod(FALLBACK_ROOT, 0o711)
    holder = FALLBACK_ROOT / hashlib.sha256(str(base).encode()).hexdigest()[:16]
    holder.mkdir(mode=0o711, exist_ok=True)
    (holder / "origin").write_text(str(base) + "\n")
    return holder


def server_dir(base: Path, name: str, as_root: bool) -> Path:
    """A folder the server user owns (0700) for its files outside the data folder (the WAL archive, a base backup,
    a restored cluster): <base>/<name>, or, when root's `postgres` user cannot reach base, <name> next to the
    fallback data folder, with a symlink <base>/<name> recording where it is."""
    link = base / name
    if not as_root or _user_can_traverse(ADMIN_USER, base):
        if link.is_symlink():  # base became reachable: the fallback of an earlier run is used again
            return link.resolve()
        link.mkdir(mode=0o700, exist_ok=True)
        if as_root:
            shutil.chown(link, ADMIN_USER, ADMIN_USER)
        return link
    target = _fallback_holder(base) / name
    target.mkdir(mode=0o700, exist_ok=True)
    shutil.chown(target, ADMIN_USER, ADMIN_USER)
    if not link.is_symlink() and not link.exists():
        link.symlink_to(target)
    return target


def remove_server_dir(base: Path, name: str) -> bool:
    """Delete <base>/<name> made by server_dir (and its fallback target); True when something was removed."""
    link = base / name
    removed = False
    target = link.resolve() if link.is_symlink() else link
    if target.is_dir():
        shutil.rmtree(target, ignore_errors=True)
        removed = True
    if link.is_symlink():
        link.unlink()
        removed = True
    return removed


# --- continuous WAL archiving --------------------------------------------------------------------------------------


def archive_settings(archive: Path, *, timeout_s: int = ARCHIVE_TIMEOUT_S) -> dict[str, str]:
    """Server settings that archive every finished WAL segment into `archive`, gzipped (<segment>.gz).

    A segment already archived is never overwritten: the command succeeds when the archived copy holds the same
    bytes (PostgreSQL may archive a segment again after a crash) and fails otherwise (the archiver retries and
    pg_stat_archiver counts the failure). archive_timeout bounds how old the newest unarchived write can get;
    replication slots for a streaming replica come with wal_level=replica and max_wal_senders. archive_mode only
    changes with a restart."""
    a = shlex.quote(str(archive))
    command = (
        f"if test -f {a}/%f.gz; then gzip -dc {a}/%f.gz | cmp -s - %p; "
        f"else gzip -1 -c %p > {a}/%f.gz.tmp && mv {a}/%f.gz.tmp {a}/%f.gz; fi"
    )
    return {
        "wal_level": "replica",
        "archive_mode": "on",
        "archive_command": command,
        "archive_timeout": str(timeout_s),
        "max_wal_senders": "10",
    }


def restore_command(archive: Path) -> str:
    """The restore_command reading the gzipped segments archive_settings writes (fails on a missing one, which
    ends recovery there)."""
    a = shlex.quote(str(archive))
    return f"test -f {a}/%f.gz && gzip -dc {a}/%f.gz > %p"


def dev_archive_settings(base: Path) -> dict[str, str]:
    """The dev stack's PostgreSQL archives into <base>/wal-archive (or next to its fallback data folder)."""
    as_root = os.geteuid() == 0
    return archive_settings(server_dir(base, ARCHIVE_DIR, as_root))


def ensure_replication_hba(data: Path, run_as: str) -> bool:
    """Add the loopback replication line to an existing cluster's pg_hba.conf (clusters initdb'd before it was
    written there); True when added (the caller reloads the server). Idempotent."""
    hba = data / "pg_hba.conf"
    text = hba.read_text()
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if fields[:2] == ["host", "replication"] and fields[2] in (ADMIN_USER, "all") and fields[3] == "127.0.0.1/32":
            return False
    hba.write_text(text.rstrip("\n") + "\n" + REPLICATION_HBA)
    if run_as:
        shutil.chown(hba, run_as, run_as)
    return True


def ctl_reload(bindir: str, data: str, run_as: str) -> None:
    """`pg_ctl reload`: the server re-reads pg_hba.conf and its reloadable settings."""
    argv = [str(Path(bindir) / "pg_ctl"), "reload", "-D", data]
    if run_as:
        argv = ["runuser", "-u", run_as, "--", *argv]
    try:
        process.run(argv, timeout=30)
    except CommandError as exc:
        raise ExternalToolError(f"postgres: reload of {data} failed", details=exc.details) from None


def remove_data(data: Path) -> None:
    """Delete a data folder infractl made (<base>/postgres-data or the $TMPDIR fallback); others are left alone."""
    if data.name in ("postgres-data", "data") and (data / "PG_VERSION").is_file():
        shutil.rmtree(data, ignore_errors=True)
        if data.parent.parent == FALLBACK_ROOT:
            shutil.rmtree(data.parent, ignore_errors=True)


def _sweep_fallback_dirs() -> None:
    """Remove fallback data folders whose base folder is gone (old pytest folders), unless a server still uses them."""
    if not FALLBACK_ROOT.is_dir():
        return
    for holder in FALLBACK_ROOT.iterdir():
        try:
            origin = Path((holder / "origin").read_text().strip())
        except OSError:
            continue
        if origin.exists() or (holder / "data" / "postmaster.pid").exists():
            continue
        shutil.rmtree(holder, ignore_errors=True)


def _user_can_traverse(user: str, path: Path) -> bool:
    try:
        process.run(["runuser", "-u", user, "--", "test", "-x", str(path)])
    except ExternalToolError:
        return False
    return True


def initdb(bindir: Path, data: Path, as_root: bool) -> None:
    """A new cluster in data: admin role `postgres` trusted on loopback, every other role by password."""
    argv = [
        str(bindir / "initdb"),
        "-D",
        str(data),
        "--no-sync",
        "-U",
        ADMIN_USER,
        "--auth-local=trust",
        "--auth-host=scram-sha-256",
        "-E",
        "UTF8",
        "--locale=C.UTF-8",
    ]
    if as_root:
        argv = ["runuser", "-u", ADMIN_USER, "--", *argv]
    try:
        process.run(argv, env=process.clean_env(drop_prefixes=("PG",)))
    except CommandError as exc:
        raise ExternalToolError(f"postgres: initdb of {data} failed", details=exc.details) from None
    hba = data / "pg_hba.conf"
    hba.write_text(
        "# written by infractl: the admin role trusts loopback, every other role needs its password\n"
        "local   all   all                    trust\n"
        f"host    all   {ADMIN_USER}   127.0.0.1/32   trust\n"
        "host    all   all        127.0.0.1/32   scram-sha-256\n" + REPLICATION_HBA
    )
    if as_root:
        shutil.chown(hba, ADMIN_USER, ADMIN_USER)
    os.chmod(hba, 0o600)


def ready(host: str, port: int, bindir: str | None) -> bool | None:
    """`pg_isready` (from bindir, else PATH) within 5 s; None when there is no pg_isready to ask."""
    try:
        tool = process.find_binary("pg_isready", extra_dirs=[bindir] if bindir else [])
    except ExternalToolError:
        return None
    argv = [tool, "-q", "-h", host, "-p", str(port), "-U", ADMIN_USER, "-d", "postgres", "-t", "2"]
    return process.probe(argv, timeout=5)


def ctl_stop(bindir: str, data: str, run_as: str, timeout: float) -> None:
    """`pg_ctl stop -m fast` (as run_as when given); quiet when the server is not running or does not stop in time."""
    argv = [str(Path(bindir) / "pg_ctl"), "stop", "-D", data, "-m", "fast", "-w", "-t", str(max(1, int(timeout)))]
    if run_as:
        argv = ["runuser", "-u", run_as, "--", *argv]
    with contextlib.suppress(ExternalToolError):  # not running or timed out: the caller's signals finish the job
        process.run(argv)
