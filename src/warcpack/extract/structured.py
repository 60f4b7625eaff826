"""Structured data a page declares about itself: JSON-LD, OpenGraph / article:* and other
<meta> tags, microdata itemprops, <time datetime> and rel=license links.

Parsing uses lxml's HTML parser, which never loads DTDs, expands external entities or touches
the network. Malformed JSON-LD blocks are skipped, not fatal.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import lxml.html
from lxml import etree
from lxml.html import HtmlElement

from warcpack.extract.dates import label_kind

_ITEMPROPS = {"datepublished", "datecreated", "datemodified"}  # the microdata read here
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
_WS = re.compile(r"\s+")
_ARTICLE_TYPES = (
    "article", "posting", "report", "review", "recipe", "howto", "claimreview", "episode",
    "videoobject", "creativework", "liveblogposting",
)
_PAGE_TYPES = ("webpage", "itempage", "aboutpage", "profilepage", "qapage", "collectionpage")
_PUB_CLASS = re.compile(
    r"publish|posted|created|dateline|pubdate|byline|entry-date|post-date", re.I
)
_MOD_CLASS = re.compile(r"updat|modif|edited|revised|lastmod", re.I)


def names_update(markup: str) -> bool:
    """Do these class / id / itemprop words name a modification? The bare class "updated" does
    not: the hAtom microformat requires it on every entry's date, so themes put it on the
    publication date too ("entry-date published updated")."""
    words = [w for w in markup.split() if w.lower() != "updated"]
    return bool(_MOD_CLASS.search(" ".join(words)))


def parse_html(text: str) -> HtmlElement | None:
    """A safe lxml tree of an HTML document, or None if there is nothing to parse."""
    text = _XML_DECL.sub("", text, count=1)
    if not text.strip():
        return None
    parser = lxml.html.HTMLParser(
        no_network=True, remove_comments=True, remove_pis=True, collect_ids=False,
        default_doctype=False, huge_tree=False,
    )
    try:
        tree = lxml.html.document_fromstring(text, parser=parser)
    except (ValueError, lxml.etree.ParserError):
        return None
    return tree


def clean(value: Any) -> str | None:
    """Whitespace-normalised string, or None for empty / non-string values."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    out = _WS.sub(" ", value).strip()
    return out or None


@dataclass
class Structured:
    """Everything a page says about itself in markup, in document order."""

    lang: str | None = None
    meta: dict[str, list[str]] = field(default_factory=dict)  # lowercased key -> contents
    jsonld: list[dict[str, Any]] = field(default_factory=list)  # all objects, flattened
    main: dict[str, Any] | None = None  # the object describing this page's article
    ids: dict[str, dict[str, Any]] = field(default_factory=dict)  # JSON-LD @id -> object
    itemprops: dict[str, list[str]] = field(default_factory=dict)  # microdata dates
    times: list[tuple[str, str]] = field(default_factory=list)  # (published|modified|other, v)
    license_links: list[str] = field(default_factory=list)  # rel=license hrefs
    cc_links: list[str] = field(default_factory=list)  # creativecommons.org hrefs / marks

    def first_meta(self, *keys: str) -> str | None:
        for key in keys:
            for value in self.meta.get(key, []):
                if clean(value):
                    return clean(value)
        return None

    def all_meta(self, key: str) -> list[str]:
        return [v for v in (clean(x) for x in self.meta.get(key, [])) if v]

    def deref(self, value: Any) -> Any:
        """Follow a JSON-LD {"@id": ...} reference within the page, if it resolves."""
        if isinstance(value, dict) and set(value) <= {"@id", "@type"} and "@id" in value:
            return self.ids.get(str(value["@id"]), value)
        return value


def extract_structured(tree: HtmlElement) -> Structured:
    s = Structured()
    root = tree.getroottree().getroot()
    s.lang = clean(root.get("lang") or root.get("xml:lang")
                   or root.get("{http://www.w3.org/XML/1998/namespace}lang"))
    for el in tree.iter("meta"):
        content = el.get("content")
        if content is None:
            content = el.get("datetime")
        if content is None:
            continue
        for attr in ("property", "name", "itemprop", "http-equiv"):
            key = el.get(attr)
            if key:
                s.meta.setdefault(key.strip().lower(), []).append(content)
    for el in tree.xpath("//*[@itemprop][not(self::meta)]"):
        for prop in el.get("itemprop", "").lower().split():
            if prop in _ITEMPROPS:
                value = el.get("content") or el.get("datetime") or el.text_content()[:200]
                s.itemprops.setdefault(prop, []).append(value)
    _times(tree, s)
    _jsonld(tree, s)
    for el in tree.xpath("//a[@rel][@href] | //link[@rel][@href]"):
        if "license" in el.get("rel", "").lower().split():
            s.license_links.append(el.get("href").strip())
    for el in tree.xpath(
        "//a[contains(@href, 'creativecommons.org/')]"
        " | //img[contains(@src, 'creativecommons.org/')]"
    ):
        s.cc_links.append((el.get("href") or el.get("src") or "").strip())
    return s


