"""Page dates: parse what pages write, attach a time zone honestly, pick published and modified.

Rules the corpus promises:
- published and modified are kept apart: each comes only from sources labelled for it;
- an instant (RFC 3339 with offset) is given only when a time *and* an offset are known: from the
  page itself, or from the site config's IANA zone for that date (DST-correct);
- a time without any zone gives the day only (the time is kept in `raw`);
- `*_day` is the calendar day in the publisher's local time;
- a date after the capture is impossible and is dropped, as is a modification before publication.

The text parser covers ISO 8601, common English forms ("06 December, 2024, 05:55 pm",
"Dec. 6, 2024 5:55 PM EST", "Fri, 06 Dec 2024 17:55:00 +0600"), the European numeric form
("16.08.2019, 07:30 Uhr": dotted dates are day-first wherever they are written) and day-first
dates with month names in German, French, Spanish, Portuguese, Italian and Dutch ("16. August
2019", "10 décembre 2019", "22 de janeiro de 2018"); htmldate covers the rest. Slashed numeric
dates ("05/10/2018") are not read: day-first and month-first writers both use them.

How a published date is chosen when sources disagree is `choose`'s docstring.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}
# Day-first month names of other languages; kept apart from MONTHS, which other code reads as
# "an English month word" (a byline "Mai Nguyen" is a name, not a date).
FOREIGN_MONTHS = {
    # German
    "januar": 1, "jänner": 1, "jän": 1, "februar": 2, "feber": 2, "märz": 3, "maerz": 3,
    "mär": 3, "mai": 5, "juni": 6, "juli": 7, "oktober": 10, "okt": 10, "dezember": 12, "dez": 12,
    # French
    "janvier": 1, "janv": 1, "février": 2, "fevrier": 2, "févr": 2, "mars": 3, "avril": 4,
    "avr": 4, "juin": 6, "juillet": 7, "juil": 7, "août": 8, "aout": 8, "septembre": 9,
    "octobre": 10, "novembre": 11, "décembre": 12, "decembre": 12, "déc": 12,
    # Spanish, Portuguese, Italian
    "enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7,
    "agosto": 8, "septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11,
    "diciembre": 12, "janeiro": 1, "fevereiro": 2, "março": 3, "maio": 5, "junho": 6,
    "julho": 7, "setembro": 9, "outubro": 10, "dezembro": 12, "gennaio": 1, "febbraio": 2,
    "aprile": 4, "maggio": 5, "giugno": 6, "luglio": 7, "settembre": 9, "ottobre": 10,
    "dicembre": 12,
    # Dutch
    "januari": 1, "februari": 2, "maart": 3, "mei": 5, "augustus": 8,
}
_ALL_MONTHS = {**FOREIGN_MONTHS, **MONTHS}
# Only abbreviations with one meaning (IST, BST, CST are each used for several zones).
ZONE_ABBR = {
    "z": 0, "utc": 0, "gmt": 0, "ut": 0, "wet": 0, "west": 60, "cet": 60, "cest": 120,
    "eet": 120, "eest": 180, "msk": 180, "est": -300, "edt": -240, "pst": -480, "pdt": -420,
    "mst": -420, "mdt": -360, "akst": -540, "akdt": -480, "hst": -600, "jst": 540, "kst": 540,
    "hkt": 480, "sgt": 480, "aest": 600, "aedt": 660, "nzst": 720, "nzdt": 780,
}
# The easternmost zone is UTC+14: no local calendar day anywhere is later than capture + 14 h.
MAX_AHEAD = timedelta(hours=14)

_MONTH = r"(?P<mon>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_ANY_MONTH = r"(?P<mon>" + "|".join(sorted(_ALL_MONTHS, key=len, reverse=True)) + r")\b\.?"
_WEEKDAY = r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?"
_TIME = (
    r"(?:(?:\s*[,\-–|@T]?\s*|\s+(?:at|um|à|às|alle|a las)\s+)"
    r"(?P<h>\d{1,2})[:.](?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,]\d+)?)?"
    r"(?:\s*(?P<ampm>[ap])\.?\s?m\.?)?"
    r"(?:\s*\(?(?:(?P<abbr>[A-Za-z]{1,5})\b)?\s*(?P<off>[+-]\d{1,2}(?::?\d{2})?)?\)?)?)?"
)
_DMY = re.compile(
    _WEEKDAY + r"(?<!\d)(?P<d>\d{1,2})(?:st|nd|rd|th|er|º)?\.?\s*(?:of\s+|de\s+)?" + _ANY_MONTH
    + r",?\s+(?:de\s+)?(?P<y>\d{4})\b,?" + _TIME, re.I,
)
_EU = re.compile(
    r"(?<![\w.])(?P<d>\d{1,2})\.\s?(?P<m>\d{1,2})\.\s?(?P<y>(?:1[89]|2\d)\d{2})(?![\d.]\d)" + _TIME
)
_MDY = re.compile(
    _WEEKDAY + _MONTH + r"\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y>\d{4})\b,?" + _TIME, re.I
)
_ISO = re.compile(
    r"(?<!\d)(?P<y>\d{4})[-/](?P<m>\d{1,2})[-/](?P<d>\d{1,2})"
    r"(?:(?:T|\s+)(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,]\d+)?)?"
    r"\s*(?P<abbr>Z|UTC|GMT)?\s*(?P<off>[+-]\d{1,2}(?::?\d{2})?)?)?(?![\d:])",
    re.I,
)
# /2019/11/18/ (a path segment each: "/2023/10/3-fragen" is a month folder and a slug) or an
# ISO day with two-digit month and day anywhere in the path ("/story/2019-11-19/slug").
_URL_DATE = re.compile(
    r"/(?P<y>(?:19|20)\d{2})/(?P<m>0?[1-9]|1[0-2])/(?P<d>0?[1-9]|[12]\d|3[01])(?:[/.]|$)"
    r"|(?<![\d])(?P<y2>(?:19|20)\d{2})-(?P<m2>0[1-9]|1[0-2])-(?P<d2>0[1-9]|[12]\d|3[01])(?!\d)"
)


# Words a page writes before a date to say what it is. "Stand" ("as of") dates the version a
# German page shows: the publication, unless the page also says when it was first published
# or that it was updated, so it ranks after an explicit publication label.
_PUB_WORDS = (
    r"ver(?:ö|oe)ffentlicht|erschienen|publiziert|erstellt|datum|(?:first\s+)?published|posted"
    r"|publish(?:ed)?\s+date|date\s+published|publi(?:é|e)e?|mis\s+en\s+ligne|publicad[oa]"
    r"|pubblicat[oa]|gepubliceerd|geplaatst"
)
_VERSION_WORDS = r"stand"
_MOD_WORDS = (
    r"(?:zuletzt\s+)?aktualisiert|ge(?:ä|ae)ndert|letzte\s+(?:ä|ae)nderung"
    r"|(?:last\s+)?(?:updated|modified|edited|revised)|update|mis\s+(?:à|a)\s+jour|modifi(?:é|e)e?"
    r"|actualizad[oa]|atualizad[oa]|aggiornat[oa]|bijgewerkt"
)
_LINK = r"(?:\s+(?:am|on|at|le|el|em|il|op|den|vom|:))?\s*:?\s*"
_LABELS = {
    kind: re.compile(rf"(?<!\w)(?:{words}){_LINK}$", re.I)
    for kind, words in (("modified", _MOD_WORDS), ("published", _PUB_WORDS),
                        ("version", _VERSION_WORDS))
}


HAS_LABEL = re.compile(rf"(?<!\w)(?:{_PUB_WORDS}|{_MOD_WORDS}|{_VERSION_WORDS})(?!\w)", re.I)


def label_kind(before: str) -> str | None:
    """"published", "modified" or "version" when the text just before a date is such a label
    ("Veröffentlicht am", "Updated:", "Stand:"), else None."""
    tail = before.strip()[-40:]
    for kind, rx in _LABELS.items():
        if rx.search(tail):
            return kind
    return None


@dataclass(frozen=True)
class ParsedDate:
    """A date as a page wrote it: day, maybe a wall-clock time, maybe a UTC offset."""

    day: date
    clock: time | None = None
    offset: timedelta | None = None
    precision: str = "day"  # day | minute | second
    span: tuple[int, int] = (0, 0)  # where the date was found in the input string


@dataclass(frozen=True)
class Candidate:
    """One date found in a page, with where it was found."""

    raw: str
    source: str
    parsed: ParsedDate
    weak: bool = False  # a guess (htmldate): dropped if it may be the other kind of date


@dataclass(frozen=True)
class Resolved:
    """A candidate placed in time: instant (if known), local day and the row's detail object."""

    instant: datetime | None
    day: date
    detail: dict[str, str | None]

    def iso(self) -> str | None:
        return rfc3339(self.instant) if self.instant else None


