"""Per-site settings (time zone, publisher, licence) read from a TOML file.

The packaged `sites.toml` is the default; a user may pass their own file. Keys are host names and
cover their subdomains, so `www.tbsnews.net` and `m.tbsnews.net` use the `tbsnews.net` entry.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_LICENSE_KEYS = ("statement", "url", "spdx", "redistributable")


class SiteConfigError(ValueError):
    """A site config file that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class SiteRule:
    """What is known about one site, independent of any single page."""

    host: str
    timezone: str | None = None
    publisher: str | None = None
    license: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SiteConfig:
    """Site rules by host; immutable so it can be shared and cached."""

    rules: tuple[SiteRule, ...] = ()
    source: str = "<empty>"

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_host", {r.host: r for r in self.rules})

    @classmethod
    def load(cls, path: str | Path | None = None) -> SiteConfig:
        """Read a site config file; without a path, the one shipped with warcpack (cached)."""
        if path is None:
            return _packaged()
        p = Path(path)
        try:
            text = p.read_text("utf-8")
        except OSError as exc:
            raise SiteConfigError(f"{p}: cannot read site config: {exc}") from exc
        return cls.parse(text, str(p))

    @classmethod
    def parse(cls, text: str, source: str = "<string>") -> SiteConfig:
        """Build a config from TOML text; `source` names it in error messages."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise SiteConfigError(f"{source}: invalid TOML: {exc}") from exc
        sites = data.get("sites", {})
        if not isinstance(sites, dict):
            raise SiteConfigError(f"{source}: [sites] must be a table")
        rules = [_rule(source, host, entry) for host, entry in sorted(sites.items())]
        return cls(tuple(rules), source)

    def for_host(self, host: str | None) -> SiteRule | None:
        """The rule for a host or its closest parent domain, or None."""
        if not host:
            return None
        name = host.lower().rstrip(".")
        by_host: dict[str, SiteRule] = self._by_host  # type: ignore[attr-defined]
        while name:
            if name in by_host:
                return by_host[name]
            if "." not in name:
                return None
            name = name.split(".", 1)[1]
        return None


def _rule(source: str, host: str, entry: Any) -> SiteRule:
    where = f"{source}: [sites.\"{host}\"]"
    if not isinstance(entry, dict):
        raise SiteConfigError(f"{where} must be a table")
    unknown = set(entry) - {"timezone", "publisher", "license"}
    if unknown:
        raise SiteConfigError(f"{where}: unknown keys {sorted(unknown)}")
    tz = entry.get("timezone")
    if tz is not None:
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
            raise SiteConfigError(f"{where}: unknown time zone {tz!r}") from exc
    lic = entry.get("license", {})
    if not isinstance(lic, dict) or set(lic) - set(_LICENSE_KEYS):
        raise SiteConfigError(f"{where}: license takes only {', '.join(_LICENSE_KEYS)}")
    if "redistributable" in lic and not isinstance(lic["redistributable"], bool):
        raise SiteConfigError(f"{where}: license.redistributable must be true or false")
    return SiteRule(
        host=host.lower().removeprefix("www."),
        timezone=tz,
        publisher=entry.get("publisher"),
        license=dict(lic),
    )


@cache
def _packaged() -> SiteConfig:
    text = files("warcpack").joinpath("sites.toml").read_text("utf-8")
    return SiteConfig.parse(text, "warcpack/sites.toml")
