"""What this installation of warcpack is: the hash of its own source and the versions of the
libraries that shape its output. Release manifests record it, and every build process (a
worker too, before its first unit) compares it, so it must stay light to import.
"""

from __future__ import annotations

import hashlib
import os
import platform
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from importlib.resources import files as package_files
from pathlib import Path

from warcpack import __version__
from warcpack.store.manifest import sha256_file

# Libraries whose versions can change a byte of the output: parsing, extraction and dates
# (text and metadata), decoding, reading WARCs and the index, time zone rules, validation
# (which rows are refused), and the writers (parquet, the card's YAML and features).
OUTPUT_DEPENDENCIES = (
    "brotli", "cdxj-indexer", "charset-normalizer", "courlan", "datasets", "dateparser",
    "htmldate", "jsonschema", "justext", "lxml", "lxml-html-clean", "pyarrow", "python-dateutil",
    "pyyaml", "surt", "trafilatura", "tzdata", "warcio",
)


@cache
def installed_version(name: str, missing: str = "unknown") -> str:
    """The installed version of a distribution, or `missing`. Read once per process: it cannot
    change while a build runs, and reading package metadata for every record is slow."""
    try:
        return version(name)
    except PackageNotFoundError:
        return missing


def dependency_versions() -> dict[str, str]:
    """Installed versions of the output-shaping libraries, and of Python itself."""
    found = {"python": platform.python_version()}
    for name in OUTPUT_DEPENDENCIES:
        found[name] = installed_version(name, "not installed")
    return dict(sorted(found.items()))


def extractor_versions() -> dict[str, str]:
    """Versions of the libraries that read a page's text and dates, named in every build's
    summary and card; read from package metadata, so naming them imports none of them."""
    names = ("charset_normalizer", "htmldate", "lxml", "trafilatura")
    return {name: installed_version(name.replace("_", "-")) for name in names}


def source_sha256() -> str:
    """sha256 over warcpack's own code and data files (path and content hash of each): the
    same for every install of the same source, whatever its version number says."""
    root = Path(str(package_files("warcpack")))
    lines = []
    for folder, dirs, names in os.walk(root, followlinks=True):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in names:
            if name.endswith((".py", ".toml", ".json")):
                path = Path(folder) / name
                lines.append(f"{path.relative_to(root).as_posix()}  {sha256_file(path)}\n")
    return hashlib.sha256("".join(sorted(lines)).encode("utf-8")).hexdigest()


def site_config_sha256() -> str:
    """sha256 of the site config the build reads (the packaged sites.toml)."""
    data = package_files("warcpack").joinpath("sites.toml").read_bytes()
    return hashlib.sha256(data).hexdigest()


def tool() -> dict[str, str]:
    return {"name": "warcpack", "version": __version__, "source_sha256": source_sha256()}
