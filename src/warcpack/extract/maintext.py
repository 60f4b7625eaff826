"""Main text of an HTML page: two trafilatura passes and the rules that reconcile them.

trafilatura's balanced pass keeps the whole article but also what sits at its edges (headline,
standfirst, newsletter boxes, related links, a second copy of the article); its precision pass
trims those edges but sometimes drops words inside paragraphs (link text) or whole paragraphs.
Each rule below is about page layout in general, not any site:

1. Repeats: a paragraph is kept as often as the precision pass keeps it (at least once); a
   page template that renders the article twice gives one copy, a recipe that repeats a line
   keeps every copy.
2. Blocks: a balanced paragraph that the precision pass splits into two or more of its own
   paragraphs (a table cell holding the whole article) is replaced by those paragraphs.
3. Edges: the text runs from the first to the last balanced paragraph the precision pass also
   found; what lies outside is boilerplate. Inner paragraphs are kept, so a short heading or a
   list item the precision pass dropped survives. If that span would lose four fifths of the
   text, the precision pass missed the article and the balanced text is kept whole.
4. Head: the article starts after its headline. The headline (a paragraph equal to a title the
   page declares) is dropped with whatever little comes before it, and so are leading lines
   that only carry a date, a byline or a reading time.
5. Promotions: lines that only point elsewhere ("Related: ...", "READ MORE: ...") are dropped.
6. Tail: a closing section heading ("Comments", "Tags", "You may also like") followed only by
   short lines or comma-separated lists, and closing calls to action ("Click here to
   subscribe"), are cut.
7. Split body: when the article's last paragraph sits in a container whose class recurs later
   in the page, in a parent of the same class as its own (a body cut in two by an
   advertisement row), the prose paragraphs of those later containers are the rest of the
   article and are appended.

Both passes first run in trafilatura's `fast` mode, without its comparison against readability
and jusText: that comparison exists for pages where trafilatura's own heuristics miss the
article, and doubles the cost. When the passes disagree on where the article is (the precision
pass finds nothing, or confirms under a fifth of the balanced text), both run again with it;
when they agree on little (under 200 words) while the page's paragraphs hold half as much again,
the balanced pass runs again with it, and if it then finds half as much again, the precision
pass does too.
In FAST mode (`warcpack build --text-mode fast`) only the balanced pass runs, in fast mode
(again with the comparison if it finds nothing), and only rules 4 to 7 apply: about half the
cost of the extraction, for some precision at the article's edges.
All passes read copies of one tree parsed as trafilatura's own loader parses (with another
parser's options trafilatura sometimes finds nothing where it finds the article in the same
page); see `warcpack.extract.tree`.

A JSON-LD `articleBody` is not used as the text: where it agrees with the extraction it adds
nothing, and where it differs it is usually the worse of the two (image captions and embeds
run in, paragraph breaks lost, or cut short), so it cannot settle a disagreement either.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from copy import copy
from functools import lru_cache

from lxml.html import HtmlElement
from trafilatura import bare_extraction
from trafilatura.settings import Extractor

from warcpack.extract.dates import parse_date
from warcpack.extract.structured import clean
from warcpack.textmode import ACCURATE, FAST

_TOKEN = re.compile(r"\w+")
_MIN_REPEAT = 5  # tokens: shorter lines ("Share", "-") repeat legitimately
_CONFIRM = 0.6  # share of a paragraph's word trigrams the precision pass must also have
_KEEP_SPAN = 0.2  # the edge trim may not keep less than this share of the balanced text
_LITTLE = 200  # tokens: a fast balanced pass finding less may have missed the article...
_GROWN = 1.5  # ...if the page's <p> text, then the compared pass, hold this much more
_BLOCK = 200  # characters: shorter paragraphs are not blocks holding several...
_MAX_BLOCKS = 50  # ...and a page with more candidates than this is not one table cell
_HEAD_LINES = 6  # the headline is looked for among the first paragraphs...
_HEAD_SHARE = 0.15  # ...with at most this share of the text before it
_SHORT_LINE = 14  # tokens: a date, byline or reading-time line is no longer
_TAIL_LINES = 12  # the closing section is looked for among the last paragraphs
_TAIL_SHORT = 25  # tokens: lines of a closing section (tags, links) are no longer

_BYLINE = re.compile(r"^(?:by|von|par|por|di|door|de)\s+\S", re.I)
_READING = re.compile(
    r"\b(?:\d+\s*(?:min(?:ute)?s?|minuto?s?|minuten)\b(?:\s*(?:read|de leitura|lesezeit"
    r"|de lecture|de lectura|di lettura))?|reading time|tempo de leitura|lesezeit"
    r"|temps de lecture|tiempo de lectura)",
    re.I,
)
_LOOSE_DATE = re.compile(r"(?<!\d)\d{1,2}[./-]\d{1,2}[./-](?:19|20)\d{2}(?!\d)")
_POINTER = re.compile(
    r"^\W*(?:related(?: post| article| story)?s?|read more|see more|more|also|also read|read also"
    r"|see also|recommended|watch|listen|lesen sie auch|mehr zum thema|à lire aussi|lire aussi"
    r"|voir aussi|leia também|leia mais|leggi anche|lee también)\s*:",
    re.I,
)
_SECTION = re.compile(
    r"^(?:related(?: news| stories| articles| posts| content| topics)?|top stories|top news"
    r"|most (?:viewed|read|popular|shared)|more (?:videos|stories|news|from)\b.*|comments?"
    r"|\d+ comments?|leave a (?:comment|reply)|you (?:may|might) also like|also read"
    r"|read (?:more|next)|recommended(?: for you)?|trending(?: now)?|popular(?: now)?"
    r"|editor'?s picks?|share(?: this)?(?: article| story| post)?|advertisement|sponsored"
    r"|follow us|newsletter|sign up|tags?|tagged(?: with)?|filed under|keywords|topics"
    r"|schlagw(?:ö|oe)rter|themen|mehr zum thema|weitere artikel|lesen sie auch|kommentare"
    r"|das k(?:ö|oe)nnte sie auch interessieren|voir aussi|(?:à )?lire aussi|commentaires"
    r"|leia também|comentários|comentarios|leggi anche|commenti)\s*:?$",
    re.I,
)
_CALL = re.compile(
    r"google news|follow (?:us|our|@)|subscribe (?:to|now)|sign up (?:for|to)|click here"
    r"|download (?:our|the) app|whatsapp channel|telegram channel|join our|keep updated",
    re.I,
)
_SPLIT_MIN = 2  # paragraphs a later container must hold to continue the article
_SPLIT_PROSE = 80  # characters: a continuing paragraph is prose, not a caption or a link


@lru_cache(maxsize=8192)
def _words(text: str) -> tuple[str, ...]:
    """Lowercase words (memoised: every rule compares the same paragraphs)."""
    return tuple(w.casefold() for w in _TOKEN.findall(text))


@lru_cache(maxsize=8192)
def _key(text: str) -> str:
    return " ".join(_words(text))


@lru_cache(maxsize=8192)
def _trigrams(words: tuple[str, ...]) -> frozenset[tuple[str, ...]]:
    return frozenset(tuple(words[i:i + 3]) for i in range(max(1, len(words) - 2)))


def _paragraphs(text: str | None) -> list[str]:
    return [p.strip() for p in (text or "").splitlines() if p.strip()]


def _size(paragraphs: Iterable[str]) -> int:
    return sum(len(_words(p)) for p in paragraphs)


@lru_cache(maxsize=4)
def _options(fast: bool, favor_precision: bool) -> Extractor:
    """A pass's settings, made once: trafilatura reads eight values from its configuration for
    every set of settings it makes (0.2% of a fast extraction)."""
    return Extractor(output_format="python", fast=fast, precision=favor_precision,
                     comments=False, tables=True, dedup=False, with_metadata=False)


def _pass(tree: HtmlElement, url: str | None, fast: bool = False,
          favor_precision: bool = False) -> list[str]:
    options = copy(_options(fast, favor_precision))  # trafilatura keeps the URL in its settings
    options.url = url
    options.source = url and url.encode("utf-8", "replace").decode("utf-8")  # as it makes it
    doc = bare_extraction(tree, options=options)  # reads a copy of the tree
    return _paragraphs(getattr(doc, "text", None) if doc is not None else None)


def _drop_repeats(balanced: list[str], precise: list[str]) -> list[str]:
    """Rule 1: no paragraph more often than the precision pass has it (at least once)."""
    allowed = Counter(_key(p) for p in precise)
    seen: Counter[str] = Counter()
    out = []
    for p in balanced:
        k = _key(p)
        seen[k] += 1
        if len(k.split()) >= _MIN_REPEAT and seen[k] > max(1, allowed[k]):
            continue
        out.append(p)
    return out


@lru_cache(maxsize=4)
def _found_by(precise: tuple[str, ...]) -> tuple[frozenset[str], frozenset[tuple[str, ...]]]:
    """The precision pass's paragraphs and word trigrams (memoised: asked twice per page)."""
    grams: set[tuple[str, ...]] = set()
    for p in precise:
        grams |= _trigrams(_words(p))
    return frozenset(_key(p) for p in precise), frozenset(grams)


