"""Limits of a build: set from Python or the command line, named in build-summary.json and in the
release manifest (and used again by a rebuild), part of the cache key; a build where the
wall-clock limit fired says it is not reproducible."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from store_helpers import benchmark_store, write_warc
from typer.testing import CliRunner

from warcpack.build import BuildError, build
from warcpack.cli import app
from warcpack.limits import Limits
from warcpack.release import rebuild, release
from warcpack.store.ingest import ingest

# The smallest benchmark pages have a few hundred elements; 500 cuts some of them, not all.
FEW_ELEMENTS = 500


pytestmark = pytest.mark.usefixtures("offline_hf")


@pytest.fixture
def store(tmp_path) -> Path:
    return benchmark_store(tmp_path)


def summary_of(out: Path) -> dict:
    return json.loads((out / "build-summary.json").read_text("utf-8"))


def test_limits_from_python_are_applied_named_and_keyed_in_the_cache(store, tmp_path):
    default = build(store, tmp_path / "default", workers=1, progress=False)
    plain = summary_of(tmp_path / "default")
    assert "limits" not in plain and "reproducible" not in plain  # default builds keep their bytes
    assert default.records_extracted == 4

    strict = Limits(max_elements=FEW_ELEMENTS)
    cut = build(store, tmp_path / "strict", workers=2, unit_records=1, progress=False,
                limits=strict)
    assert cut.records_extracted == 4  # other limits: nothing is reused from the cache
    assert cut.skipped_by_reason["too-many-elements"] >= 1
    assert cut.rows_written < default.rows_written
    named = summary_of(tmp_path / "strict")
    assert named["limits"]["max_elements"] == FEW_ELEMENTS
    assert named["limits"]["max_depth"] == Limits().max_depth

    again = build(store, tmp_path / "strict", workers=1, progress=False, limits=strict)
    assert again.records_extracted == 0  # the same limits: every result is reused
    assert summary_of(tmp_path / "strict") == named
    with pytest.raises(BuildError, match="limits must be"):
        build(store, tmp_path / "x", progress=False, limits={"max_depth": 3})  # type: ignore


def test_limits_from_the_command_line(store, tmp_path):
    runner = CliRunner()
    out = tmp_path / "cli"
    result = runner.invoke(app, ["build", "--store", str(store), "--out", str(out),
                                 "--workers", "1", "--no-progress",
                                 "--max-elements", str(FEW_ELEMENTS), "--max-depth", "400"])
    assert result.exit_code == 0, result.output
    limits = summary_of(out)["limits"]
    assert (limits["max_elements"], limits["max_depth"]) == (FEW_ELEMENTS, 400)
    assert summary_of(out)["skipped_by_reason"]["too-many-elements"] >= 1
    bad = runner.invoke(app, ["build", "--store", str(store), "--out", str(tmp_path / "bad"),
                              "--no-progress", "--max-depth", "-1"])
    assert bad.exit_code == 2 and "max_depth must be >= 0" in bad.output


def test_a_release_keeps_its_limits_and_a_rebuild_uses_them(store, tmp_path):
    strict = Limits(max_elements=FEW_ELEMENTS)
    report = release("1.0.0", store, tmp_path / "releases", workers=1, progress=False,
                     limits=strict)
    assert report.manifest["limits"]["max_elements"] == FEW_ELEMENTS
    assert "reproducible" not in report.manifest
    again = rebuild(tmp_path / "releases" / "1.0.0" / "release.json", store,
                    tmp_path / "rebuilt", workers=1, progress=False)
    assert again.identical, (again.differing, again.missing, again.extra)


def test_a_build_with_a_timeout_says_it_is_not_reproducible(tmp_path):
    """A store of one page that takes seconds, against a net of 50 ms."""
    slow = b"<html><body><article>" + b"".join(
        b"<p>Paragraph %d, with some words in it to look like text.</p>" % i
        for i in range(20_000)) + b"</article></body></html>"
    write_warc(tmp_path / "slow.warc.gz", [
        {"url": "https://news.example.org/slow", "date": "2024-05-02T08:00:00Z", "body": slow}])
    store = tmp_path / "store"
    ingest([tmp_path / "slow.warc.gz"], store)
    summary = build(store, tmp_path / "out", workers=1, progress=False,
                    limits=Limits(extraction_seconds=0.05))
    assert summary.skipped_by_reason["timeout"] == 1 and not summary.reproducible
    written = summary_of(tmp_path / "out")
    assert written["reproducible"] is False
    assert written["limits"]["extraction_seconds"] == 0.05
    # with the default net the page is extracted, and the build is reproducible again
    roomy = build(store, tmp_path / "out", workers=1, progress=False)
    assert roomy.reproducible and "timeout" not in roomy.skipped_by_reason
    assert "reproducible" not in summary_of(tmp_path / "out")