def rfc3339(value: datetime) -> str:
    out = value.isoformat(timespec="seconds")
    return out[:-6] + "Z" if out.endswith("+00:00") else out


def _offset(abbr: str | None, off: str | None) -> timedelta | None:
    if off:
        sign = -1 if off[0] == "-" else 1
        digits = off[1:].replace(":", "")
        hours, minutes = (int(digits[:-2]), int(digits[-2:])) if len(digits) > 2 else (
            int(digits), 0)
        if hours > 14 or minutes > 59:
            return None
        return sign * timedelta(hours=hours, minutes=minutes)
    if abbr:
        mins = ZONE_ABBR.get(abbr.lower())
        return None if mins is None else timedelta(minutes=mins)
    return None


def _build(m: re.Match[str], month: int) -> ParsedDate | None:
    g = m.groupdict()
    try:
        day = date(int(g["y"]), month, int(g["d"]))
    except ValueError:
        return None
    if g.get("h") is None:
        return ParsedDate(day, precision="day", span=m.span())
    hour, minute = int(g["h"]), int(g["mi"])
    ampm = (g.get("ampm") or "").lower()
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm == "p" else 0)
    second = int(g["s"]) if g.get("s") else 0
    try:
        clock = time(hour, minute, second)
    except ValueError:
        return None
    abbr, off = g.get("abbr"), g.get("off")
    offset = _offset(abbr, off)
    if abbr and abbr.lower() in {"at", "on", "am", "pm"}:
        offset = _offset(None, off)
    span = m.span()
    if abbr and offset is None and not off:
        span = (span[0], m.start("abbr"))  # unknown zone word: not part of the date
    precision = "second" if g.get("s") else "minute"
    return ParsedDate(day, clock, offset, precision, span)


