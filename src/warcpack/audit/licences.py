"""Licences: which rows say nothing of their licence, which may not be redistributed, and
whether the text config keeps to the build's declared text policy.

The first two are notes (a corpus may hold such rows in its metadata); a row whose text is in
the `text` config against a "redistributable" policy is a finding (see `corpus.cross_check`),
and so is a policy that release.json and build-summary.json do not agree on.
"""

from __future__ import annotations

import sqlite3

from warcpack.audit.findings import Ledger
from warcpack.audit.target import Target

CHECK = "licences"
_BATCH = 500


def check_licences(target: Target, db: sqlite3.Connection, ledger: Ledger) -> dict[str, int]:
    """Notes for rows without licence information or not marked redistributable."""
    tally = {"no_licence": 0, "not_redistributable": 0, "unknown": 0, "redistributable": 0}
    if target.manifest is not None and target.summary is not None:
        said = target.summary.get("text_policy")
        if said != target.text_policy:
            ledger.finding(CHECK, "text-policy-differs", f"release.json declares text policy "
                           f"{target.text_policy!r}, build-summary.json {said!r}",
                           file="build-summary.json")
    cursor = db.execute("SELECT id, url, shard, redistributable, licence_empty FROM rows "
                        "ORDER BY position")
    while batch := cursor.fetchmany(_BATCH):
        for row_id, url, shard, flag, empty in batch:
            where = {"file": shard, "row": row_id, "url": url}
            if empty:
                tally["no_licence"] += 1
                ledger.note(CHECK, "no-licence", "no licence information (no statement, link, "
                            "SPDX id or redistribution flag): not marked redistributable",
                            **where)
            elif flag == 0:
                tally["not_redistributable"] += 1
                ledger.note(CHECK, "not-redistributable", "licence found; it does not allow "
                            "redistribution (redistributable: false)", **where)
            elif flag is None:
                tally["unknown"] += 1
                ledger.note(CHECK, "not-redistributable", "licence information found, but not "
                            "whether it allows redistribution (redistributable: null)", **where)
            else:
                tally["redistributable"] += 1
    return tally
