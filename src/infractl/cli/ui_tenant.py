"""Rendering of the tenant commands, on cli/ui.py's consoles. Nothing here ever sees a secret: the results name
where credentials live, never their value."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from infractl.cli.ui import out, pieces, print_json, styled

__all__ = ["print_json"]

STATE_STYLE = {"ready": "green", "creating": "yellow", "deleting": "bold red"}


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


def _where(t: Any) -> str:
    if t.tier == "A":
        return f"{t.database}: shared tables, rows where tenant = '{t.name}'"
    if t.tier == "B":
        return f"{t.database}: schema {t.schema_name}"
    return f"database {t.database}" + (" on its own instance" if t.instance else "")


def _credentials(c: Any) -> str:
    if c.store == "database-engine":
        return f"issued by Vault: {c.path}"
    return f"Vault KV {c.path} (login {c.username})" + (f"; {c.note}" if c.note else "")


def print_created(r: Any) -> None:
    console = out()
    console.print(pieces((f"tenant {r.tenant.name} created", "bold green"), f" in {r.env}, tier {r.tenant.tier}"))
    console.print(f"  data:        {_where(r.tenant)}")
    console.print(f"  role:        {r.tenant.role}")
    console.print(f"  credentials: {_credentials(r.credentials)}")
    if r.migration:
        console.print(f"  migrations:  {r.migration.status} at {r.migration.revision}")
    console.print(f"  {len(r.steps)} steps in {r.seconds:.1f}s")


def print_list(r: Any) -> None:
    console = out()
    if not r.tenants:
        console.print(f"no tenants in {r.env}: infractl tenant create {r.env} NAME --tier A|B|C")
        return
    table = Table(show_header=True, header_style="bold")
    for col in ("tenant", "tier", "state", "data", "created", "last backup"):
        table.add_column(col)
    for t in r.tenants:
        table.add_row(
            styled(t.name),
            styled(t.tier),
            styled(t.state, STATE_STYLE.get(t.state, "")),
            styled(_where(t)),
            styled((t.created_at or "")[:19]),
            styled(t.last_backup or "-"),
        )
    console.print(table)


def print_detail(r: Any) -> None:
    console = out()
    t = r.tenant
    console.print(
        pieces((f"tenant {t.name}", "bold"), f" in {r.env}, tier {t.tier}, ", (t.state, STATE_STYLE.get(t.state, "")))
    )
    console.print(f"  data:        {_where(t)}")
    console.print(f"  role:        {t.role}")
    if r.credentials:
        console.print(f"  credentials: {_credentials(r.credentials)}")
    console.print(f"  revision:    {r.revision or 'none'}")
    console.print(f"  last backup: {t.last_backup or 'none'}")
    if r.rows:
        console.print("  rows:        " + ", ".join(f"{k} {v}" for k, v in sorted(r.rows.items())))
    for e in r.events[-10:]:
        console.print(styled(f"  {e['at'][:19]}  {e['action']}", "dim"))


def print_deleted(r: Any) -> None:
    console = out()
    how = "forced, without a backup check" if r.forced else f"backup {r.backup}"
    console.print(pieces((f"tenant {r.tenant} deleted", "bold"), f" from {r.env} ({how})"))
    for item in r.removed:
        console.print(f"  removed {item}")


def print_backup(r: Any) -> None:
    console = out()
    m = r.manifest
    console.print(pieces((f"tenant {r.tenant} backed up", "bold green"), f": s3://{m.bucket}/{r.manifest_key}"))
    rows = sum(t.rows for t in m.tables)
    console.print(
        f"  tier {m.tier}, {len(m.tables)} tables, {rows} rows, {len(m.objects)} objects, {_size(m.size)},"
        f" head {m.head or 'none'}"
    )
    console.print(f"  encrypted with {m.kms_key_id}; {r.timings.get('total', 0):.1f}s")


def print_restored(r: Any) -> None:
    console = out()
    console.print(
        pieces(
            (f"tenant {r.tenant.name} restored", "bold green"), f" in {r.env} from {r.source}'s backup {r.manifest_key}"
        )
    )
    checked = ", ".join(
        f"{c.name} {c.rows}" + ("" if c.checksum_ok is None else (" ✓" if c.checksum_ok else " ✗")) for c in r.verified
    )
    console.print(f"  verified: {r.objects_verified} files by sha256; rows: {checked or 'none'}")
    if r.migration:
        console.print(f"  migrations: backup at {r.backup_head}, now {r.migration.revision} ({r.migration.status})")
    if r.credentials:
        console.print(f"  credentials: {_credentials(r.credentials)}")
    console.print(f"  {r.timings.get('total', 0):.1f}s")
