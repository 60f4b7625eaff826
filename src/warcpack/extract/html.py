"""HTML pages: main text from two trafilatura passes (`maintext`), metadata from the page's
own structured data first.

Dates, most trusted first. Published: JSON-LD, <meta> (article:published_time and kin),
microdata itemprops, <time datetime> labelled by itemprop / pubdate / a label in front of it /
class, then what the page shows its reader (`visible`: a date with a publication label, the date
beside the headline, a dateline), then htmldate's guess, then the URL; `dates.choose` settles
disagreements. Modified: the same structured sources, then visible dates labelled as updates,
then htmldate's latest-date guess. Unlabelled <time> elements and <meta name="date"> are left to
htmldate, which weighs them with the rest of the page (taken alone they were wrong more often
than right on the benchmark).

htmldate runs only where it can change the answer: when nothing labelled gives a published date,
or as one more witness when labelled sources disagree; its modified guess only when nothing
labelled gives one. trafilatura and htmldate would bound dates by today's date; here the bound
is the capture day, so a build gives the same rows whatever day it runs.

Title, authors, site name and tags come from the page's structured data; trafilatura's byline
and tag-link readers are asked only when that has none (they are its metadata reader's parts,
called alone: the whole reader would also search dates again).
"""

from __future__ import annotations

import re
from datetime import datetime
from html import unescape
from typing import Any

from htmldate import find_date
from lxml.html import HtmlElement
from trafilatura.metadata import extract_author, extract_catstags

from warcpack.extract import dates as d
from warcpack.extract.license import find_license
from warcpack.extract.maintext import main_text
from warcpack.extract.page import Page, language_tag, unique
from warcpack.extract.sniff import html_shape, may_hold_too_many, may_nest_too_deep
from warcpack.extract.structured import (
    Structured,
    clean,
    extract_structured,
    footer_statements,
    is_page_like,
    names,
    text_list,
    types_of,
)
from warcpack.extract.tree import load_html
from warcpack.extract.visible import dateline, headline_keys, read_lines, visible_dates
from warcpack.limits import DEFAULT_LIMITS, Limits
from warcpack.row import Extracted, Skip
from warcpack.textmode import ACCURATE, FAST

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
_AUTHOR_META = ("author", "article:author", "og:article:author", "parsely-author",
                "sailthru.author", "dc.creator", "dcterms.creator", "byl")
# The row's `provenance.extractor`: the text is warcpack's reading of trafilatura's passes.
EXTRACTORS = {ACCURATE: "warcpack-html", FAST: "warcpack-html-fast"}
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


def _publisher(s: Structured, page: Page) -> str | None:
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
    return None


def _authors(s: Structured, tree: HtmlElement) -> list[str]:
    found: list[str] = names(s.main.get("author"), s) if s.main is not None else []
    if not found:
        for key in _AUTHOR_META:
            found = [v for v in s.all_meta(key) if not v.lower().startswith(("http", "www."))]
            if found:
                break
    if not found:
        found = (extract_author(tree) or "").split(";")
    return unique([_clean_author(a) for a in found])[:20]


_AUTHOR_NOISE = re.compile(
    r"(?:\s+(?:published|updated|posted|(?:mon|tues|wednes|thurs|fri|satur|sun)day"
    r"|january|february|march|april|may|june|july|august|september|october|november|december))+$",
    re.I,
)


def _clean_author(name: str) -> str:
    """Drop a leading "By" ("Von", "Par", "Por" before two words or more) and date words glued
    to the end of a byline ("Jane Doe Monday")."""
    name = re.sub(r"^\s*by\s+", "", name.strip(), flags=re.I)
    name = re.sub(r"^(?:von|vom|par|por)\s+(?=\S+\s+\S)", "", name, flags=re.I)
    if name.lower() in ("published", "updated", "posted") or d.MONTHS.get(name.lower()):
        return ""
    return _AUTHOR_NOISE.sub("", name)


def _tags(s: Structured, tree: HtmlElement) -> list[str]:
    if s.main is not None and text_list(s.main.get("keywords")):
        return unique(text_list(s.main.get("keywords")))[:100]
    tags = s.all_meta("article:tag")
    if not tags:
        tags = text_list(s.first_meta("news_keywords", "keywords"))
    if not tags:
        tags = [t for x in extract_catstags("tag", tree) for t in text_list(x)]
    return unique(tags)[:100]


