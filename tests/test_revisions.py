"""Revisions of a page: a news article served on 127.0.0.1, captured, edited (a paragraph
rewritten, modified 9 Dec), captured again, then captured once more unchanged (a revisit).
The build gives two linked rows; `warcpack history` shows the three captures and the edit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from news_pages import EDITED, MODIFIED, ORIGINAL, PUBLISHED, capture_now, europa, serve
from servers import TestServer
from typer.testing import CliRunner

from warcpack.build import build
from warcpack.cli import app
from warcpack.history import history
from warcpack.revisions import RevisionStats, assign
from warcpack.row import validate
from warcpack.store import Store

OFFLINE = {"HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> tuple[Path, str]:
    """A store with three captures of the page (original, edited, edited again) and its URL."""
    store = tmp_path_factory.mktemp("news") / "warcs"
    with TestServer() as server:
        url = serve(server, "/world/europa-water-plumes", europa())
        capture_now([url], store)
        serve(server, "/world/europa-water-plumes", europa(MODIFIED, edited=True))
        capture_now([url], store)
        capture_now([url], store)
    return store, url


@pytest.fixture(scope="module")
def built(site, tmp_path_factory) -> Path:
    store, _ = site
    out = tmp_path_factory.mktemp("built") / "corpus"
    summary = build(store, out, workers=1, progress=False)
    assert summary.ok and summary.recaptures == 1
    return out


@pytest.fixture(scope="module")
def rows(built, site) -> list[dict]:
    lines = (built / "data/text/train-00000-of-00001.jsonl").read_text("utf-8").splitlines()
    return [row for row in map(json.loads, lines) if row["url"] == site[1]]


def test_the_store_holds_three_captures_the_last_a_revisit(site):
    store, url = site
    kinds = [e.record_type for e in Store.open(store).captures(url)]
    assert kinds == ["response", "response", "revisit"]


def test_two_revisions_linked_with_their_own_dates_and_capture_counts(rows, site):
    store, _ = site
    first, second = rows
    for row in rows:
        validate(row)
    assert (first["revision"], second["revision"]) == (1, 2)
    assert first["previous_id"] is None and first["changed"] == []
    assert second["previous_id"] == first["id"]
    assert "text" in second["changed"] and "date_modified" in second["changed"]
    assert "title" not in second["changed"] and "date_published" not in second["changed"]
    assert first["date_published"] == second["date_published"] == PUBLISHED
    assert first["date_modified"] == PUBLISHED and second["date_modified"] == MODIFIED
    assert ORIGINAL in first["text"] and EDITED not in first["text"]
    assert EDITED in second["text"] and ORIGINAL not in second["text"]
    assert (first["captures"], second["captures"]) == (1, 2)
    entries = Store.open(store).captures(second["url"])
    stamps = [Store.open(store).record_headers(e.filename, e.offset)["WARC-Date"]
              for e in entries]
    assert first["date_captured"] == first["date_first_captured"] == first["date_last_captured"]
    assert first["date_captured"] == stamps[0]
    assert second["date_captured"] == second["date_first_captured"] == stamps[1]
    assert second["date_last_captured"] == stamps[2]  # the revisit's WARC-Date
    # each row is the record that brought its content: the edit's response, not the revisit
    assert second["provenance"]["warc_type"] == "response"
    assert second["provenance"]["warc_file"] == entries[1].filename


def test_history_shows_every_capture_and_the_changed_paragraph(site):
    store, url = site
    page = history(url, store)
    assert [c.warc_type for c in page.captures] == ["response", "response", "revisit"]
    assert [c.revision for c in page.captures] == [1, 2, 2]
    assert [c.new_revision for c in page.captures] == [True, True, False]
    assert [c.date_modified for c in page.captures] == [PUBLISHED, MODIFIED, MODIFIED]
    assert all(c.date_published == PUBLISHED for c in page.captures)
    assert f"-{ORIGINAL}" in page.captures[1].diff and f"+{EDITED}" in page.captures[1].diff
    removed = [line for line in page.captures[1].diff if line.startswith("-")
               and not line.startswith("---")]
    assert removed == [f"-{ORIGINAL}"]  # only the edited paragraph

    result = CliRunner().invoke(app, ["history", url, "--store", str(store)])
    assert result.exit_code == 0, result.output
    shown = result.output
    assert "3 captures, 2 revisions" in shown and "revisit" in shown
    assert f"-{ORIGINAL}" in shown and f"+{EDITED}" in shown
    assert f"modified {MODIFIED}" in shown and f"published {PUBLISHED}" in shown
    stamps = [Store.open(store).record_headers(e.filename, e.offset)["WARC-Date"]
              for e in Store.open(store).captures(url)]
    assert [c.captured for c in page.captures] == stamps
    assert all(stamp in shown for stamp in stamps)

    as_json = CliRunner().invoke(app, ["history", url, "--store", str(store), "--json"])
    assert json.loads(as_json.output)["revisions"] == 2
    missing = CliRunner().invoke(app, ["history", url + "?nope", "--store", str(store)])
    assert missing.exit_code == 1 and "no capture of" in missing.output


def test_a_page_that_changes_back_is_a_new_revision_and_pages_stay_apart(rows):
    first, second = rows
    again = {**json.loads(json.dumps(first)), "id": "f" * 32,
             "date_captured": "2030-01-01T00:00:00Z"}
    other = {**json.loads(json.dumps(first)), "id": "e" * 32, "url": first["url"] + "?page=2"}
    stats = RevisionStats()
    out = list(assign([json.loads(json.dumps(r)) for r in (first, second, again)] + [other],
                      stats))
    assert [(r["url"][-6:], r["revision"]) for r in out] == [
        (first["url"][-6:], 1), (first["url"][-6:], 2), (first["url"][-6:], 3), ("page=2", 1)]
    assert out[2]["previous_id"] == second["id"] and "text" in out[2]["changed"]
    assert out[3]["previous_id"] is None and out[3]["captures"] == 1
    assert (stats.urls, stats.rows, stats.recaptures) == (2, 4, 0)


def test_revision_fields_reach_the_dataset(built, site, tmp_path, monkeypatch):
    from datasets import load_dataset

    for key, value in OFFLINE.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    url = site[1]
    data = load_dataset(str(built), "metadata", cache_dir=str(tmp_path / "cache"))["train"]
    assert data.features["revision"].dtype == "int64"
    assert data.features["captures"].dtype == "int64"
    assert data.features["date_last_captured"].dtype == "timestamp[us, tz=UTC]"
    mine = [r for r in data if r["url"] == url]
    assert [r["revision"] for r in mine] == [1, 2]
    assert "text" in mine[1]["changed"] and mine[1]["previous_id"] == mine[0]["id"]
