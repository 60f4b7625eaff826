"""HTML pages: main text from trafilatura, metadata from the page's own structured data first.

Dates, most trusted first: JSON-LD, <meta> (article:published_time and kin), microdata
itemprops, <time datetime> labelled by itemprop / pubdate / class, then htmldate, then the URL.
Unlabelled <time> elements and <meta name="date"> are left to htmldate, which weighs them with
the rest of the page (taken alone they were wrong more often than right on the benchmark).

trafilatura (and htmldate inside it) would bound dates by today's date; here the bound is the
capture day, so a build gives the same rows whatever day it runs.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from htmldate import find_date
from trafilatura import bare_extraction

from warcpack.extract import dates as d
from warcpack.extract.license import find_license
from warcpack.extract.page import Page, language_tag, unique
from warcpack.extract.structured import (
    Structured,
    clean,
    extract_structured,
    footer_statements,
    is_page_like,
    names,
    parse_html,
    text_list,
    types_of,
)
from warcpack.row import Extracted, Skip

_PUBLISHED_META = (
    "article:published_time", "og:article:published_time", "og:published_time",
    "article:published", "datepublished", "pubdate", "publishdate", "publish-date",
    "publish_date", "parsely-pub-date", "sailthru.date", "dc.date.issued", "dcterms.issued",
    "citation_publication_date", "citation_date", "dcterms.created", "dc.date",
)
_MODIFIED_META = (
    "article:modified_time", "og:article:modified_time", "og:updated_time", "og:modified_time",
    "modified_time", "datemodified", "dcterms.modified", "dc.date.modified", "last-modified",
    "lastmod",
)
_AUTHOR_META = ("author", "article:author", "parsely-author", "sailthru.author", "dc.creator",
                "dcterms.creator", "byl")
_CLAIM = re.compile(r"©|\bcopyright\b", re.I)
_ORG_TYPES = ("newsmediaorganization", "organization", "corporation")


def _candidates(
    s: Structured, keys: tuple[str, ...], ld_key: str, prop: str, kind: str
) -> list[d.Candidate]:
    """Dates of one kind from labelled sources, most trusted first."""
    raw: list[tuple[str, str]] = []
    described = [s.main] if s.main is not None else []
    described += [o for o in s.jsonld if o is not s.main and is_page_like(o)]
    for obj in described:
        value = obj.get(ld_key)
        if isinstance(value, list):
            value = next((v for v in value if isinstance(v, str)), None)
        if isinstance(value, str) and value.strip():
            raw.append((value, "json-ld"))
            break
    raw += [(v, f"meta:{k}") for k in keys for v in s.all_meta(k)[:1]]
    raw += [(v, "microdata") for v in s.itemprops.get(prop, [])[:1]]
    raw += [(v, "time-element") for k, v in s.times if k == kind][:1]
    out = []
    for value, source in raw:
        parsed = d.parse_date(value)
        if parsed is not None:
            out.append(d.Candidate(clean(value) or value, source, parsed))
    return out


def _htmldate(found: str | None) -> list[d.Candidate]:
    """htmldate's answer (a day) as a weak candidate: a guess, not a labelled date."""
    parsed = d.parse_date(found)
    return [d.Candidate(found, "htmldate", parsed, weak=True)] if found and parsed else []


def _date_params(capture: datetime, tz: str | None, url: str | None) -> dict[str, Any]:
    last = d.latest_day(capture, tz)
    return {
        "original_date": True,
        "extensive_search": True,
        "max_date": datetime(last.year, last.month, last.day, 23, 59, 59),
        "url": url,
    }


def _publisher(s: Structured, page: Page, doc_site: str | None) -> str | None:
    if page.hint_publisher:
        return page.hint_publisher
    if s.main is not None:
        found = names(s.main.get("publisher"), s)
        if found:
            return found[0]
    og = s.first_meta("og:site_name", "application-name")
    if og and not _CLAIM.search(og):
        return og.lstrip("@")
    for obj in s.jsonld:
        if any(t in _ORG_TYPES for t in types_of(obj)) and clean(obj.get("name")):
            return clean(obj.get("name"))
    if page.rule and page.rule.publisher:
        return page.rule.publisher
    if doc_site and not re.fullmatch(r"[\w.-]+\.[a-z]{2,}", doc_site, re.I) and not _CLAIM.search(
        doc_site
    ):
        return doc_site.lstrip("@")
    return None


