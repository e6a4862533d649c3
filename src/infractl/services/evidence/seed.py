"""`infractl evidence seed`: synthetic evidence and retention fixtures, for tests and drills.

Entries of kind `synthetic.evidence` over a few tenants, spread round-robin over the retention classes given: the
env's classes by name, or fixture classes `NAME:DURATION` (`expiring:5s`, `short:2m`, `day:1d`) whose payloads
expire soon so disposition can be exercised. With payloads (the default) every entry's document is stored locked
in the bucket; without, entries carry only attributes (large ledgers for the verify benchmark)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from infractl.adapters.ledger import chain
from infractl.errors import UsageError
from infractl.services.evidence.access import Ledger
from infractl.services.evidence.record import Record, record

BATCH = 5000
TENANTS = ("acme", "globex", "initech", "umbrella")
_DURATION = re.compile(r"^([a-z][a-z0-9-]{0,30}):([1-9][0-9]{0,6})([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


@dataclass(frozen=True)
class Seeded:
    entries: int
    first_seq: int
    last_seq: int
    classes: dict[str, int]  # entries per retention class
    payloads: bool


def parse_classes(ledger: Ledger, specs: list[str]) -> list[str]:
    """The class names to use; `NAME:DURATION` specs become the ledger's fixture classes."""
    names = []
    for spec in specs or ["standard"]:
        found = _DURATION.match(spec)
        if found:
            name, amount, unit = found.groups()
            ledger.fixture_classes[name] = timedelta(**{_UNITS[unit]: int(amount)})
            names.append(name)
        elif spec in ledger.classes:
            names.append(spec)
        else:
            raise UsageError(
                f"--retention-classes: {spec!r} is neither a class of {ledger.env} nor NAME:DURATION",
                hint=f"one of {', '.join(sorted(ledger.classes))}, or e.g. expiring:5s (s, m, h, d)",
            )
    return names


def seed(
    ledger: Ledger,
    entries: int,
    classes: list[str],
    *,
    payloads: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> Seeded:
    if entries < 1:
        raise UsageError("--entries must be at least 1")
    names = parse_classes(ledger, classes)
    counts = dict.fromkeys(names, 0)
    first = last = 0
    stamp = chain.timestamp()
    with ledger.connect() as conn:
        done = 0
        while done < entries:
            batch = []
            for i in range(done, min(entries, done + BATCH)):
                cls = names[i % len(names)]
                counts[cls] += 1
                tenant = TENANTS[i % len(TENANTS)]
                attributes = {"synthetic": True, "n": i, "seeded_at": stamp}
                doc = chain.canonical_json({"tenant": tenant, "n": i, "seeded_at": stamp, "check": "ok"}).encode()
                batch.append(
                    Record(
                        tenant=tenant,
                        kind="synthetic.evidence",
                        actor="infractl-seed",
                        attributes=attributes,
                        payload=doc if payloads else None,
                        retention_class=cls,
                    )
                )
            appended = record(ledger, conn, batch, now=datetime.now(UTC))
            first = first or appended.entries[0].seq
            last = appended.entries[-1].seq
            done += len(batch)
            if progress:
                progress(done, entries)
    return Seeded(entries=entries, first_seq=first, last_seq=last, classes=counts, payloads=payloads)
