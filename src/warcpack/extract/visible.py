"""Dates a page shows its reader, read from its rendered text rather than from its metadata.

Many pages, European ones above all, declare no date in their markup and write it for the
reader: "Veröffentlicht am 16.08.2019", "Stand: 07.11.2023, 07:30 Uhr", a bare "27.01.2022"
under the headline, a dateline opening the article ("Karlsruhe, (12.11.2021). ..."). Three
readings, each generic:

- labelled: a publication or modification label followed by a date, on a short line (a byline
  or meta line, not a sentence), from just before the headline to the end of the extracted
  article and its own footer (comments and related links come after); the label says which
  kind it is, so a date labelled as an update is never taken for a publication ("Stand", as
  of, dates the version shown: a publication unless the page says otherwise, see `dates`);
- beside the headline: a line that is little more than a date, among the few lines around the
  page's headline (the h1-h4 that repeats the title the page declares); its kind comes from a
  label if it has one, or from markup naming an update around it ("modified-date",
  itemprop="dateModified"; see `structured.names_update`), otherwise it is the publication date;
- dateline: a place and a date opening the main text.

The text is laid out as a browser would: block elements and <br> break lines, inline elements
run together; scripts, styles and forms are not text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree
from lxml.html import HtmlElement

from warcpack.extract.dates import HAS_LABEL, Candidate, label_kind, parse_date
from warcpack.extract.structured import clean, names_update

_INLINE = {
    "a", "abbr", "b", "bdi", "cite", "code", "em", "font", "i", "label", "mark", "q", "s",
    "small", "span", "strong", "sub", "sup", "time", "u",
}
_SKIP = {"script", "style", "noscript", "template", "svg", "select", "option", "textarea", "head"}
_HEADINGS = {"h1", "h2", "h3", "h4"}
_MAX_LINES = 5000
_SHORT = 120  # a labelled date on a longer line is part of a sentence, not a byline
_NEAR_AFTER, _NEAR_BEFORE = 6, 3  # lines after / before the headline searched for its date
_FOOTER = 3  # lines after the article's last paragraph still its own (an entry footer)
_PROSE = 200  # a line this long after the headline means the article has begun
_LEFTOVER = 30  # characters besides the date and its label on a "date line" (weekday, "|", ...)
_NOISE = re.compile(r"[\W\d_]+")

_DATELINE = re.compile(
    r"^\s*(?P<place>[^\W\d_][\w.'’ -]{1,40}?)\s*[,(]\s*\(?(?P<date>[^()\n]{6,40}?)\)?\s*[.:–—-]\s"
)


@dataclass(frozen=True)
class Lines:
    """The page's visible text, one entry per rendered line, and where its headline is."""

    lines: list[str]
    headline: int | None  # index of the headline's line
    owners: tuple[HtmlElement | None, ...] = ()  # the element holding each line's first words
    end: int | None = None  # index of the line holding the article's last words, if found

    def names_update(self, i: int) -> bool:
        """Is line `i` inside markup naming an update (its element or the two around it)?"""
        el = self.owners[i] if i < len(self.owners) else None
        near = [el, *el.iterancestors()][:3] if el is not None else []
        return any(names_update(f"{a.get('class', '')} {a.get('id', '')} {a.get('itemprop', '')}")
                   for a in near)


