"""The fast text mode as a build setting: rows say which extractor made them, the summary, card
and release manifest name the mode, the cache keeps the modes apart, and a rebuild and an audit
read the text the way the build did."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from store_helpers import benchmark_store, tree
from typer.testing import CliRunner

from warcpack.audit.run import audit
from warcpack.build import BuildError, build
from warcpack.cli import app
from warcpack.release import rebuild, release

pytestmark = pytest.mark.usefixtures("offline_hf")


@pytest.fixture
def store(tmp_path) -> Path:
    """Four real article pages; the first (sorted by name) is one where the modes differ."""
    return benchmark_store(tmp_path)


def rows(out: Path) -> dict[str, dict]:
    return {row["url"]: row for shard in sorted((out / "data" / "text").glob("*.jsonl"))
            for row in map(json.loads, shard.read_text("utf-8").splitlines())}


def test_fast_build_is_named_keyed_apart_and_leaves_the_default_untouched(store, tmp_path):
    accurate = build(store, tmp_path / "accurate", workers=1, progress=False)
    fast = build(store, tmp_path / "fast", workers=2, unit_records=1, progress=False,
                 text_mode="fast")
    assert fast.records_extracted == 4  # another mode: nothing is taken from the cache
    a, f = rows(tmp_path / "accurate"), rows(tmp_path / "fast")
    assert a.keys() == f.keys() and len(a) == 4
    assert {r["provenance"]["extractor"] for r in a.values()} == {"warcpack-html"}
    assert {r["provenance"]["extractor"] for r in f.values()} == {"warcpack-html-fast"}
    assert any(a[u]["text"] != f[u]["text"] for u in a)
    assert [a[u]["date_published"] for u in a] == [f[u]["date_published"] for u in a]

    summary = json.loads((tmp_path / "fast" / "build-summary.json").read_text("utf-8"))
    assert summary["text_mode"] == "fast"
    assert "text_mode" not in json.loads(
        (tmp_path / "accurate" / "build-summary.json").read_text("utf-8"))
    assert "--text-mode fast" in (tmp_path / "fast" / "README.md").read_text("utf-8")

    again = build(store, tmp_path / "accurate-again", workers=1, progress=False)
    assert again.records_extracted == 4  # the cache keeps the latest mode's results only
    assert tree(tmp_path / "accurate-again") == tree(tmp_path / "accurate")
    assert accurate.rows_written == again.rows_written == 4


def test_fast_release_rebuilds_identically_and_audits_clean(store, tmp_path):
    report = release("1.0.0", store, tmp_path / "releases", workers=1, progress=False,
                     text_mode="fast")
    assert report.manifest["config"]["text_mode"] == "fast"
    folder = tmp_path / "releases" / "1.0.0"

    result = rebuild(folder / "release.json", store, tmp_path / "rebuilt", workers=1,
                     progress=False)
    assert result.identical, result
    checked = audit(folder, store)
    assert checked.clean, [f.message for f in checked.findings][:5]


def test_an_unknown_text_mode_is_refused(store, tmp_path):
    with pytest.raises(BuildError, match="unknown text mode 'fastest'"):
        build(store, tmp_path / "out", workers=1, progress=False, text_mode="fastest")
    result = CliRunner().invoke(app, ["build", "--store", str(store), "--out",
                                      str(tmp_path / "out"), "--text-mode", "fastest"])
    assert result.exit_code == 2
    assert "--text-mode must be 'accurate' or 'fast'" in result.output
    assert not (tmp_path / "out").exists()
