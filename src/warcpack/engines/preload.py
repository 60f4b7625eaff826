"""Imported once by the local engine's forkserver, before any worker is forked from it.

Importing the extraction stack (trafilatura, lxml, htmldate, jsonschema) and running two small
pages through it to their validated rows here means every worker starts with that work done and
its memory shared, instead of paying it again, and again after each replacement. The second page
has too little text for trafilatura's own reading, so it also runs the comparison with
readability and jusText, whose first use loads every jusText stoplist (about 0.2 s): a worker
meets such a page within its first units, so the cost is paid once here instead of once per
worker (the server is then ready a little after the driver, and a build's start waits for it).
dateparser's locale tables (about half a second) are left to the first worker that needs them:
htmldate reaches for dateparser on 2 of the 251 benchmark pages, and a rebuild of a few new
pages usually never does, while every build waits for this warm-up before its first page.
Nothing of the writers (pyarrow) or the CLI is imported: a worker has no use for them.
"""

from __future__ import annotations

import gc

from warcpack.engines import unit  # noqa: F401  (the import is the point)
from warcpack.record import RecordRef, SourceRecord
from warcpack.write.spool import Spooled

_PAGE = (
    "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Warm-up</title>"
    "<meta name='description' content='A page run once so workers start warm.'></head><body>"
    "<header><nav><a href='/'>Home</a></nav></header><article><h1>Warm-up</h1>"
    "<p class='byline'>By A. Writer, published on 3 March 2021</p>"
    + "<p>Workers of a build start from this process, with the parsers and their tables "
      "already loaded, so no worker spends its first pages loading them.</p>" * 4
    + "</article><footer>Copyright 2021 Example. All rights reserved.</footer></body></html>"
).encode("utf-8")
_SHORT = (
    b"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Note</title></head>"
    b"<body><div>A short note: the reading room opens at nine.</div></body></html>"
)


def warm_up() -> int:
    """Run the pages through extraction, to their rows; how many rows they made (2). Any
    failure is ignored: workers then warm up alone."""
    rows = 0
    for body in (_PAGE, _SHORT):
        rec = SourceRecord(
            ref=RecordRef("warm-up.warc.gz", 0, len(body),
                          "<urn:uuid:00000000-0000-0000-0000-000000000000>"),
            warc_type="response", url="https://example.org/2021/03/warm-up",
            warc_date="2021-03-04T00:00:00Z", payload_digest=None,
            content_type="text/html; charset=utf-8", http_status=200,
            http_headers=(("Content-Type", "text/html; charset=utf-8"),), warc_headers=(),
            body=body)
        try:
            rows += isinstance(unit.process(rec), Spooled)
        except Exception:  # noqa: BLE001 (a warm-up must never stop the forkserver)
            pass
    return rows


warm_up()
# Everything loaded so far lives as long as the server and its workers: frozen, it is left out
# of every garbage collection, so a worker's collections (frequent: extraction makes many
# objects) no longer walk the libraries' objects, nor write to the memory pages it shares with
# the server; and the server's own exit skips collecting them.
gc.freeze()
