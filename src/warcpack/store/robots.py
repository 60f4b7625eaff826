"""robots.txt rules for one site, from the response the capture client got for it.

The status decides before the content does (RFC 9309, section 2.3.1): a 2xx is parsed, any 4xx means
the site has no rules for us (allow all), a 5xx or no answer at all means we cannot know and must
not crawl (disallow all). Parsing and matching are urllib.robotparser's.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit
from urllib.robotparser import RobotFileParser

MAX_ROBOTS_BYTES = 512 * 1024  # RFC 9309: crawlers must parse at least 500 KiB


def robots_url(url: str) -> str:
    """The robots.txt that governs `url` (same scheme, host and port)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/robots.txt", "", ""))


@dataclass
class RobotsRules:
    """What one site's robots.txt allows; `note` says how we got there, for the report."""

    note: str
    parser: RobotFileParser | None = None
    allow_all: bool = False

    def allows(self, url: str, user_agent: str) -> bool:
        if self.parser is not None:
            return self.parser.can_fetch(user_agent, url)
        return self.allow_all

    @classmethod
    def from_response(cls, status: int, body: bytes) -> RobotsRules:
        if 200 <= status < 300:
            parser = RobotFileParser()
            parser.parse(body.decode("utf-8", errors="replace").splitlines())
            return cls(note=f"robots.txt {status}", parser=parser)
        if 400 <= status < 500:
            return cls(note=f"robots.txt answered {status}: no rules, all allowed", allow_all=True)
        if 300 <= status < 400:
            return cls(note=f"robots.txt redirected too often ({status}): all allowed",
                       allow_all=True)
        return cls(note=f"robots.txt answered {status}: treated as disallow-all")

    @classmethod
    def unreachable(cls, reason: str) -> RobotsRules:
        return cls(note=f"robots.txt unreachable ({reason}): treated as disallow-all")