def _times(tree: HtmlElement, s: Structured) -> None:
    for el in tree.xpath("//time[@datetime]"):
        value = el.get("datetime", "").strip()
        if not value:
            continue
        prop = el.get("itemprop", "").lower()
        cues = " ".join(
            filter(None, [el.get("class"), el.get("id")] + [
                a.get("class") for a in el.iterancestors() if a.tag not in ("html", "body")
            ][:2])
        )
        label = label_kind(_text_before(el))
        label = "published" if label == "version" else label
        if prop in ("datepublished", "datecreated") or "pubdate" in el.attrib:
            kind = "published"
        elif prop == "datemodified":
            kind = "modified"
        elif label is not None:  # "Erschienen am <time ...>", "Updated: <time ...>"
            kind = label
        elif names_update(cues):
            kind = "modified"
        elif _PUB_CLASS.search(cues):
            kind = "published"
        else:
            kind = "other"
        s.times.append((kind, value))


def _text_before(el: HtmlElement, limit: int = 40) -> str:
    """The visible text just before an element, within its parent (a label such as
    "Published:" in a sibling span, or in the parent's own text)."""
    prev = el.getprevious()
    while prev is not None and not isinstance(prev.tag, str):
        prev = prev.getprevious()
    if prev is not None:
        text = (prev.text_content() if prev.tag not in ("script", "style") else "") + (
            prev.tail or "")
    else:
        parent = el.getparent()
        text = (parent.text or "") if parent is not None else ""
    return text[-limit:]


def _jsonld(tree: HtmlElement, s: Structured) -> None:
    for script in tree.xpath("//script[contains(translate(@type, 'LDJSON', 'ldjson'), 'ld+json')]"):
        raw = (script.text or "").strip()
        raw = raw.removeprefix("<![CDATA[").removesuffix("]]>").strip()
        if not raw:
            continue
        try:
            data = json.loads(raw, strict=False)  # raw newlines in strings are common
        except ValueError:
            try:  # a common slip: several objects or a trailing comma
                data = json.loads(re.sub(r",\s*([}\]])", r"\1", raw), strict=False)
            except ValueError:
                continue
        for obj in _flatten(data):
            s.jsonld.append(obj)
            if isinstance(obj.get("@id"), str):
                s.ids.setdefault(obj["@id"], obj)
    s.main = _main_object(s)


