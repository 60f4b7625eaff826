"""Errors the store raises for user-facing problems (messages name the file and byte offset)."""

from __future__ import annotations


class StoreError(Exception):
    """The store cannot do what was asked (missing store, unsafe name, broken journal, ...)."""


class IngestError(StoreError):
    """Files were refused by `ingest`; the store was left untouched."""

    def __init__(self, message: str, problems: list[tuple[str, int | None, str]] | None = None):
        super().__init__(message)
        self.problems = problems or []
