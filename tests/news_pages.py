"""News pages for the revision, release and determinism tests, made from real benchmark pages.

`europa(...)` is a ScienceAlert article from the article-extraction benchmark with JSON-LD dates
added (published 6 Dec 2024, modified as asked, offsets given) and, for the edited version, one
paragraph rewritten, as a newsroom correction would.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from servers import ARTICLE_HTML, Page, TestServer

from warcpack.store.capture import capture

EUROPA_ID = "14cc2a0ca59c"  # sciencealert.com: water plumes above Europa (no dates of its own)
PUBLISHED = "2024-12-06T17:55:00+06:00"
MODIFIED = "2024-12-09T14:49:00+06:00"
ORIGINAL = "But while that sounds like a lot, it was only just enough to be detected from Earth."
EDITED = ("But while that sounds like a lot, it was barely enough to be seen by the Keck "
          "telescope from Earth.")


def benchmark_page(prefix: str) -> str:
    [path] = sorted(ARTICLE_HTML.glob(f"{prefix}*.html.gz"))
    return gzip.decompress(path.read_bytes()).decode("utf-8")


def europa(modified: str = PUBLISHED, edited: bool = False) -> bytes:
    """The article as first published, or edited (one paragraph changed) and re-dated."""
    html = benchmark_page(EUROPA_ID)
    assert html.count(ORIGINAL) == 1
    data = {"@context": "https://schema.org", "@type": "NewsArticle",
            "headline": "Water plumes above Europa", "datePublished": PUBLISHED,
            "dateModified": modified}
    script = f'<script type="application/ld+json">{json.dumps(data)}</script>'
    html = html.replace("</head>", script + "</head>", 1)
    return (html.replace(ORIGINAL, EDITED) if edited else html).encode("utf-8")


def other_pages(count: int) -> list[bytes]:
    """Benchmark pages other than the Europa one, unchanged."""
    paths = [p for p in sorted(ARTICLE_HTML.glob("*.html.gz"))
             if not p.name.startswith(EUROPA_ID)][:count]
    return [gzip.decompress(p.read_bytes()) for p in paths]


def serve(server: TestServer, path: str, body: bytes) -> str:
    server.pages[path] = Page(body)
    return server.url(path)


def capture_now(urls: list[str], store: Path) -> str:
    """Capture URLs from the local server into the store; the new WARC file's name."""
    report = capture(urls, store, allow_private=True, delay=0, timeout=10.0)
    assert not report.failed, report.outcomes
    assert report.warc_file is not None
    return report.warc_file
