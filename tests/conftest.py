"""Fixtures several test modules share."""

from __future__ import annotations

import pytest

OFFLINE = {"HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}


@pytest.fixture
def offline_hf(monkeypatch, tmp_path_factory):
    """`datasets` offline, with a cache of this test's own: tests load real corpora with the
    real loader, never the network, and never each other's cached copies."""
    for key, value in OFFLINE.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("HF_HOME", str(tmp_path_factory.mktemp("hf-home")))
