"""`infractl drill dr` and `drill faults` (docs/drills.md). Entries: `dr.run` (the disaster recovery drill: the
database, cluster and evidence parts) and `faults.run` (fault scenarios on the running dev stack); `report` writes
and records what either found."""