def _confirmed(balanced: list[str], precise: list[str]) -> list[bool]:
    """Which balanced paragraphs the precision pass also found (whole, or most of their words
    in order: it may have dropped a link's text inside them)."""
    keys, grams = _found_by(tuple(precise))
    out = []
    for p in balanced:
        words = _words(p)
        if not words:
            out.append(False)
        elif " ".join(words) in keys:
            out.append(True)
        else:
            own = _trigrams(words)
            out.append(len(words) >= 3 and len(own & grams) >= _CONFIRM * len(own))
    return out


def _split_blocks(
    balanced: list[str], confirmed: list[bool], precise: list[str]
) -> tuple[list[str], list[bool]]:
    """Rule 2: a block the precision pass cut into paragraphs is taken as it cut it."""
    keys = {_key(p) for p in precise}
    padded = [(q, f" {_key(q)} ") for q in precise if _key(q)]
    blocks = [p for p in balanced if len(p) >= _BLOCK and _key(p) not in keys]
    if not blocks or len(blocks) > _MAX_BLOCKS:  # a page of many is no table layout
        return balanced, confirmed
    paragraphs: list[str] = []
    flags: list[bool] = []
    for p, ok in zip(balanced, confirmed, strict=True):
        k = _key(p)
        inside = [] if k in keys or len(p) < _BLOCK else [q for q, pk in padded if pk in f" {k} "]
        if len(inside) >= 2 and sum(len(_key(q)) for q in inside) >= 0.5 * len(k):
            paragraphs += inside
            flags += [True] * len(inside)
        else:
            paragraphs.append(p)
            flags.append(ok)
    return paragraphs, flags


