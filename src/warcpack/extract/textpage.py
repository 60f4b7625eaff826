"""Plain-text renderings of whole pages (what a browser's "save as text" gives): menus, article,
related links and footer in one stream of lines, with no markup to tell them apart.

Generic layout rules, not tied to any site:
- the first line is the document title, maybe with a " | Site Name" suffix;
- the article body is the longest run of prose paragraphs (long lines ending in sentence
  punctuation), short sub-headings between them allowed; bullets, indented list lines, lines
  repeated elsewhere in the page (image alt text + caption), promo lines and sections such as
  "Related News" or "Most viewed" are not body;
- the headline reappears above the body, followed by a section, a byline and the date lines
  ("06 December, 2024, 05:55 pm", "Last modified: ..."); a date at the very top of the page is
  the day it was rendered, not published;
- tags are a line of " / "-separated short items after the body (items that are menu entries
  make it a breadcrumb instead);
- the rights statement is the last copyright line, joined with an "All rights reserved" line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from warcpack.extract.dates import Candidate, ParsedDate, choose, parse_date, url_date
from warcpack.extract.license import find_license
from warcpack.extract.page import Page, language_tag, unique
from warcpack.row import Extracted, Skip

_BULLET = re.compile(r"^\s*(?:[•·▪◦‣∙●○■□➤►▸–-]|\*|\d{1,2}[.)])\s+")
_SPACE = re.compile(r"[\s\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_PROSE_END = re.compile(r"[.!?…:;][\"'”’»)\]]*$")
_STOPPER = re.compile(
    r"^(?:related(?: news| stories| articles| posts| content| topics)?|top stories|top news"
    r"|most (?:viewed|read|popular|shared)|more (?:videos|stories|news|from)\b.*|comments?"
    r"|\d+ comments?|leave a (?:comment|reply)|you (?:may|might) also like|also read"
    r"|read (?:more|next)"
    r"|recommended(?: for you)?|trending(?: now)?|popular(?: now)?|latest(?: news)?"
    r"|editor'?s picks?|share(?: this)?(?: article| story)?|advertisement|sponsored"
    r"|follow us|newsletter|sign up)\s*:?$",
    re.I,
)
_PROMO = re.compile(
    r"google news|follow (?:us|our)|subscribe (?:to|now)|sign up (?:for|to)|click here"
    r"|download (?:our|the) app|whatsapp channel|telegram channel|join our|keep updated",
    re.I,
)
_PUB_LABEL = re.compile(
    r"^(?:(?:first\s+)?published(?:\s+on|\s+at)?|posted(?:\s+on|\s+at)?|publish(?:ed)? date"
    r"|date|on|created)?\s*:?\s*$", re.I)
_MOD_LABEL = re.compile(
    r"^(?:last\s+)?(?:modified|updated|edited|revised|update)(?:\s+on|\s+at)?\s*:?\s*$", re.I)
_WEEKDAY = re.compile(r"^(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s*", re.I)
_CLAIM = re.compile(r"©|\(c\)|\bcopyright\b", re.I)
_RESERVED = re.compile(r"all rights reserved\.?", re.I)
_HOLDER = re.compile(
    r"(?:copyright|©|\(c\))\s*(?:©\s*)?(?:\d{4}(?:\s*[-–]\s*\d{4})?)?\s*[,.]?\s*(?P<name>.*?)"
    r"[\s,.]*(?:all rights reserved\.?)?\s*$",
    re.I,
)
_CC_URL = re.compile(r"creativecommons\.org/\S+", re.I)
_MIN_PROSE = 40


def norm(line: str) -> str:
    return _SPACE.sub(" ", line).strip()


@dataclass
class DateLine:
    kind: str  # published | modified
    raw: str  # the date as written, without its label
    parsed: ParsedDate


@dataclass
class TextPage:
    title: str | None = None
    title_suffix: str | None = None
    section: str | None = None
    authors: list[str] = field(default_factory=list)
    description: str | None = None
    published: DateLine | None = None
    modified: DateLine | None = None
    body: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    statement: str | None = None
    holder: str | None = None
    cc_links: list[str] = field(default_factory=list)


def date_line(line: str) -> DateLine | None:
    """A line that is a date, maybe labelled ("Last modified: ..."); None otherwise."""
    if len(line) > 80 or not any(ch.isdigit() for ch in line):
        return None
    p = parse_date(line)
    if p is None:
        return None
    before, after = line[: p.span[0]].strip(), line[p.span[1]:]
    if after.strip(" .,|") or len(before) > 30:
        return None
    label = _WEEKDAY.sub("", before)
    if _MOD_LABEL.match(label):
        kind = "modified"
    elif _PUB_LABEL.match(label):
        kind = "published"
    else:
        return None
    return DateLine(kind, line[p.span[0]: p.span[1]].strip(" ,"), p)


def _is_prose(line: str) -> bool:
    return len(line) >= _MIN_PROSE and len(line.split()) >= 6 and bool(_PROSE_END.search(line))


def _is_heading(line: str) -> bool:
    return (
        len(line) <= 70 and len(line.split()) <= 10 and " / " not in line and " | " not in line
        and not _PROMO.search(line) and not _STOPPER.match(line) and date_line(line) is None
        and (line[0].isalnum() or line[0] in "\"'‘“")
    )


def _short(line: str) -> bool:
    return len(line) <= 80 and len(line.split()) <= 10 and not _PROSE_END.search(line)


def parse_text_page(text: str) -> TextPage:
    """Split a page rendering into title, header, body, tags and rights."""
    raw_lines = text.splitlines()
    lines = [norm(x) for x in raw_lines]
    # Lines indented deeper than the page's own margin belong to lists (menus, link blocks).
    indents = [len(r) - len(r.lstrip()) for r in raw_lines]
    margin = min((i for i, n in zip(indents, lines, strict=True) if n), default=0)
    listed = [bool(n) and (bool(_BULLET.match(n)) or i > margin)
              for i, n in zip(indents, lines, strict=True)]
    menu = {_BULLET.sub("", n).casefold() for n, b in zip(lines, listed, strict=True) if b}
    counts: dict[str, int] = {}
    for n in lines:
        if n:
            counts[n] = counts.get(n, 0) + 1
    page = TextPage(cc_links=[m.group(0).rstrip(".,)") for n in lines for m in _CC_URL.finditer(n)])
    first = next((i for i, n in enumerate(lines) if n), None)
    if first is None:
        return page
    title_line = lines[first]
    if " | " in title_line:
        head, _, suffix = title_line.rpartition(" | ")
        if head and len(suffix) <= 60:
            page.title, page.title_suffix = head.strip(), suffix.strip()
    page.title = page.title or title_line

    body_idx = _body(lines, listed, counts)
    page.body = [lines[i] for i in body_idx]
    body_start = body_idx[0] if body_idx else len(lines)
    body_end = body_idx[-1] if body_idx else first
    _header(page, lines, listed, first, body_start)
    page.tags = _tags(lines, listed, menu, body_end)
    page.statement, page.holder = _rights(lines, body_end)
    return page


def _body(lines: list[str], listed: list[bool], counts: dict[str, int]) -> list[int]:
    """Indices of the longest run of prose paragraphs (with sub-headings between them)."""
    runs: list[list[int]] = []
    cur: list[int] = []
    gap: list[int] = []
    for i, line in enumerate(lines):
        if not line:
            continue
        if _STOPPER.match(line):
            if cur:
                runs.append(cur)
            cur, gap = [], []
            continue
        noise = listed[i] or counts[line] > 1 or bool(_PROMO.search(line))
        if not noise and _is_prose(line):
            if cur:
                cur += [g for g in gap if _is_heading(lines[g])]
            cur.append(i)
            gap = []
        elif cur and not noise:
            gap.append(i)
            if len(gap) > 2:
                runs.append(cur)
                cur, gap = [], []
    if cur:
        runs.append(cur)
    if not runs:
        return []
    return max(runs, key=lambda r: (sum(len(lines[i]) for i in r), -r[0]))


def _header(page: TextPage, lines: list[str], listed: list[bool], first: int, end: int) -> None:
    """Section, byline, standfirst and dates from the headline block(s) above the body."""
    title = (page.title or "").casefold()
    heads = [i for i in range(first + 1, end) if lines[i].casefold() == title]
    blocks = [(h + 1, min(end, h + 25)) for h in heads] or [(first + 1, end)]
    for start, stop in blocks:
        block = [i for i in range(start, stop) if lines[i] and not listed[i]]
        dated = [(i, date_line(lines[i])) for i in block]
        dated = [(i, d) for i, d in dated if d is not None]
        pubs = [(i, d) for i, d in dated if d.kind == "published"]
        if not heads:  # no headline found: the first date with a time, not the page's own date
            pubs = [(i, d) for i, d in pubs if d.parsed.clock is not None] or pubs[1:]
        if not pubs:
            continue
        at, pub = pubs[0]
        page.published = page.published or pub
        mods = [d for i, d in dated if d.kind == "modified" and i > at]
        page.modified = page.modified or (mods[0] if mods else None)
        above = [i for i in block if i < at]
        for i in above:
            if len(lines[i]) >= 60 and not _STOPPER.match(lines[i]) and not page.description:
                page.description = lines[i]
        short = [i for i in above if _short(lines[i]) and not _STOPPER.match(lines[i])]
        if short and not page.authors and short[-1] == above[-1]:
            page.authors = _authors(lines[short[-1]])
            if len(short) >= 2 and not page.section:
                page.section = lines[short[-2]]


def _authors(line: str) -> list[str]:
    line = re.sub(r"^(?:by|written by|author:?)\s+", "", line, flags=re.I)
    parts = re.split(r"\s*(?:,|&|\band\b)\s*", line)
    return [p.strip() for p in parts if p.strip()]


def _tags(lines: list[str], listed: list[bool], menu: set[str], end: int) -> list[str]:
    found: list[str] = []
    seen = 0
    for i in range(end + 1, len(lines)):
        line = lines[i]
        if not line or listed[i]:
            continue
        if _STOPPER.match(line) or seen >= 8:
            break
        seen += 1
        items = [x.strip() for x in line.split(" / ")]
        if len(items) < 2 or any(not x or len(x) > 50 or len(x.split()) > 6 for x in items):
            continue
        if any(x.casefold() in menu for x in items):
            continue  # a breadcrumb of site sections, not the article's tags
        found = items
    return found


def _rights(lines: list[str], after: int) -> tuple[str | None, str | None]:
    """The last copyright line after the body, with a following "All rights reserved" line."""
    for i in range(len(lines) - 1, after, -1):
        line = lines[i]
        if not line or not _CLAIM.search(line) or len(line) > 200:
            continue
        statement = line
        nxt = next((lines[j] for j in range(i + 1, min(i + 3, len(lines))) if lines[j]), "")
        if not _RESERVED.search(line) and _RESERVED.search(nxt) and len(nxt) <= 120:
            statement = f"{line} {nxt}"
        m = _HOLDER.search(statement)
        holder = m["name"].strip() if m and m["name"].strip() else None
        return statement, holder
    for i in range(len(lines) - 1, after, -1):
        if _RESERVED.search(lines[i]) and len(lines[i]) <= 200:
            return lines[i], None
    return None, None


def extract_text(text: str, page: Page) -> Extracted | Skip:
    """An `Extracted` for a plain-text page rendering."""
    tp = parse_text_page(text)
    if not tp.body:
        return Skip("no-text", "no run of prose paragraphs found")
    tz = page.rule.timezone if page.rule else None
    published = [Candidate(tp.published.raw, "text", tp.published.parsed)] if tp.published else []
    found_url = url_date(page.url if page.url.startswith(("http://", "https://")) else None)
    if found_url:
        published.append(Candidate(page.url, "url", found_url))
    modified = [Candidate(tp.modified.raw, "text", tp.modified.parsed)] if tp.modified else []
    publisher = (
        page.hint_publisher or tp.title_suffix or tp.holder
        or (page.rule.publisher if page.rule else None)
    )
    statements = [(tp.statement, True)] if tp.statement else []
    return page.extracted(
        text="\n\n".join(tp.body),
        title=tp.title,
        language=language_tag(page.hints.get("language")),
        authors=unique(tp.authors),
        publisher=publisher,
        section=tp.section,
        tags=unique(tp.tags),
        description=tp.description,
        dates=choose(published, modified, page.capture, tz),
        license=find_license(None, statements, page.rule, tp.cc_links),
        extractor="warcpack-textpage",
    )