def _titles(s: Structured, tree: HtmlElement, site: str | None) -> list[str]:
    """Titles the page declares for itself, in the order the row's title is taken: what it
    shares (OpenGraph, Twitter, Dublin Core), its JSON-LD headline, its h1 if it has only one,
    its <title>; a " | Site" suffix naming the site (its site name, publisher or host) is cut."""
    main = s.main or {}
    h1 = [t for t in (clean(h.text_content()) for h in tree.iter("h1")) if t][:3]
    found = [s.first_meta("og:title"), s.first_meta("twitter:title"),
             s.first_meta("dc.title", "title"), clean(main.get("headline"))]
    found += h1 if len(h1) == 1 else []
    found.append(clean(tree.findtext(".//title")))
    found += h1 if len(h1) > 1 else []
    sites = {n.casefold() for n in (s.first_meta("og:site_name"), site,
                                    *names(main.get("publisher"), s)) if n}
    out = []
    for title in (unescape(t) for t in found if t):
        head, sep, tail = title.rpartition(" | ") if " | " in title else title.rpartition(" - ")
        if sep and head and (tail.casefold() in sites or tail.casefold().replace(" ", "") in {
                n.replace(" ", "") for n in sites}):
            title = head
        out.append(title)
    return out


def _dates(
    s: Structured, tree: HtmlElement, text: str, headlines: set[str], page: Page,
    url: str | None,
) -> d.PageDates:
    tz = page.rule.timezone if page.rule else None
    params = _date_params(page.capture, tz, url)
    paragraphs = text.split("\n\n")
    seen, shown = visible_dates(read_lines(tree, headlines, paragraphs[0], paragraphs[-1]))
    published = _candidates(s, _PUBLISHED_META, "datePublished", "datepublished", "published")
    published += seen
    line = dateline(text)
    if line is not None:
        published.append(line)
    found_url = d.url_date(url)
    # htmldate returns a URL's date before looking at the page: with one, it has nothing to add.
    if (not published or d.disputed(published)) and found_url is None:
        published += _htmldate(find_date(tree, **params))
    if found_url:
        published.append(d.Candidate(url or "", "url", found_url))
    modified = _candidates(s, _MODIFIED_META, "dateModified", "datemodified", "modified")
    modified += shown
    if not modified:
        params.update(original_date=False, extensive_search=False)
        modified += _htmldate(find_date(tree, **params))
    return d.choose(published, modified, page.capture, tz)


def _parse(text: str, limits: Limits) -> HtmlElement | Skip:
    """The page's tree, or why there is none. `html_shape` measures the page exactly but costs
    a Python call per element, so it runs only where a limit may be crossed: before parsing when
    the text could hold too many elements, after it when the tree could hide a deeper page."""
    measured = may_hold_too_many(text, limits.max_elements)
    refused = html_shape(text, limits.max_depth, limits.max_elements) if measured else None
    if refused:
        return Skip(*refused)
    tree = load_html(text)
    if tree is None:
        return Skip("no-text", "nothing to parse")
    if not measured and may_nest_too_deep(tree, limits.max_depth):
        refused = html_shape(text, limits.max_depth, limits.max_elements)
        if refused:
            return Skip(*refused)
    return tree


def extract_html(text: str, page: Page, text_mode: str = ACCURATE,
                 limits: Limits = DEFAULT_LIMITS) -> Extracted | Skip:
    """Text and metadata of one decoded HTML page; `text_mode` says how the main text is read
    (`maintext.TEXT_MODES`) and names the row's extractor; `limits` bound the page's shape
    (its size is the caller's to check)."""
    tree = _parse(text, limits)
    if isinstance(tree, Skip):
        return tree
    s = extract_structured(tree)
    url = page.url if page.url.startswith(("http://", "https://")) else None
    titles = _titles(s, tree, page.site)
    headlines = headline_keys(titles)
    body = main_text(tree, url, headlines, text_mode)
    if not body:
        return Skip("no-text", "no main text found")
    chosen = _dates(s, tree, body, headlines, page, url)

    main = s.main or {}
    section = (text_list(main.get("articleSection")) or [s.first_meta("article:section")])[0]
    in_language = main.get("inLanguage")
    if isinstance(in_language, dict):
        in_language = in_language.get("alternateName") or in_language.get("name")
    language = next(
        filter(None, (language_tag(x) for x in (
            s.lang, in_language if isinstance(in_language, str) else None,
            s.first_meta("og:locale"), s.first_meta("content-language"), page.content_language,
        ))),
        None,
    )
    description = clean(main.get("description")) or s.first_meta(
        "og:description", "description", "twitter:description")
    return page.extracted(
        text=body,
        title=titles[0] if titles else None,
        language=language,
        authors=_authors(s, tree),
        publisher=_publisher(s, page),
        section=clean(section),
        tags=_tags(s, tree),
        description=description,
        dates=chosen,
        license=find_license(s, footer_statements(tree), page.rule),
        extractor=EXTRACTORS[text_mode],
    )