def _is_date_line(p: str) -> bool:
    if len(_TOKEN.findall(p)) > _SHORT_LINE:
        return False
    return bool(_LOOSE_DATE.search(p) or parse_date(p))


def _trim_head(paragraphs: list[str], headlines: set[str]) -> list[str]:
    """Rule 4: the article starts after its headline and its date, byline, reading-time lines."""
    def is_headline(p: str) -> bool:
        k = _key(p)
        return k in headlines or (len(k) > 10 and any(t.startswith(k) for t in headlines))

    total = _size(paragraphs)
    for i, p in enumerate(paragraphs[:_HEAD_LINES]):
        if is_headline(p) and _size(paragraphs[:i]) <= _HEAD_SHARE * total:
            paragraphs = paragraphs[i + 1:]
            break
    while paragraphs:
        first = paragraphs[0]
        short = len(_TOKEN.findall(first)) <= 8
        if not (is_headline(first) or _is_date_line(first) or (short and (
                _BYLINE.match(first) or _READING.search(first)))):
            break
        paragraphs = paragraphs[1:]
    return paragraphs


def _trim_tail(paragraphs: list[str]) -> list[str]:
    """Rule 6: a closing section of short lines, and closing calls to action."""
    def heading(p: str) -> bool:
        return bool(_SECTION.match(p.strip(" -–|•·")))

    def junk(p: str) -> bool:
        return (heading(p) or bool(_CALL.search(p))) and len(_TOKEN.findall(p)) <= 30

    def listing(p: str) -> bool:  # "a, b, c": tags, links
        items = [x for x in re.split(r"\s*[,|·•;]\s*", p) if x]
        return len(items) >= 3 and all(len(_TOKEN.findall(x)) <= 6 for x in items)

    cut = len(paragraphs)
    for i in range(len(paragraphs) - 1, max(0, len(paragraphs) - _TAIL_LINES), -1):
        if heading(paragraphs[i]) and all(
            len(_TOKEN.findall(q)) <= _TAIL_SHORT or junk(q) or listing(q)
            for q in paragraphs[i + 1:]
        ):
            cut = i
    paragraphs = paragraphs[:cut]
    while paragraphs and junk(paragraphs[-1]):
        paragraphs = paragraphs[:-1]
    return paragraphs


