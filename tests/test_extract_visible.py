"""Dates a page shows its reader: labels, the date beside the headline, datelines, and the
markup that says a shown date is an update."""

from __future__ import annotations

from datetime import date

import pytest
from trafilatura import load_html

from warcpack.extract.visible import (
    dateline,
    headline_keys,
    read_lines,
    visible_dates,
)

PROSE = "<p>" + "The council met on Tuesday and agreed the budget for next year. " * 4 + "</p>"


def found(body: str, title: str = "Harbour quay opens") -> tuple[list, list]:
    html = f"<html><head><title>{title} | Coast Herald</title></head><body>{body}</body></html>"
    tree = load_html(html)
    assert tree is not None
    return visible_dates(read_lines(tree, headline_keys([f"{title} | Coast Herald"])))


def days(cands: list) -> list[tuple[str, date]]:
    return [(c.source, c.parsed.day) for c in cands]


def test_layout_runs_inline_elements_together_and_finds_the_headline() -> None:
    html = ("<html><body><nav><a>Home</a> <a>News</a></nav><h1>Harbour quay <em>opens</em></h1>"
            "<p>Veröffentlicht <span>am</span> <b>16.08.2019</b><br>Dauer: 1 Stunde</p>"
            "<script>var d = '2001-01-01';</script></body></html>")
    lines = read_lines(load_html(html), headline_keys(["Harbour quay opens"]))
    assert lines.lines == ["Home News", "Harbour quay opens", "Veröffentlicht am 16.08.2019",
                           "Dauer: 1 Stunde"]
    assert lines.headline == 1


def test_publication_label() -> None:
    published, modified = found(
        "<h1>Harbour quay opens</h1><p class='meta'>Veröffentlicht am 16.08.2019</p>" + PROSE)
    assert days(published)[0] == ("visible-label", date(2019, 8, 16))
    assert modified == []


def test_update_label_is_a_modification_only() -> None:
    published, modified = found(
        "<h1>Harbour quay opens</h1><p>Aktualisiert: 11.04.2020, 10:27</p>" + PROSE)
    assert published == []
    assert ("visible-label", date(2020, 4, 11)) in days(modified)


def test_explicit_publication_ranks_before_an_as_of_date() -> None:
    published, _ = found("<h1>Harbour quay opens</h1><p>Stand: 05.02.2020</p>" + PROSE
                         + "<p>Erstellt am 01.02.2020</p>")
    assert days(published) == [("visible-label", date(2020, 2, 1)),
                               ("visible-headline", date(2020, 2, 5)),
                               ("visible-label", date(2020, 2, 5))]


def test_bare_date_beside_the_headline() -> None:
    published, _ = found("<p>2021-10-16 | Botschaft</p><h1>Harbour quay opens</h1>" + PROSE)
    assert days(published) == [("visible-headline", date(2021, 10, 16))]


@pytest.mark.parametrize(
    ("markup", "kind"),
    [
        ('<li class="modified-date"><time class="updated">August 13, 2018</time></li>',
         "modified"),
        ('<span itemprop="dateModified">August 13, 2018</span>', "modified"),
        # hAtom asks every entry for an "updated" date: the bare class names no update.
        ('<span class="entry-meta-date updated">August 13, 2018</span>', "published"),
    ],
)
def test_markup_naming_an_update(markup: str, kind: str) -> None:
    published, modified = found(f"<h1>Harbour quay opens</h1><div>{markup}</div>" + PROSE)
    assert days(published if kind == "published" else modified) == [
        ("visible-headline", date(2018, 8, 13))]
    assert (modified if kind == "published" else published) == []


def test_dates_in_sentences_and_far_from_the_headline_are_not_read() -> None:
    sidebar = "<ul>" + "".join(f"<li>Posted on 0{i}.01.2019</li>" for i in range(1, 6)) + "</ul>"
    sentence = ("<p>The quay, posted on 01.03.2019 as a plan by the harbour board, was first "
                "debated by the council in a long and heated session that spring.</p>")
    published, modified = found(sidebar + "<div><p>Menu</p><p>Search</p><p>Login</p></div>"
                                + "<h1>Harbour quay opens</h1>" + sentence + PROSE)
    assert published == [] and modified == []


def test_the_entry_footer_is_read_but_not_the_comments_after_it() -> None:
    footer = "<footer><p>Posted on 01.03.2021 by marc | Leave a comment</p></footer>"
    html = f"<html><body><h1>Harbour quay opens</h1>{PROSE}{footer}</body></html>"
    last = "The council met on Tuesday and agreed the budget for next year."
    lines = read_lines(load_html(html), headline_keys(["Harbour quay opens"]), last_line=last)
    assert days(visible_dates(lines)[0]) == [("visible-label", date(2021, 3, 1))]


def test_labelled_dates_after_the_article_are_comments() -> None:
    html = ("<html><body><h1>Harbour quay opens</h1>" + PROSE
            + "<footer>Filed under Harbour</footer><h3>2 comments</h3><div class='comments'>"
            + "<p>Ana</p><p>Posted on 05.03.2021 by a reader</p>"
            + "<p>Great news for the island.</p></div></body></html>")
    tree = load_html(html)
    last = "The council met on Tuesday and agreed the budget for next year."
    keys = headline_keys(["Harbour quay opens"])
    assert visible_dates(read_lines(tree, keys, last_line=last)) == ([], [])
    published, _ = visible_dates(read_lines(tree, keys))  # not knowing where the article ends
    assert days(published) == [("visible-label", date(2021, 3, 5))]


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("Karlsruhe, (12.11.2021). Traditionell gedenken evangelische Christinnen", "2021-11-12"),
        ("BERLIN, 3. März 2020 – Die Stadt hat beschlossen, den Hafen zu erweitern.", "2020-03-03"),
        ("In 2019, the harbour board said the quay would open within two years.", None),
        ("WASHINGTON (AP) — Two federal prison officers were charged on Tuesday.", None),
    ],
)
def test_dateline(text: str, day: str | None) -> None:
    cand = dateline(text)
    assert (cand.parsed.day.isoformat() if cand else None) == day
