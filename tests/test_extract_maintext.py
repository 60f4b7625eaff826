"""The rules that reconcile trafilatura's balanced and precision passes, one by one, on the
paragraph lists the passes return (the real pages are in test_extract_html.py)."""

from __future__ import annotations

from warcpack.extract.maintext import _reconcile, _trim_head, _trim_tail
from warcpack.extract.visible import headline_keys

BODY = [f"Paragraph {i}: the harbour board said on Monday that the new quay will open next "
        f"spring, after two years of delays and a long dispute over its costs." for i in range(6)]


def test_edges_only_the_balanced_pass_kept_are_boilerplate() -> None:
    balanced = ["Harbour quay opens", "Sign up for our newsletter", *BODY,
                "Most read: Ferry fares rise again"]
    assert _reconcile(balanced, BODY) == BODY


def test_inner_paragraphs_the_precision_pass_dropped_are_kept() -> None:
    balanced = [*BODY[:3], "Costs", *BODY[3:]]
    assert _reconcile(balanced, BODY) == balanced


def test_a_paragraph_missing_link_text_still_confirms_its_fuller_version() -> None:
    linked = BODY[2].replace("the new quay", "the new quay (see the plans)")
    assert _reconcile([*BODY[:2], linked, *BODY[3:]], BODY)[2] == linked


def test_repeated_article_gives_one_copy_but_repeats_the_precision_pass_keeps_stay() -> None:
    assert _reconcile(BODY + ["2019-11-19T08:57:40+01:00"] + BODY, BODY) == BODY
    refrain = "Eat every two or three hours and drink water with each meal."
    recipe = [BODY[0], refrain, BODY[1], refrain]
    assert _reconcile(recipe, recipe) == recipe


def test_a_block_the_precision_pass_cut_is_taken_as_cut() -> None:
    block = "| Harbour quay opens " + " ".join(BODY) + " | Ferry fares rise |"
    assert _reconcile([block], BODY) == BODY


def test_precision_pass_that_missed_the_article_is_ignored() -> None:
    assert _reconcile(BODY, ["Ferry fares rise again this winter, the operator said."]) == BODY
    assert _reconcile(BODY, []) == BODY


def test_the_article_starts_after_its_headline_date_and_byline() -> None:
    heads = headline_keys(["Harbour quay opens | Coast Herald"])
    lead = ["News", "Harbour quay opens", "By Ana Lima", "06.12.2024, 17:55", "3 min read"]
    assert _trim_head(lead + BODY, heads) == BODY
    # A line repeating the headline deep in the text is not a headline.
    assert _trim_head(BODY + ["Harbour quay opens"], heads) == BODY + ["Harbour quay opens"]


def test_closing_sections_and_calls_to_action_are_cut() -> None:
    tail = ["Tags", "harbour, quay, ferries, council, budget", "Click here to subscribe"]
    assert _trim_tail(BODY + tail) == BODY
    # A "read also" heading followed by more article is part of the article.
    more = ["Read also", "Quay plans approved", BODY[0] + " It opens next year."]
    assert _trim_tail(BODY + more) == BODY + more
