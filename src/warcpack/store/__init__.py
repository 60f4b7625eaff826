"""The WARC store: committed WARC files, their CDXJ index, checksums and log, written atomically."""

from warcpack.store.errors import IngestError, StoreError
from warcpack.store.index import IndexEntry
from warcpack.store.store import Headers, Store
from warcpack.store.txn import Transaction

__all__ = ["Headers", "IndexEntry", "IngestError", "Store", "StoreError", "Transaction"]