def _flatten(data: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    if depth > 4:
        return
    if isinstance(data, list):
        for item in data:
            yield from _flatten(item, depth + 1)
    elif isinstance(data, dict):
        graph = data.get("@graph")
        if graph is not None:
            yield from _flatten(graph, depth + 1)
        if "@type" in data:
            yield data
            entity = data.get("mainEntity") or data.get("mainEntityOfPage")
            if isinstance(entity, dict) and "@type" in entity:
                yield from _flatten(entity, depth + 1)


def types_of(obj: dict[str, Any]) -> list[str]:
    """JSON-LD @type values, lowercased, without a vocabulary prefix."""
    t = obj.get("@type")
    values = t if isinstance(t, list) else [t]
    return [re.split(r"[/:#]", v)[-1].lower() for v in values if isinstance(v, str)]


def is_article(obj: dict[str, Any]) -> bool:
    return any(t.endswith(_ARTICLE_TYPES) for t in types_of(obj))


def is_page_like(obj: dict[str, Any]) -> bool:
    """An object that describes the page or its article (not a product, event, person...)."""
    return is_article(obj) or any(t in _PAGE_TYPES for t in types_of(obj))


def _main_object(s: Structured) -> dict[str, Any] | None:
    articles = [o for o in s.jsonld if is_article(o)]
    for obj in articles:
        if obj.get("datePublished") or obj.get("headline"):
            return obj
    if articles:
        return articles[0]
    for obj in s.jsonld:
        if any(t in _PAGE_TYPES for t in types_of(obj)):
            return obj
    return None


def names(value: Any, s: Structured) -> list[str]:
    """Names from a JSON-LD person/organisation value: a string, an object or a list of them."""
    out: list[str] = []
    items = value if isinstance(value, list) else [value]
    for item in items:
        item = s.deref(item)
        if isinstance(item, dict):
            name = clean(item.get("name"))
            if isinstance(item.get("name"), list):
                name = clean(next((n for n in item["name"] if isinstance(n, str)), None))
        else:
            name = clean(item)
        if name and not name.lower().startswith(("http://", "https://", "www.")):
            out.append(name)
    return out


def text_list(value: Any) -> list[str]:
    """A JSON-LD text-or-list value (keywords, articleSection) as a list of strings."""
    if isinstance(value, str):
        parts = value.split(",") if "," in value else [value]
    elif isinstance(value, list):
        parts = [v for v in value if isinstance(v, str)]
    else:
        parts = []
    return [p for p in (clean(x) for x in parts) if p]


_INLINE = {"a", "span", "b", "strong", "em", "i", "small", "font", "sup", "sub", "u", "time"}


def _names_someone(text: str) -> bool:
    rest = re.sub(r"copyright|all rights reserved|[\W\d_]", "", text, flags=re.I)
    return len(rest) >= 5


_MAX_HITS = 50
_HIDDEN = {"script", "style", "noscript", "template"}
_NOT_TEXT = {"script", "style", "noscript", "title", "textarea", "option"}
_RIGHTS = re.compile(r"©|copyright|all rights reserved", re.I)
# The usual spellings of a rights word: contains() per spelling is several times faster than
# translate() over every text node of the page.
_SPELLINGS = ("©", "opyright", "OPYRIGHT", "opyRight", "ights reserved", "ights Reserved",
              "IGHTS RESERVED", "ights RESERVED")
_ALL_TEXT = etree.XPath("string(/)")  # every text node of the document, joined


@cache  # at most 2^8 spelling sets
def _rights_text(spellings: tuple[str, ...]) -> etree.XPath:
    """Text nodes holding one of `spellings`: each contains() makes libxml2 copy every text
    node of the page, so the query asks only for spellings the page has somewhere."""
    tests = " or ".join(f"contains(., '{s}')" for s in spellings)
    return etree.XPath(f"//text()[{tests}]")


def _rights_nodes(tree: HtmlElement) -> list[Any]:
    """Text nodes with a rights word in its usual spellings, in document order. A text node can
    hold a spelling only if the page's whole text does, so the others are not searched for."""
    text = _ALL_TEXT(tree)
    present = tuple(s for s in _SPELLINGS if s in text)
    return _rights_text(present)(tree) if present else []


_WIDE = 300  # characters: a rights statement is no longer


class _Wide(Exception):
    """Raised to stop reading an element whose text is already too long to matter."""


def _visible_text(el: HtmlElement, limit: int | None = None) -> str:
    """Text as read: inline elements run together, block elements and <br> apart. With a
    `limit`, reading stops once the text is longer than that (the result is then some text
    longer than `limit`, not the whole)."""
    parts: list[str] = []
    size, check = 0, limit or 0

    def walk(e: HtmlElement) -> None:
        nonlocal size, check
        if limit is not None:
            size += len(e.text or "") + len(e.tail or "")
            if size > check:  # raw characters bound the read ones from above
                if len(clean("".join(parts)) or "") > limit:
                    raise _Wide
                check = 2 * size
        tag = e.tag if isinstance(e.tag, str) else ""
        if tag and tag not in _HIDDEN:
            inline = tag in _INLINE
            parts.append("" if inline else " ")
            parts.append(e.text or "")
            for child in e:
                walk(child)
            parts.append("" if inline else " ")
        if e is not el:
            parts.append(e.tail or "")

    try:
        walk(el)
    except _Wide:
        pass
    return clean("".join(parts)) or ""


def footer_statements(tree: HtmlElement) -> list[tuple[str, bool]]:
    """Copyright / rights lines in document order, each flagged if it sits in a footer.

    Each line is the smallest element around a "©" / "copyright" / "all rights reserved" text
    that reads as a statement (a bare "©" grows to its parent), script text left out.
    """
    out: list[tuple[str, bool]] = []
    seen: set[str] = set()
    hits = []
    for node in _rights_nodes(tree):  # the usual spellings (a case-blind XPath is slower)
        container = node.getparent()
        if container is not None and node.is_tail:
            container = container.getparent()
        if container is None:
            continue
        # Script text is left out before the regex runs: inline scripts can be long.
        if any(a.tag in _NOT_TEXT for a in (container, *container.iterancestors())):
            continue
        if not _RIGHTS.search(node):
            continue
        hits.append((node, container))
    for node, container in hits[-_MAX_HITS:]:  # rights lines sit at the end; many is noise
        near = [container, *container.iterancestors()][:4]
        if any(a.tag in ("figure", "figcaption") for a in near) and "rights" not in node.lower():
            continue  # a photo credit, not the page's rights
        # The smallest element around the hit that names someone: "© 2025" alone is not enough.
        block, text = container, _visible_text(container)
        for anc in container.iterancestors():
            if _names_someone(text) or anc.tag in ("body", "html"):
                break
            wider = _visible_text(anc, _WIDE)
            if len(wider) > _WIDE:
                break
            block, text = anc, wider
        if len(text) > 300:
            text = clean(str(node)) or ""
        if not text or len(text) > 300 or text in seen:
            continue
        seen.add(text)
        in_footer = any(
            a.tag == "footer" or re.search(r"foot|copyright|colophon|legal",
                                           f"{a.get('class', '')} {a.get('id', '')}", re.I)
            for a in [block, *block.iterancestors()]
        )
        out.append((text, in_footer))
    return out
