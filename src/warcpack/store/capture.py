"""`warcpack capture`: fetch pages over HTTP(S) into one new WARC file of the store.

Every exchange is archived as the server sent it (see http_client): a response record (or a
revisit record when the payload is unchanged since the URL's latest capture) followed by the
request record, linked both ways with WARC-Concurrent-To. robots.txt fetches and redirect hops
are archived the same way. The file is staged inside a store transaction and committed only when
the whole call is done, so an interrupted capture leaves the store as it was.

A body cut short by the size cap, a timeout or a dropped connection is still stored, marked
`WARC-Truncated: length|time|disconnect` as the WARC 1.1 standard provides, and reported as
"truncated". Truncated records are never deduplicated against.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO
from urllib.parse import urljoin

from rich.console import Console
from rich.table import Table
from warcio.statusandheaders import StatusAndHeaders, StatusAndHeadersParser
from warcio.warcwriter import WARCWriter

from warcpack import __version__
from warcpack.store.http_client import (
    DEFAULT_USER_AGENT,
    AddressRefused,
    FetchError,
    HttpClient,
    Response,
    parse_target,
)
from warcpack.store.location import is_url
from warcpack.store.robots import MAX_ROBOTS_BYTES, RobotsRules, robots_url

if TYPE_CHECKING:
    from warcpack.store import Store

REDIRECTS = (301, 302, 303, 307, 308)
ROBOTS_REDIRECTS = 5  # RFC 9309, section 2.3.1.2


class CaptureError(Exception):
    """The capture as a whole cannot run (no store, store not writable...)."""


@dataclass(frozen=True)
class Fetched:
    """One archived exchange: what was asked for, what came back, where its record is."""

    url: str
    purpose: str  # "page", "redirect" (a hop that answered 3xx) or "robots"
    status: int
    record_type: str  # "response" or "revisit"
    offset: int  # of the response/revisit record in the new WARC file
    truncated: str | None = None


@dataclass(frozen=True)
class UrlOutcome:
    """What happened to one URL the caller asked for."""

    url: str
    outcome: str  # "stored", "revisit", "truncated", "skipped" or "failed"
    reason: str = ""
    status: int | None = None
    final_url: str | None = None  # after redirects
    hops: int = 0  # redirects followed


@dataclass
class CaptureReport:
    """The result of one `capture` call."""

    warc_file: str | None  # None when nothing was fetched (no file is committed then)
    outcomes: list[UrlOutcome]
    fetches: list[Fetched]
    robots: dict[str, str] = field(default_factory=dict)  # robots.txt URL -> how it was read

    def count(self, outcome: str) -> int:
        return sum(1 for o in self.outcomes if o.outcome == outcome)

    @property
    def failed(self) -> int:
        """URLs not captured whole: failures and truncated bodies (robots skips are not)."""
        return self.count("failed") + self.count("truncated")

    def print(self, console: Console) -> None:
        table = Table(show_header=True, header_style="bold")
        table.add_column("URL", overflow="fold")
        table.add_column("outcome")
        table.add_column("detail", overflow="fold")
        styles = {"stored": "green", "revisit": "cyan", "truncated": "yellow",
                  "skipped": "yellow", "failed": "red"}
        for o in self.outcomes:
            detail = [f"HTTP {o.status}"] if o.status is not None else []
            if o.hops:
                detail.append(f"after {o.hops} redirect(s) -> {o.final_url}")
            if o.reason:
                detail.append(o.reason)
            style = styles.get(o.outcome, "")
            table.add_row(o.url, f"[{style}]{o.outcome}[/]", "; ".join(detail))
        console.print(table)
        for url, note in self.robots.items():
            console.print(f"{url}: {note}")
        counts = ", ".join(
            f"{self.count(kind)} {kind}"
            for kind in ("stored", "revisit", "truncated", "skipped", "failed")
            if self.count(kind)
        )
        where = f"into {self.warc_file}" if self.warc_file else "(no file written)"
        console.print(f"{len(self.fetches)} exchange(s) archived {where}: {counts or 'nothing'}")


def capture(
    urls: list[str],
    store: Path | str | Store,
    *,
    allow_private: bool = False,
    delay: float = 1.0,
    timeout: float = 30.0,
    max_size: int = 50_000_000,
    max_redirects: int = 10,
    respect_robots: bool = True,
    user_agent: str | None = None,
) -> CaptureReport:
    """Fetch `urls` and commit them to the store as one new WARC file.

    Per-URL problems (network errors, refused addresses, robots.txt) are outcomes in the
    report; CaptureError is raised only when the store itself cannot be used.
    """
    from warcpack.store import Store, StoreError

    if not urls:
        raise CaptureError("no URLs to capture")
    try:
        # a new folder becomes a store; an existing one must already be one (not a folder of
        # someone's WARC files, which the manifest would silently leave out)
        st = store if isinstance(store, Store) else Store.open(
            store, create=is_url(store) or not Path(store).exists()
        )
    except StoreError as exc:
        raise CaptureError(str(exc)) from None
    agent = user_agent or DEFAULT_USER_AGENT
    client = HttpClient(
        user_agent=agent, timeout=timeout, max_size=max_size, allow_private=allow_private
    )
    try:
        with st.transaction() as txn:
            # named after the time the lock was taken, to the microsecond: file names sort in
            # commit order, so the index orders same-second captures of a URL correctly
            started = datetime.now(UTC)
            name = f"capture-{started:%Y%m%d%H%M%S%f}-{uuid.uuid4().hex[:8]}.warc.gz"
            path = txn.stage(name)
            with open(path, "wb") as fh:
                session = _Session(
                    st, fh, client, delay=delay, max_redirects=max_redirects,
                    respect_robots=respect_robots,
                )
                session.write_warcinfo(name, started, agent)
                outcomes = [session.capture_url(url) for url in urls]
                fh.flush()
                os.fsync(fh.fileno())
            if not session.fetches:
                raise _NothingFetched
            txn.log(_log_event(name, outcomes, session.fetches))
    except _NothingFetched:
        name = None
    except (StoreError, OSError) as exc:
        raise CaptureError(f"capture into {st.root} failed: {exc}") from None
    return CaptureReport(name, outcomes, session.fetches, session.robots_notes)


class _NothingFetched(Exception):
    """Nothing reached a server: commit no file holding only a warcinfo record."""


def _log_event(name: str, outcomes: list[UrlOutcome], fetches: list[Fetched]) -> dict:
    return {
        "event": "capture",
        "file": name,
        "exchanges": len(fetches),
        "urls": [
            {"url": o.url, "outcome": o.outcome, "reason": o.reason, "status": o.status}
            for o in outcomes
        ],
    }


# --- WARC writing ------------------------------------------------------------------------------


class _ExactHead(StatusAndHeaders):
    """HTTP headers whose bytes stay as received.

    warcio re-serialises parsed headers when it writes a record (normalising spacing, folding and
    non-ASCII); the archive must hold what was on the wire, so the buffer is pinned.
    """

    def __init__(self, parsed: StatusAndHeaders, raw: bytes):
        super().__init__(parsed.statusline, parsed.headers, parsed.protocol, total_len=len(raw))
        self.headers_buff = raw

    def compute_headers_buffer(self, header_filter=None) -> None:
        return None


@dataclass(frozen=True)
class _Original:
    """The record a revisit points to."""

    record_id: str
    url: str
    date: str


@dataclass(frozen=True)
class _Latest:
    """The latest capture of a URL made in this call (it overrides the store's index)."""

    digest: str
    ok: bool  # 2xx and complete: fit to be revisited
    original: _Original | None


def _warc_now() -> str:
    """Capture time, UTC, to the second (the one place warcpack reads the wall clock)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _same_digest(a: str | None, b: str | None) -> bool:
    def norm(d: str) -> str:
        algo, _, value = d.rpartition(":")
        return f"{(algo or 'sha1').lower()}:{value.upper()}"

    return bool(a and b) and norm(a) == norm(b)


def _new_id() -> str:
    return StatusAndHeadersParser.make_warc_id()


class _Session:
    """One capture call: the WARC being written, robots rules and politeness per host."""

    def __init__(
        self, store: Store, fh: BinaryIO, client: HttpClient, *, delay: float, max_redirects: int,
        respect_robots: bool,
    ):
        self.store = store
        self.fh = fh
        self.writer = WARCWriter(fh, gzip=True, warc_version="1.1")
        self.client = client
        self.delay = delay
        self.max_redirects = max_redirects
        self.respect_robots = respect_robots
        self.fetches: list[Fetched] = []
        self.robots: dict[str, RobotsRules] = {}
        self.robots_notes: dict[str, str] = {}
        self.latest: dict[str, _Latest] = {}
        self.last_request: dict[str, float] = {}

    def write_warcinfo(self, name: str, started: datetime, agent: str) -> None:
        info = {
            "software": f"warcpack/{__version__} (warcio/{version('warcio')})",
            "format": "WARC File Format 1.1",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/"
            "warc-format/warc-1.1/",
            "robots": "obey" if self.respect_robots else "ignore",
            "http-header-user-agent": agent,
        }
        record = self.writer.create_warcinfo_record(name, info)
        record.rec_headers.replace_header("WARC-Date", started.strftime("%Y-%m-%dT%H:%M:%SZ"))
        self.writer.write_record(record)

    # --- one URL, its redirects and its robots.txt ---

    def capture_url(self, url: str) -> UrlOutcome:
        try:
            current = parse_target(url).url
        except FetchError as exc:
            return UrlOutcome(url, "failed", str(exc))
        hops = 0
        while True:
            try:
                if self.respect_robots:
                    rules = self._robots_for(current)
                    if not rules.allows(current, self.client.user_agent):
                        reason = "disallowed by robots.txt"
                        if rules.parser is None:
                            reason += f" ({rules.note})"
                        return UrlOutcome(url, "skipped", reason, final_url=current, hops=hops)
                fetched, location = self._exchange(current, "page")
            except FetchError as exc:
                return UrlOutcome(url, "failed", str(exc), final_url=current, hops=hops)
            if fetched.status in REDIRECTS and location:
                if hops >= self.max_redirects:
                    return UrlOutcome(
                        url, "failed", f"more than {self.max_redirects} redirects",
                        status=fetched.status, final_url=current, hops=hops,
                    )
                hops += 1
                try:
                    current = parse_target(urljoin(current, location)).url
                except FetchError as exc:
                    return UrlOutcome(url, "failed", f"bad redirect to {location!r}: {exc}",
                                      status=fetched.status, final_url=current, hops=hops)
                continue
            if fetched.truncated:
                outcome, reason = "truncated", f"body cut short ({fetched.truncated})"
            else:
                outcome, reason = ("revisit" if fetched.record_type == "revisit" else "stored"), ""
            return UrlOutcome(url, outcome, reason, fetched.status, current, hops)

    def _robots_for(self, url: str) -> RobotsRules:
        key = robots_url(url)
        if key in self.robots:
            return self.robots[key]
        current = key
        rules = None
        for _ in range(ROBOTS_REDIRECTS + 1):
            try:
                fetched, location, body = self._exchange(current, "robots", keep_body=True)
            except FetchError as exc:
                if isinstance(exc, AddressRefused) and current == key:
                    raise  # the page's own host is refused: say that, not "robots unreachable"
                rules = RobotsRules.unreachable(str(exc))
                break
            if fetched.status in REDIRECTS and location:
                try:
                    current = parse_target(urljoin(current, location)).url
                except FetchError as exc:
                    rules = RobotsRules.unreachable(f"bad redirect: {exc}")
                    break
                continue
            rules = RobotsRules.from_response(fetched.status, body)
            break
        if rules is None:
            rules = RobotsRules.from_response(fetched.status, b"")
        self.robots[key] = rules
        self.robots_notes[key] = rules.note
        return rules

    # --- one exchange ---

    def _exchange(self, url: str, purpose: str, keep_body: bool = False):
        """Fetch `url` once and archive it; (Fetched, Location header[, decoded body])."""
        host = parse_target(url).host
        self._wait(host)
        date = _warc_now()
        try:
            response = self.client.get(url)
        finally:
            self.last_request[host] = time.monotonic()
        try:
            location = response.header("location")
            if purpose == "page" and response.status in REDIRECTS and location:
                purpose = "redirect"
            fetched = self._archive(response, date, purpose)
            if keep_body:
                return fetched, location, response.decoded_body(MAX_ROBOTS_BYTES)
            return fetched, location
        finally:
            response.close()

    def _wait(self, host: str) -> None:
        last = self.last_request.get(host)
        if last is not None and self.delay > 0:
            pause = last + self.delay - time.monotonic()
            if pause > 0:
                time.sleep(pause)

    def _archive(self, resp: Response, date: str, purpose: str) -> Fetched:
        response_id, request_id = _new_id(), _new_id()
        common = {"WARC-Date": date, "WARC-IP-Address": resp.ip}
        headers = {"WARC-Record-ID": response_id, **common, "WARC-Concurrent-To": request_id}
        if resp.truncated:
            headers["WARC-Truncated"] = resp.truncated
        head = _ExactHead(resp.headers, resp.head)
        record = self.writer.create_warc_record(
            resp.url, "response", payload=resp.body, length=resp.body_length,
            http_headers=head, warc_headers_dict=headers,
        )
        digest = record.rec_headers.get_header("WARC-Payload-Digest")
        status = resp.status
        original = None if resp.truncated else self._revisit_target(resp.url, digest)
        if original is not None:
            record = self.writer.create_revisit_record(
                resp.url, digest, original.url, original.date, http_headers=head,
                warc_headers_dict={"WARC-Record-ID": response_id, **common,
                                   "WARC-Concurrent-To": request_id,
                                   "WARC-Refers-To": original.record_id},
            )
        offset = self.fh.tell()
        self.writer.write_record(record)
        request = self.writer.create_warc_record(
            resp.url, "request", payload=BytesIO(), length=0,
            http_headers=_ExactHead(resp.request_headers, resp.request),
            warc_headers_dict={"WARC-Record-ID": request_id, **common,
                               "WARC-Concurrent-To": response_id},
        )
        self.writer.write_record(request)

        ok = 200 <= status < 300 and not resp.truncated
        if original is None and ok:
            original = _Original(response_id, resp.url, date)
        self.latest[resp.url] = _Latest(digest, ok, original)
        fetched = Fetched(resp.url, purpose, status, record.rec_type, offset, resp.truncated)
        self.fetches.append(fetched)
        return fetched

    def _revisit_target(self, url: str, digest: str) -> _Original | None:
        """The record holding this payload if the URL's latest capture had it, 2xx; else None."""
        latest = self.latest.get(url)
        if latest is not None:
            return latest.original if latest.ok and _same_digest(latest.digest, digest) else None
        entries = self.store.captures(url)
        if not entries:
            return None
        newest = entries[-1]
        if not (_is_2xx(newest.status) and _same_digest(newest.digest, digest)):
            return None
        for entry in reversed(entries):
            if (entry.record_type == "response" and _is_2xx(entry.status)
                    and _same_digest(entry.digest, digest)):
                headers = self.store.record_headers(entry.filename, entry.offset)
                return _Original(headers["WARC-Record-ID"], entry.url, headers["WARC-Date"])
        return None


def _is_2xx(status: int | None) -> bool:
    return status is not None and 200 <= status < 300
