"""warcpack: lossless WARC store to a versioned, schema-validated research corpus."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("warcpack")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
