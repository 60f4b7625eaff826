"""Fixtures several test modules share."""

from __future__ import annotations

import pytest
from store_helpers import ARTICLE_HTML, SEED, SHARED

OFFLINE = {"HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}


def pytest_configure(config: pytest.Config) -> None:
    """The tests read real pages from the shared material beside the checkout; without it they
    would fail one by one with errors that do not say why, so the run stops here and says."""
    missing = next((p for p in (ARTICLE_HTML, SEED) if not p.exists()), None)
    if missing is not None:
        raise pytest.UsageError(
            f"the tests read real pages from {SHARED} (seed/ and benchmark/), and {missing} is "
            "not there: put the shared folder beside this checkout, then run `make test` again")


@pytest.fixture
def offline_hf(monkeypatch, tmp_path_factory):
    """`datasets` offline, with a cache of this test's own: tests load real corpora with the
    real loader, never the network, and never each other's cached copies."""
    for key, value in OFFLINE.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("HF_HOME", str(tmp_path_factory.mktemp("hf-home")))
