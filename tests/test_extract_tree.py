"""The page's tree: the one trafilatura's own loader builds, element for element, for every real
page of both benchmarks and for the inputs its loader repairs or refuses."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
import trafilatura
from lxml import etree
from lxml.html import HtmlComment, HtmlElement
from trafilatura.utils import INVALID_XML_CHARS

from warcpack.extract import decode
from warcpack.extract.tree import _FORBIDDEN, load_html

BENCHMARK = Path(__file__).resolve().parents[2] / "shared" / "benchmark"
PAGES = sorted(BENCHMARK.glob("*/html/*.html.gz"))


def same_tree(text: str) -> bool:
    ours, theirs = load_html(text), trafilatura.load_html(text)
    if ours is None or theirs is None:
        return ours is None and theirs is None
    return etree.tostring(ours, encoding="unicode") == etree.tostring(theirs, encoding="unicode")


def test_every_benchmark_page_parses_as_trafilatura_parses_it() -> None:
    assert len(PAGES) > 200
    differ = [p.name for p in PAGES if not same_tree(
        decode(gzip.decompress(p.read_bytes()), "text/html", sniff_meta=True).text)]
    assert differ == []


@pytest.mark.parametrize("text", [
    "",
    "plain text, no markup at all",
    "<p>a lone fragment</p>",
    "<?xml version='1.0' encoding='utf-8'?><html><body><p>declared</p></body></html>",
    "<html/>\n<body><p>self-closed html</p></body>",
    "<!DOCTYPE html>\n<html><body>\x00\x01<p>control characters</p></body></html>",
    "<html><body><p>one\x1f \ufffe\uffff\x0b\x0c controls; kept: \t\r\x7f \U0001F600</p>",
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0//EN" "http://www.w3.org/TR/xhtml1/">\n'
    "<html><body><p>a doctype holding slashes</p></body></html>",
    "<!doctype html>",
])
def test_repaired_and_refused_inputs_match_trafilatura(text: str) -> None:
    assert same_tree(text)


def test_the_characters_deleted_before_parsing_are_those_trafilatura_deletes() -> None:
    """The loader looks for each of them before running trafilatura's deletion: a character
    its expression gains must be looked for too."""
    everything = "".join(map(chr, range(0x110000))).encode("utf-8", "surrogatepass").decode(
        "utf-8", "surrogatepass")
    assert set(INVALID_XML_CHARS.findall(everything)) == set(_FORBIDDEN)


def test_elements_are_html_elements_in_copies_too() -> None:
    """trafilatura and the readers need lxml.html's element API on the tree and its copies."""
    tree = load_html("<html><body><form><input value='x'><!-- note --></form>"
                     "<p>Text <b>bold</b></p></body></html>")
    assert tree is not None
    copied = tree.__copy__()
    for t in (tree, copied):
        assert all(isinstance(el, HtmlElement) for el in t.iter(tag=etree.Element))
        assert t.find(".//p").text_content() == "Text bold"
    assert not any(isinstance(c, HtmlComment) for c in tree.iter(etree.Comment))  # dropped