def _continuation(tree: HtmlElement, paragraphs: list[str]) -> list[str]:
    """Rule 7: paragraphs of later containers of the same class as the last paragraph's."""
    if not paragraphs:
        return []
    last = _key(paragraphs[-1])[:200]
    if len(last) < 40:
        return []
    anchor = None
    probe = _words(paragraphs[-1])[:3]
    for p in tree.iter("p"):
        text = p.text_content()
        if probe[0] in text.casefold() and _key(text).startswith(last[:80]):
            anchor = p
            break
    container = anchor.getparent() if anchor is not None else None
    if container is None or not container.get("class"):
        return []
    cls, tag = container.get("class"), container.tag
    parent = container.getparent()
    if re.search(r"comment|related|footer|sidebar", cls, re.I) or parent is None:
        return []
    known = {_key(p) for p in paragraphs}
    out: list[str] = []
    after = False
    for el in tree.iter(tag):
        if el is container:
            after = True
            continue
        up = el.getparent()
        if not after or el.get("class") != cls or up is None or up is parent or (
            up.tag, up.get("class")) != (parent.tag, parent.get("class")):
            continue  # the same template: same class, parents of the same class
        found = [clean(p.text_content()) or "" for p in el.iter("p")]
        found = [t for t in found if len(t) >= _SPLIT_PROSE and _key(t) not in known]
        links = sum(len(a.text_content()) for a in el.iter("a"))
        if len(found) >= _SPLIT_MIN and links < 0.3 * sum(len(t) for t in found):
            out += found
    return out


def _paragraph_words(tree: HtmlElement) -> int:
    """Words in the page's <p> elements: how much text a page could hold at most, roughly."""
    return sum(len(_TOKEN.findall(p.text_content())) for p in tree.iter("p"))


def _agreeing(balanced: list[str], precise: list[str]) -> bool:
    """Do the passes agree on where the article is? The precision pass found something, and
    the balanced paragraphs it confirms hold at least a fifth of the balanced text."""
    if not precise:
        return False
    confirmed = _confirmed(balanced, precise)
    return _size(p for p, ok in zip(balanced, confirmed, strict=True) if ok) >= (
        _KEEP_SPAN * _size(balanced))


def _reconcile(balanced: list[str], precise: list[str]) -> list[str]:
    """Rules 1-3: one copy, blocks as the precision pass cut them, edges trimmed."""
    if not precise:
        return balanced
    balanced = _drop_repeats(balanced, precise)
    confirmed = _confirmed(balanced, precise)
    balanced, confirmed = _split_blocks(balanced, confirmed, precise)
    marks = [i for i, ok in enumerate(confirmed) if ok]
    if marks:
        span = balanced[marks[0]: marks[-1] + 1]
        if _size(span) >= _KEEP_SPAN * _size(balanced):
            return span
    return balanced


def main_text(tree: HtmlElement, url: str | None, headlines: set[str], mode: str = ACCURATE) -> str:
    """The article's paragraphs, separated by blank lines ("" if the page has none).

    `tree` is the page as `tree.load_html` parses it (read, not modified); `headlines` are
    the comparable forms (lowercase words joined by spaces) of the titles the page declares.
    `mode` FAST reads one balanced pass and applies the rules that need no second pass (4 to
    7): about half the cost, for a little less precision.
    """
    balanced = _pass(tree, url, fast=True)
    if mode == FAST:
        balanced = balanced or _pass(tree, url)  # the compared pass, as ACCURATE falls back
        return _finish(tree, balanced, balanced, headlines) if balanced else ""
    precise = _pass(tree, url, favor_precision=True, fast=True) if balanced else []
    if not _agreeing(balanced, precise):
        balanced = _pass(tree, url) or balanced
        precise = _pass(tree, url, favor_precision=True)
    elif _size(balanced) < _LITTLE and _paragraph_words(tree) > _GROWN * _size(balanced):
        compared = _pass(tree, url)
        if _size(compared) > _GROWN * _size(balanced):
            balanced, precise = compared, _pass(tree, url, favor_precision=True)
    if not balanced:
        return ""
    return _finish(tree, _reconcile(balanced, precise), balanced, headlines)


def _finish(tree: HtmlElement, paragraphs: list[str], balanced: list[str],
            headlines: set[str]) -> str:
    """Rules 4 to 7, on the reconciled paragraphs (or, in FAST mode, the balanced pass's)."""
    paragraphs = _trim_head(paragraphs, headlines)
    paragraphs = [p for p in paragraphs if not (_POINTER.match(p) and len(p) <= 200)]
    paragraphs = _trim_tail(paragraphs) or balanced  # rules for edges, not for a whole page
    paragraphs += _continuation(tree, paragraphs)
    return "\n\n".join(paragraphs)
