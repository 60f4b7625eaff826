"""How an HTML page's main text is read, a build setting like the limits.

Its own module, free of the extractors' imports, so the driver and the cache can name a mode
without loading trafilatura. The modes themselves are described in `warcpack.extract.maintext`.
"""

from __future__ import annotations

ACCURATE = "accurate"  # two trafilatura passes reconciled: the default
FAST = "fast"  # one balanced pass: about half the extraction's cost, a little less precision
TEXT_MODES = (ACCURATE, FAST)


def check_text_mode(mode: str) -> str:
    """`mode`, or ValueError naming the modes there are."""
    if mode not in TEXT_MODES:
        raise ValueError(f"text_mode must be one of {', '.join(TEXT_MODES)}, not {mode!r}")
    return mode
