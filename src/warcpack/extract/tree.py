"""The page's tree, as trafilatura's loader builds it, with element classes chosen in C.

lxml.html's parser gives each element its Python class by calling a Python function (form
fields get classes of their own) every time a reader touches an element it has not held before.
trafilatura's passes, htmldate and warcpack's own readers touch millions of elements over a
build, and those calls cost a few percent of an extraction's time (2 to 6% on the benchmark
pages). The parser here is trafilatura's own, with its options, and lxml's C-level lookup:
every element is an `HtmlElement`, every comment an `HtmlComment`. No reader of the tree uses
what the form classes add (a field's `.value`), so the same page gives the same tree and the
same row, sooner.

Copies of the tree (each trafilatura pass reads one) keep its parser, and so its lookup.

trafilatura's loader first deletes the characters XML forbids with a regular expression run over
every character of the page: about 1.2 ms a page, 5% of a fast extraction, for pages that
almost never hold one. Here a membership test per character (C-speed scans) decides whether
that deletion is needed; its other two repairs are made as trafilatura makes them.
"""

from __future__ import annotations

from lxml import etree
from lxml.html import (
    HtmlComment,
    HtmlElement,
    HtmlEntity,
    HtmlProcessingInstruction,
    fromstring,
)
from trafilatura.utils import (
    DOCTYPE_TAG,
    FAULTY_HTML,
    HTML_PARSER,
    INVALID_XML_CHARS,
    is_dubious_html,
)

_PARSER = HTML_PARSER.copy()
_PARSER.set_element_class_lookup(etree.ElementDefaultClassLookup(
    element=HtmlElement, comment=HtmlComment, pi=HtmlProcessingInstruction, entity=HtmlEntity))


# What INVALID_XML_CHARS matches (controls, U+FFFE, U+FFFF), one character at a time.
_FORBIDDEN = (*map(chr, (*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20))), "\ufffe", "\uffff")


def _repaired(text: str, beginning: str) -> str:
    """The text `trafilatura.utils.repair_faulty_html` gives."""
    if any(c in text for c in _FORBIDDEN):
        text = INVALID_XML_CHARS.sub("", text)
    if "doctype" in beginning:  # libxml2 cannot read a doctype holding "/"
        firstline, _, rest = text.partition("\n")
        text = DOCTYPE_TAG.sub("", firstline, count=1) + "\n" + rest
    for line in text[:4096].splitlines()[:4]:  # a self-closing <html/>
        if "<html" in line and line.endswith("/>"):
            return FAULTY_HTML.sub(r"\1>", text, count=1)
    return text


def _parse(markup: str | bytes) -> HtmlElement | None:
    try:
        return fromstring(markup, parser=_PARSER)
    except Exception:  # noqa: BLE001 (lxml's errors on a broken page: no tree, as trafilatura)
        return None


def load_html(text: str) -> HtmlElement | None:
    """The tree `trafilatura.load_html(text)` gives for a decoded page, or None where it gives
    none: the same repairs, the same retry with bytes, the same refusal of a page that is not
    HTML."""
    beginning = text[:50].lower()
    dubious = is_dubious_html(beginning)
    text = _repaired(text, beginning)
    retried = False
    try:
        tree = fromstring(text, parser=_PARSER)
    except ValueError:  # "Unicode strings with encoding declaration are not supported."
        tree = _parse(text.encode("utf8", "surrogatepass"))
        retried = True
    except Exception:  # noqa: BLE001
        tree = None
    if (tree is None or len(tree) < 1) and not retried:
        tree = _parse(text.encode("utf8", "surrogatepass"))
    if tree is not None and dubious and len(tree) < 2:
        return None
    return tree