def parse_date(text: str | None) -> ParsedDate | None:
    """The first date in a string (the forms in the module docstring), or None."""
    if not text:
        return None
    s = text.strip()[:200]
    found: list[ParsedDate] = []
    m = _ISO.search(s)
    if m:
        p = _build(m, int(m["m"])) if 1 <= int(m["m"]) <= 12 else None
        if p:
            found.append(p)
    m = _EU.search(s)
    if m and 1 <= int(m["m"]) <= 12:
        p = _build(m, int(m["m"]))
        if p:
            found.append(p)
    for rx in (_DMY, _MDY):
        m = rx.search(s)
        if m:
            p = _build(m, _ALL_MONTHS[m["mon"].lower().rstrip(".")])
            if p:
                found.append(p)
    if not found:
        return _rfc2822(s)
    return min(found, key=lambda p: (p.span[0], -p.span[1]))


def _rfc2822(s: str) -> ParsedDate | None:
    try:
        dt = parsedate_to_datetime(s)
    except (TypeError, ValueError, IndexError):
        return None
    offset = dt.utcoffset() if dt.tzinfo else None
    return ParsedDate(dt.date(), dt.time().replace(microsecond=0), offset, "second", (0, len(s)))


def url_date(url: str | None) -> ParsedDate | None:
    """A /YYYY/MM/DD/ or YYYY-MM-DD date in a URL path (a day, publication by convention)."""
    if not url:
        return None
    m = _URL_DATE.search(urlsplit(url).path)
    if not m:
        return None
    y, mo, d = (m["y"], m["m"], m["d"]) if m["y"] else (m["y2"], m["m2"], m["d2"])
    try:
        return ParsedDate(date(int(y), int(mo), int(d)))
    except ValueError:
        return None