def _key(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


def headline_keys(titles: list[str]) -> set[str]:
    """Comparable forms of the titles a page declares, with and without a " | Site" suffix."""
    keys: set[str] = set()
    for title in titles:
        for part in [title, *re.split(r"\s+[|–—:-]\s+|\s+::\s+", title)[:1]]:
            k = _key(part)
            if len(k) >= 8:
                keys.add(k)
    return keys


def _is_headline(text: str, keys: set[str]) -> bool:
    k = _key(text)
    return len(k) >= 8 and any(k == t or (len(k) >= 15 and (t.startswith(k) or k.startswith(t)))
                               for t in keys)


def read_lines(tree: HtmlElement, keys: set[str], first_line: str | None = None,
               last_line: str | None = None) -> Lines:
    """Lay out the body's text in lines and find the headline among them: the first h1-h4
    repeating a title the page declares (`keys`), else the heading just above the line where
    the extracted article starts (`first_line`), else the first h1. Laying out stops a few lines
    after the article's last paragraph (`last_line`) once the headline is known: dates are not
    read further on."""
    body = tree.find("body")
    root = body if body is not None else tree
    lines: list[str] = []
    current: list[str] = []
    owners: list[HtmlElement | None] = []
    owner: HtmlElement | None = None  # where the current line's first words are
    headline: int | None = None
    first_h1: int | None = None
    headings: list[int] = []

    probe = _key(last_line or "")[:60]
    probe = probe if len(probe) >= 20 else ""
    end: int | None = None

    def flush() -> None:
        """Close the current line (called only while it holds text: with none, `owner` is
        already None and there is nothing to do)."""
        nonlocal owner, end
        joined = "".join(current)
        current.clear()
        first, owner = owner, None
        if joined.isspace():  # most breaks between blocks: clean() would give None
            return
        text = clean(joined)
        if text:
            if probe and headline is not None and end is None and (
                    _key(text).startswith(probe)):
                end = len(lines)  # the article's last paragraph: nothing after is read
            lines.append(text)
            owners.append(first)

    # The loop runs for every element of the page: text is added inline rather than by a helper.
    walker = etree.iterwalk(root, events=("start", "end"))
    for event, el in walker:
        tag = el.tag
        if not isinstance(tag, str):
            tag = ""
        if event == "start":
            if tag in _SKIP or not tag:
                walker.skip_subtree()
                continue
            if current and tag not in _INLINE:
                flush()
            if tag in _HEADINGS and headline is None:
                text = el.text_content()
                if _is_headline(text, keys):
                    headline = len(lines)
                elif tag == "h1" and first_h1 is None and clean(text):
                    first_h1 = len(lines)
                headings.append(len(lines))
            text = el.text
            if text:
                current.append(text)
                if owner is None and not text.isspace():
                    owner = el
            if current and tag == "br":
                flush()
        else:
            if current and tag and tag not in _SKIP and tag not in _INLINE:
                flush()
            if el is not root:
                text = el.tail
                if text:
                    current.append(text)
                    if owner is None and not text.isspace():
                        owner = el.getparent()
            if len(lines) > _MAX_LINES or (end is not None and len(lines) > end + _FOOTER):
                break
    if current:
        flush()
    opening = _above(lines, headings, first_line) if headline is None else None
    found = next((i for i in (headline, opening, first_h1) if i is not None), None)
    if end is None:
        end = _last(lines, probe, found or 0)
    return Lines(lines, found, tuple(owners), end)


def _above(lines: list[str], headings: list[int], first_line: str | None) -> int | None:
    """The heading at most three lines above the line that starts the extracted article."""
    start = _key(first_line or "")[:60]
    if len(start) < 20:
        return None
    for j, line in enumerate(lines):
        if _key(line).startswith(start):
            above = [i for i in headings if j - 3 <= i < j]
            return above[-1] if above else None
    return None


def _last(lines: list[str], probe: str, start: int) -> int | None:
    """The line holding the start of the article's last paragraph, from `start` on."""
    if not probe:
        return None
    return next((j for j in range(start, len(lines)) if _key(lines[j]).startswith(probe)), None)


def _leftover(line: str, start: int, end: int) -> str:
    """What a line says besides its date and a label in front of it."""
    before, after = line[:start], line[end:]
    if label_kind(before):
        before = ""
    return _NOISE.sub(" ", f"{before} {after}").strip()


def _labelled(line: str) -> tuple[str, Candidate] | None:
    """(kind, candidate) for "Label: <date>" anywhere in a short line."""
    parsed = parse_date(line)
    if parsed is None:
        return None
    kind = label_kind(line[: parsed.span[0]])
    if kind is None:
        return None
    raw = line[parsed.span[0]: parsed.span[1]].strip(" ,")
    return kind, Candidate(raw or line, "visible-label", parsed)


def visible_dates(page: Lines) -> tuple[list[Candidate], list[Candidate]]:
    """Published and modified candidates from the page's visible text, most trusted first:
    an explicit publication label, the date beside the headline, a "Stand" (as-of) label."""
    labelled: dict[str, Candidate] = {}
    lines, h = page.lines, page.headline
    # Labelled dates, from just before the headline (a sidebar above it lists other pages) to
    # the article's last paragraph.
    start = max(0, h - _NEAR_BEFORE) if h is not None else 0
    # An entry's own footer ("Posted on ... | Leave a comment") closes the article; comments and
    # related links come after it.
    stop = min(len(lines), page.end + 1 + _FOOTER) if page.end is not None else len(lines)
    for i in range(start, stop):
        line = lines[i]
        if len(line) > _SHORT or not HAS_LABEL.search(line):
            continue
        if i + 1 < len(lines) and label_kind(line) and parse_date(lines[i + 1]):
            line = f"{line} {lines[i + 1]}"  # the label alone on its line, the date below it
        found = _labelled(line)
        if found is not None:
            labelled.setdefault(*found)
        if len(labelled) == 3:
            break
    beside: Candidate | None = None
    beside_kind: str | None = None
    if h is not None:  # a date line beside the headline: after it first, then above it
        after = []
        for i in range(h + 1, min(len(lines), h + 1 + _NEAR_AFTER)):
            if len(lines[i]) >= _PROSE:
                break  # the article has begun
            after.append(i)
        for i in after + list(range(h - 1, max(-1, h - 1 - _NEAR_BEFORE), -1)):
            line = lines[i]
            if len(line) > _SHORT:
                continue
            parsed = parse_date(line)
            if parsed is None or len(_leftover(line, *parsed.span)) > _LEFTOVER:
                continue
            beside_kind = label_kind(line[: parsed.span[0]])
            if beside_kind is None and i > 0 and len(lines[i - 1]) <= 40 and i - 1 != h:
                beside_kind = label_kind(lines[i - 1])
            if beside_kind is None and page.names_update(i):
                beside_kind = "modified"
            raw = line[parsed.span[0]: parsed.span[1]].strip(" ,") or line
            beside = Candidate(raw, "visible-headline", parsed)
            break
    published = [labelled[k] for k in ("published",) if k in labelled]
    modified = [labelled[k] for k in ("modified",) if k in labelled]
    if beside is not None:
        (modified if beside_kind == "modified" else published).append(beside)
    if "version" in labelled:
        published.append(labelled["version"])
    return published, modified


def dateline(text: str) -> Candidate | None:
    """The date of a dateline opening the main text: "Karlsruhe, (12.11.2021). Traditionell..."."""
    m = _DATELINE.match(text[:120])
    if m is None:
        return None
    parsed = parse_date(m["date"])
    if parsed is None or parsed.span != (0, len(m["date"].rstrip())):
        return None
    return Candidate(m["date"].strip(), "dateline", parsed)
