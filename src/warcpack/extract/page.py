"""What every extractor needs to know about the record besides its text, and the common end:
turning findings into an `Extracted`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from warcpack.extract.dates import PageDates, capture_instant, http_date
from warcpack.extract.decode import Decoded
from warcpack.extract.sites import SiteConfig, SiteRule
from warcpack.installation import installed_version
from warcpack.record import SourceRecord
from warcpack.row import Extracted

_LANG = re.compile(r"^([a-z]{2,3})(?:-([a-z]{4}))?(?:-([a-z]{2}|\d{3}))?(?:-[a-z0-9]{1,8})*$", re.I)


def site_of(url: str, hints: dict[str, str]) -> str | None:
    """Host of the URL, lowercased, without "www."; the declared site for urn: snapshots."""
    host = None
    if url.lower().startswith(("http://", "https://")):
        try:
            host = urlsplit(url).hostname
        except ValueError:
            host = None
    host = host or hints.get("site")
    if not host:
        return None
    host = host.strip().lower().rstrip(".")
    return host.removeprefix("www.") or None


def language_tag(value: str | None) -> str | None:
    """A BCP 47 tag in its usual case ("en-US", "zh-Hant-TW"), or None if it is not one."""
    if not value:
        return None
    first = re.split(r"[\s,;]+", value.strip())[0].replace("_", "-")
    m = _LANG.match(first)
    if not m or m.group(1).lower() in ("und", "xx"):
        return None
    parts = first.split("-")
    out = [parts[0].lower()]
    for p in parts[1:]:
        out.append(p.title() if len(p) == 4 and p.isalpha() else
                   p.upper() if len(p) == 2 else p.lower())
    return "-".join(out)


def unique(values: list[str]) -> list[str]:
    """Non-empty values, first spelling kept, duplicates (ignoring case) dropped, order kept."""
    seen: set[str] = set()
    out = []
    for v in values:
        v = re.sub(r"\s+", " ", v).strip() if isinstance(v, str) else ""
        if v and v.casefold() not in seen:
            seen.add(v.casefold())
            out.append(v)
    return out


@dataclass(frozen=True)
class Page:
    """The record's facts an extractor uses, besides its decoded text."""

    url: str
    site: str | None
    rule: SiteRule | None
    capture: datetime
    hints: dict[str, str]
    decoded: Decoded
    content_language: str | None
    last_modified: str | None

    @classmethod
    def of(cls, rec: SourceRecord, decoded: Decoded, sites: SiteConfig) -> Page:
        site = site_of(rec.url, rec.hints)
        return cls(
            url=rec.url,
            site=site,
            rule=sites.for_host(site),
            capture=capture_instant(rec.warc_date),
            hints=dict(rec.hints),
            decoded=decoded,
            content_language=rec.http_header("Content-Language"),
            last_modified=http_date(rec.http_header("Last-Modified")),
        )

    @property
    def hint_publisher(self) -> str | None:
        return (self.hints.get("publisher") or "").strip() or None

    def extracted(self, *, text: str, dates: PageDates, extractor: str, **fields: Any) -> Extracted:
        """The findings as a row's worth; every extractor is warcpack's own, so its version is
        warcpack's (the libraries' versions are in the build summary)."""
        return Extracted(
            text=text,
            site=self.site,
            http_last_modified=self.last_modified,
            charset=self.decoded.charset,
            charset_source=self.decoded.source,
            extractor=extractor,
            extractor_version=installed_version("warcpack"),
            **dates.fields(),  # type: ignore[arg-type]
            **fields,
        )
