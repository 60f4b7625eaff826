"""Rights: which licence covers a page's text, and may it be redistributed?

Where a licence is looked for, most specific first: a rel="license" link, JSON-LD `license`,
Creative Commons links or badge images, the site config, licence URLs in <meta> rights tags.
The rights *statement* (a copyright line) is looked for separately: footer lines, <meta
name="copyright"> / dc.rights, JSON-LD copyrightNotice / copyrightHolder + copyrightYear.

`redistributable` answers one question for corpus builders: may the text be redistributed
verbatim, with attribution, for non-commercial research?
- true for CC0, public domain and every Creative Commons licence (BY, BY-SA, BY-ND, BY-NC,
  BY-NC-SA, BY-NC-ND): all allow verbatim non-commercial copies. NC and ND still restrict
  commercial use and derivatives, so users must check `spdx` before training or selling;
- false when the page claims copyright ("©", "All rights reserved") and names no licence;
- null when nothing is found, or a licence link that is not recognised and no claim.
"""

from __future__ import annotations

import re
from typing import Any

from warcpack.extract.sites import SiteRule
from warcpack.extract.structured import Structured, clean

_CC = re.compile(
    r"creativecommons\.org/(?:licenses|l)/(?P<code>by(?:-nc)?(?:-nd|-sa)?|by-nd-nc)"
    r"/(?P<ver>[1-4]\.[05])(?:/(?P<port>[a-z]{2,3})\b)?",
    re.I,
)
_CC_ZERO = re.compile(r"creativecommons\.org/(?:publicdomain|p)/zero/1\.0", re.I)
_CC_MARK = re.compile(r"creativecommons\.org/(?:publicdomain|p)/mark/1\.0", re.I)
_CC_NAME = re.compile(
    r"\bCC[\s-]?(?P<code>BY(?:[\s-]NC)?(?:[\s-](?:ND|SA))?)[\s-]?(?P<ver>[1-4]\.[05])\b"
)
_CC0_NAME = re.compile(r"\bCC0\b|\bCC[\s-]zero\b", re.I)
_CLAIM = re.compile(r"©|\(c\)|copyright|all rights reserved", re.I)
# SPDX ids exist for the unported versions below (1.0 of by-nc-nd was "by-nd-nc").
_SPDX_VERSIONS = {"1.0", "2.0", "2.5", "3.0", "4.0"}


def recognise(text: str | None) -> dict[str, Any] | None:
    """Licence url/spdx/redistributable from a licence URL or a name like "CC BY-SA 4.0"."""
    if not text:
        return None
    m = _CC.search(text)
    if m:
        code, ver, port = m["code"].lower(), m["ver"], m["port"]
        url = f"https://creativecommons.org/licenses/{code}/{ver}/" + (f"{port}/" if port else "")
        spdx = None
        if not port and ver in _SPDX_VERSIONS and code != "by-nd-nc":
            spdx = f"CC-{code.upper()}-{ver}"
        return {"url": url, "spdx": spdx, "redistributable": True}
    if _CC_ZERO.search(text):
        return {"url": "https://creativecommons.org/publicdomain/zero/1.0/", "spdx": "CC0-1.0",
                "redistributable": True}
    if _CC_MARK.search(text):
        return {"url": "https://creativecommons.org/publicdomain/mark/1.0/", "spdx": None,
                "redistributable": True, "statement": "Public Domain Mark 1.0"}
    m = _CC_NAME.search(text)
    if m:
        code = re.sub(r"[\s-]+", "-", m["code"]).lower()
        return {"url": f"https://creativecommons.org/licenses/{code}/{m['ver']}/",
                "spdx": f"CC-{code.upper()}-{m['ver']}", "redistributable": True}
    if _CC0_NAME.search(text):
        return {"url": "https://creativecommons.org/publicdomain/zero/1.0/", "spdx": "CC0-1.0",
                "redistributable": True}
    return None


def _jsonld_license(s: Structured) -> str | None:
    objs = ([s.main] if s.main else []) + s.jsonld
    for obj in objs:
        value = s.deref(obj.get("license"))
        if isinstance(value, dict):
            value = value.get("url") or value.get("@id") or value.get("name")
        if isinstance(value, list):
            value = next((v for v in value if isinstance(v, str)), None)
        if clean(value):
            return clean(value)
    return None


def _jsonld_statement(s: Structured) -> str | None:
    objs = ([s.main] if s.main else []) + s.jsonld
    for obj in objs:
        notice = clean(obj.get("copyrightNotice"))
        if notice:
            return notice
        holder = s.deref(obj.get("copyrightHolder"))
        name = clean(holder.get("name")) if isinstance(holder, dict) else clean(holder)
        year = clean(obj.get("copyrightYear"))
        if name or year:
            return " ".join(x for x in ("©", year, name) if x)
    return None


def _statement(s: Structured | None, lines: list[tuple[str, bool]]) -> tuple[str, str] | None:
    footer = [t for t, in_footer in lines if in_footer]
    if footer:
        return footer[-1], "footer"
    if s is not None:
        meta = s.first_meta("copyright", "dc.rights", "dcterms.rights", "rights")
        if meta and not recognise(meta):
            return meta, "meta"
        found = _jsonld_statement(s)
        if found:
            return found, "json-ld"
    claims = [t for t, _ in lines if re.match(r"\s*(©|copyright|\(c\))", t, re.I)
              or "rights reserved" in t.lower()]
    if claims:
        return claims[-1], "footer"
    return None


def find_license(
    s: Structured | None,
    lines: list[tuple[str, bool]],
    rule: SiteRule | None,
    text_links: list[str] | None = None,
) -> dict[str, Any]:
    """The row's `license` object from a page's structured data and rights lines.

    `lines` are (text, in_footer) copyright lines in document order; `text_links` are licence
    URLs written in a plain-text page.
    """
    statement = _statement(s, lines)
    reserved = statement is not None and "rights reserved" in statement[0].lower()
    candidates: list[tuple[str | None, str]] = []
    if s is not None:
        candidates += [(u, "rel-license") for u in s.license_links]
        candidates.append((_jsonld_license(s), "json-ld"))
        # A stray CC link (often a photo's) does not outweigh the page's "All rights reserved".
        candidates += [(u, "cc-link") for u in s.cc_links if not reserved]
    candidates += [(u, "text") for u in text_links or [] if not reserved]
    found: tuple[dict[str, Any], str] | None = None
    unknown: tuple[dict[str, Any], str] | None = None
    for raw, source in candidates:
        lic = recognise(raw)
        if lic:
            found = (lic, source)
            break
        if raw and source in ("rel-license", "json-ld") and unknown is None:
            unknown = ({"url": raw, "spdx": None, "redistributable": None}, source)
    if found is None and rule is not None and rule.license:
        found = (dict(rule.license), "site-config")
    if found is None and s is not None:
        for key in ("dcterms.license", "dc.rights", "dcterms.rights", "copyright", "license"):
            lic = recognise(s.first_meta(key))
            if lic:
                found = (lic, "meta")
                break
    found = found or unknown
    out: dict[str, Any] = {
        "statement": None, "url": None, "spdx": None, "redistributable": None, "source": None,
    }
    if found is not None:
        lic, source = found
        out.update({k: lic.get(k) for k in ("statement", "url", "spdx", "redistributable")})
        out["source"] = source
    if statement is not None:
        text, where = statement
        out["statement"] = text
        out["source"] = out["source"] or where
        if out["redistributable"] is None and (_CLAIM.search(text) or where == "meta"):
            out["redistributable"] = False
    return out