def http_date(value: str | None) -> str | None:
    """An HTTP date header (e.g. Last-Modified) as RFC 3339 UTC, or None if absent or invalid."""
    if not value:
        return None
    try:
        dt = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if dt.tzinfo is None:  # "-0000" or no zone: HTTP dates are always GMT
        dt = dt.replace(tzinfo=UTC)
    return rfc3339(dt.astimezone(UTC))


def capture_instant(warc_date: str) -> datetime:
    """WARC-Date as an aware UTC datetime."""
    text = warc_date.strip()
    if len(text) == 10:
        text += "T00:00:00Z"
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def latest_day(capture: datetime, tz: str | None) -> date:
    """The latest calendar day a page captured then can show: in its zone, else anywhere."""
    if tz:
        return capture.astimezone(ZoneInfo(tz)).date()
    return (capture.astimezone(UTC) + MAX_AHEAD).date()


def _fmt_offset(delta: timedelta) -> str:
    total = int(delta.total_seconds() // 60)
    sign = "-" if total < 0 else "+"
    return f"{sign}{abs(total) // 60:02d}:{abs(total) % 60:02d}"


def resolve(c: Candidate, tz: str | None) -> Resolved:
    """Place a candidate in time, with the page's offset or else the site's zone."""
    p = c.parsed
    detail: dict[str, str | None] = {
        "raw": c.raw, "source": c.source, "precision": p.precision,
        "timezone": None, "timezone_source": None,
    }
    if p.clock is None:
        return Resolved(None, p.day, detail)
    naive = datetime.combine(p.day, p.clock)
    if p.offset is not None:
        instant = naive.replace(tzinfo=timezone(p.offset))
        detail.update(timezone=_fmt_offset(p.offset), timezone_source="page")
        # A UTC stamp is a machine's, not the newsroom's: its day is taken in the site's zone.
        local = instant.astimezone(ZoneInfo(tz)) if tz and not p.offset else instant
        return Resolved(instant, local.date(), detail)
    if tz:
        instant = naive.replace(tzinfo=ZoneInfo(tz))
        instant = instant.astimezone(timezone(instant.utcoffset() or timedelta(0)))
        detail.update(timezone=tz, timezone_source="site-config")
        return Resolved(instant, p.day, detail)
    return Resolved(None, p.day, detail)


_EARLIEST = date(1800, 1, 1)
_SENTINELS = {date(1970, 1, 1), date(1900, 1, 1)}  # "no date" written as a zero timestamp


def _after(r: Resolved, capture: datetime, tz: str | None) -> bool:
    """Impossible for a page captured at `capture`: later than it, or a placeholder."""
    if r.day < _EARLIEST or r.day in _SENTINELS:
        return True
    if r.instant is not None:
        return r.instant > capture
    return r.day > latest_day(capture, tz)


def _before(later: Resolved, earlier: Resolved) -> bool:
    """True if `later` is strictly before `earlier` (instants when both known, else days)."""
    if later.instant is not None and earlier.instant is not None:
        return later.instant < earlier.instant
    return later.day < earlier.day


@dataclass(frozen=True)
class PageDates:
    published: Resolved | None
    modified: Resolved | None

    def fields(self) -> dict[str, object]:
        """The Extracted fields for these dates."""
        pub, mod = self.published, self.modified
        return {
            "date_published": pub.iso() if pub else None,
            "date_modified": mod.iso() if mod else None,
            "date_published_day": pub.day.isoformat() if pub else None,
            "date_modified_day": mod.day.isoformat() if mod else None,
            "dates": {
                **({"published": pub.detail} if pub else {}),
                **({"modified": mod.detail} if mod else {}),
            },
        }


# Where a candidate comes from, by its `source`: structured data the page declares, a date the
# page shows its reader, htmldate's guess, the URL.
_STRUCTURED = ("json-ld", "meta:", "microdata", "time-element")
_GUESS = ("htmldate",)


def group_of(source: str) -> str:
    """structured | visible | guess | url: sources of one group are not independent witnesses."""
    if source == "url":
        return "url"
    if source.startswith(_STRUCTURED):
        return "structured"
    if source in _GUESS:
        return "guess"
    return "visible"


def choose(
    published: list[Candidate],
    modified: list[Candidate],
    capture: datetime,
    tz: str | None,
) -> PageDates:
    """Published and modified dates from candidates listed in the caller's order of trust.

    Candidates that are impossible (after the capture, placeholders) are dropped first. Then:
    - a weak published guess on or after the day of a labelled modified date is dropped:
      htmldate falls back to modified dates when it finds no published one, and a modified date
      must never be reported as published;
    - published: the most trusted candidate, unless the other *group* of sources disagrees with
      it (structured data against the date the page shows its reader) and more other witnesses
      (`_witness`) agree with that other date to the day; ties keep the order of trust;
    - a URL date two or more days *earlier* than the chosen date wins: the address was minted
      when the article first appeared, so a later stamp is a re-publication (the corpus reports
      the original publication, as htmldate's `original_date` does);
    - modified: the most trusted candidate that is not before publication; a weak guess on the
      published day or before says nothing new and is dropped.
    """
    mod_first = _first(modified, capture, tz)
    labelled_mod_day = mod_first.day if mod_first and not _is_weak(modified, mod_first) else None
    usable: list[tuple[Candidate, Resolved]] = []
    for c in published:
        r = resolve(c, tz)
        if _after(r, capture, tz):
            continue
        if c.weak and labelled_mod_day is not None and r.day >= labelled_mod_day:
            continue
        usable.append((c, r))
    pub = _pick(usable)
    mod = None
    for c in modified:
        r = resolve(c, tz)
        if _after(r, capture, tz) or (pub is not None and _before(r, pub)):
            continue
        if c.weak and pub is not None and (r.day == pub.day or _before(r, pub)):
            continue  # a guess that is not later than publication says nothing new
        mod = r
        break
    return PageDates(pub, mod)


def disputed(published: list[Candidate]) -> bool:
    """True when structured data and the page's visible text disagree on the day of
    publication: a further witness, such as htmldate's guess, may settle it."""
    firsts: dict[str, date] = {}
    for c in published:
        firsts.setdefault(group_of(c.source), c.parsed.day)
    days = {firsts[g] for g in ("structured", "visible") if g in firsts}
    return len(days) > 1


def _witness(source: str) -> str:
    """Each structured declaration is a witness; the page's visible text is one, however many
    ways it was read (a labelled line beside the headline is found both ways)."""
    return "visible" if group_of(source) == "visible" else source


def _support(pick: tuple[Candidate, Resolved], usable: list[tuple[Candidate, Resolved]]) -> int:
    """How many other witnesses agree with `pick` to the day."""
    own = _witness(pick[0].source)
    return len({_witness(o.source) for o, x in usable
                if _witness(o.source) != own and x.day == pick[1].day})


def _pick(usable: list[tuple[Candidate, Resolved]]) -> Resolved | None:
    if not usable:
        return None
    best = usable[0]
    group = group_of(best[0].source)
    if group in ("structured", "visible"):
        other = "visible" if group == "structured" else "structured"
        rival = next((u for u in usable if group_of(u[0].source) == other), None)
        if rival is not None and rival[1].day != best[1].day and (
            _support(rival, usable) > _support(best, usable)
        ):
            best = rival
    url = next((u for u in usable if u[0].source == "url"), None)
    if url is not None and (best[1].day - url[1].day).days >= 2:
        best = url
    return best[1]


def _first(cands: list[Candidate], capture: datetime, tz: str | None) -> Resolved | None:
    for c in cands:
        r = resolve(c, tz)
        if not _after(r, capture, tz):
            return r
    return None


def _is_weak(cands: list[Candidate], r: Resolved) -> bool:
    return any(c.weak and c.raw == r.detail["raw"] and c.source == r.detail["source"]
               for c in cands)
