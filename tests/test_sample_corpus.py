"""The sample corpus in the repository: rebuilt from warcs/, it is the committed corpus/,
byte for byte, and the seed page's row says what the page says."""

from __future__ import annotations

import importlib.metadata as md
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from warcpack.build import build

REPO = Path(__file__).resolve().parents[1]
SEED_URL = "urn:sha256:9a601c3e3796206416c79661c953b80013c3aac4df1470db570aad15fceee6d4"


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample") / "corpus"
    build(REPO / "warcs", out, workers=1, progress=False)
    return out


def _rows(corpus: Path) -> list[dict]:
    rows = []
    for shard in sorted((corpus / "data" / "text").glob("*.jsonl")):
        rows += [json.loads(line) for line in shard.read_text("utf-8").splitlines()]
    return rows


def _versions_match(summary: dict) -> bool:
    pinned = {**summary["extractor_versions"], **summary["writer_versions"]}
    return all(md.version(name.replace("_", "-")) == v for name, v in pinned.items())


def test_committed_corpus_is_what_the_store_builds(fresh: Path) -> None:
    committed = REPO / "corpus"
    summary = json.loads((committed / "build-summary.json").read_text("utf-8"))
    # Rows are compared whatever the versions; whole files only with the versions that built them.
    assert _rows(fresh) == _rows(committed)
    if not _versions_match(summary):
        pytest.skip("dependency versions differ from the committed build's: rows compared only")
    names = sorted(p.relative_to(committed).as_posix() for p in committed.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(fresh).as_posix() for p in fresh.rglob("*") if p.is_file())
    for name in names:
        assert (fresh / name).read_bytes() == (committed / name).read_bytes(), name


def test_seed_row_reads_the_page(fresh: Path) -> None:
    (row,) = [r for r in _rows(fresh) if r["url"] == SEED_URL]
    assert row["title"] == "Iran, Hezbollah aim to bolster Assad as rebels bear down on Homs"
    assert row["date_published"] == "2024-12-06T17:55:00+06:00"
    assert row["date_modified"] == "2024-12-09T14:49:00+06:00"
    assert row["date_captured"].startswith("2025-07-03")
    assert row["authors"] == ["Reuters"]
    assert row["publisher"] == "The Business Standard"
    assert row["section"] == "Middle East"
    assert row["tags"] == ["syria", "Iran", "Hezbollah", "Syrian President Bashar al-Assad"]
    assert "All rights reserved" in row["license"]["statement"]
    assert row["license"]["redistributable"] is False
    text = row["text"]
    assert text.startswith("Iran will send missiles, drones and more advisers")
    assert text.endswith("killed by Israel over the past two months.")
    for junk in ("Related News", "Top Stories", "MOST VIEWED", "Economy\n", "Subscribe",
                 "moderation decisions are subjective", "Copyright", "Google News"):
        assert junk not in text, junk
    prov = row["provenance"]
    raw = (REPO / "warcs" / prov["warc_file"]).read_bytes()
    assert len(raw) >= prov["warc_offset"] + prov["warc_length"]


def test_sample_corpus_loads_with_datasets() -> None:
    env = {**os.environ, "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}
    code = (
        "import datasets, sys\n"
        "t = datasets.load_dataset(sys.argv[1], split='train')\n"
        "m = datasets.load_dataset(sys.argv[1], 'metadata', split='train')\n"
        "assert 'text' in t.column_names and 'text' not in m.column_names\n"
        "assert str(t.features['date_published'].dtype) == 'timestamp[us, tz=UTC]'\n"
        "print(t[0]['date_published'].isoformat())\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(REPO / "corpus")], env=env,
                         capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "2024-12-06T11:55:00+00:00"


def test_datacard_figures_match_the_corpus(tmp_path: Path) -> None:
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import update_datacard
    finally:
        sys.path.pop(0)
    card = tmp_path / "DATACARD.md"
    card.write_text((REPO / "DATACARD.md").read_text("utf-8"), "utf-8")
    assert not update_datacard.update(card, REPO / "corpus"), "run scripts/update_datacard.py"
