"""`warcpack audit`: prove, without trusting whoever built it, that a corpus comes from archived
bytes, that those bytes are unchanged since the release, and that nothing was added or dropped.

    from warcpack.audit import audit
    report = audit(Path("releases/1.0.0"), Path("warcs"), json_report=Path("audit.json"))
    report.exit_status   # 0 clean (notes allowed), 1 findings

Five checks, each finding naming a file, a byte offset or a row: fixity (WARC files and record
digests), provenance (rows against their records, re-extraction), completeness (every record
accounted for), outputs (output hashes, rows against the schema, order, shards) and licences.
"""

from warcpack.audit.findings import CHECKS, Finding
from warcpack.audit.report import AuditReport, CheckResult
from warcpack.audit.run import audit
from warcpack.audit.target import AuditError

__all__ = ["CHECKS", "AuditError", "AuditReport", "CheckResult", "Finding", "audit"]
