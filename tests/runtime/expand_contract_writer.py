"""One failed run written through a runtime's own code path: its activities and its PostgreSQL store.

test_expand_contract.py imports fail_run for this checkout's runtime, and runs this file as a script on the old
version's PYTHONPATH (`python expand_contract_writer.py RUN_ID REASON`): the same calls exist in both versions.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime


async def fail_run(settings, run_id: str, reason: str) -> None:
    from controlplane.activities import RunActivities
    from controlplane.runtime import build
    from controlplane.workflows import FinishRunInput, RecordRunInput

    components = build(settings, application_name="expand-contract-writer")
    await components.open()
    try:
        since_ledger = {"ledger": components.ledger} if hasattr(components, "ledger") else {}  # older: no ledger
        acts = RunActivities(components.store, components.objects, components.ids, **since_ledger)
        now = datetime.now(UTC).isoformat()
        await acts.record_run(RecordRunInput(run_id, "acme", "evidence", f"run-acme-{run_id}", now))
        assert await acts.fail_run(FinishRunInput(run_id, "acme", error=reason))
    finally:
        await components.close()


if __name__ == "__main__":
    from controlplane.settings import load_settings

    asyncio.run(fail_run(load_settings(), sys.argv[1], sys.argv[2]))