def _authors(s: Structured, doc_author: str | None) -> list[str]:
    found: list[str] = names(s.main.get("author"), s) if s.main is not None else []
    if not found:
        for key in _AUTHOR_META:
            found = [v for v in s.all_meta(key) if not v.lower().startswith(("http", "www."))]
            if found:
                break
    if not found and doc_author:
        found = doc_author.split(";")
    return unique([_clean_author(a) for a in found])[:20]


_AUTHOR_NOISE = re.compile(
    r"(?:\s+(?:published|updated|posted|(?:mon|tues|wednes|thurs|fri|satur|sun)day"
    r"|january|february|march|april|may|june|july|august|september|october|november|december))+$",
    re.I,
)


def _clean_author(name: str) -> str:
    """Drop a leading "By" and date words glued to the end of a byline ("Jane Doe Monday")."""
    name = re.sub(r"^\s*by\s+", "", name.strip(), flags=re.I)
    if name.lower() in ("published", "updated", "posted") or d.MONTHS.get(name.lower()):
        return ""
    return _AUTHOR_NOISE.sub("", name)


def _tags(s: Structured, doc_tags: list[str] | None) -> list[str]:
    if s.main is not None and text_list(s.main.get("keywords")):
        return unique(text_list(s.main.get("keywords")))[:100]
    tags = s.all_meta("article:tag")
    if not tags:
        tags = text_list(s.first_meta("news_keywords", "keywords"))
    if not tags and doc_tags:
        tags = [t for x in doc_tags for t in text_list(x)]
    return unique(tags)[:100]


def extract_html(text: str, page: Page) -> Extracted | Skip:
    """Text and metadata of one decoded HTML page."""
    tree = parse_html(text)
    if tree is None:
        return Skip("no-text", "nothing to parse")
    s = extract_structured(tree)
    tz = page.rule.timezone if page.rule else None
    url = page.url if page.url.startswith(("http://", "https://")) else None
    doc = bare_extraction(
        text, url=url, with_metadata=True, include_comments=False, include_tables=True,
        deduplicate=False, date_extraction_params=_date_params(page.capture, tz, url),
    )
    body = getattr(doc, "text", None) if doc is not None else None
    paragraphs = [p.strip() for p in (body or "").splitlines() if p.strip()]
    if not paragraphs:
        return Skip("no-text", "no main text found")

    published = _candidates(s, _PUBLISHED_META, "datePublished", "datepublished", "published")
    published += _htmldate(doc.date)
    found_url = d.url_date(url)
    if found_url:
        published.append(d.Candidate(url or "", "url", found_url))
    modified = _candidates(s, _MODIFIED_META, "dateModified", "datemodified", "modified")
    if not modified:
        params = _date_params(page.capture, tz, url)
        params.update(original_date=False, extensive_search=False)
        modified += _htmldate(find_date(tree, **params))
    chosen = d.choose(published, modified, page.capture, tz)

    main = s.main or {}
    section = (text_list(main.get("articleSection")) or [s.first_meta("article:section")])[0]
    in_language = main.get("inLanguage")
    if isinstance(in_language, dict):
        in_language = in_language.get("alternateName") or in_language.get("name")
    language = next(
        filter(None, (language_tag(x) for x in (
            s.lang, in_language if isinstance(in_language, str) else None,
            s.first_meta("og:locale"), s.first_meta("content-language"), page.content_language,
            getattr(doc, "language", None),
        ))),
        None,
    )
    title = clean(doc.title) or clean(main.get("headline")) or s.first_meta("og:title")
    description = (
        clean(main.get("description")) or s.first_meta("og:description", "description",
                                                        "twitter:description")
        or clean(doc.description)
    )
    return page.extracted(
        text="\n\n".join(paragraphs),
        title=title,
        language=language,
        authors=_authors(s, doc.author),
        publisher=_publisher(s, page, clean(doc.sitename)),
        section=clean(section),
        tags=_tags(s, doc.tags),
        description=description,
        dates=chosen,
        license=find_license(s, footer_statements(tree), page.rule),
        extractor="trafilatura",
    )
