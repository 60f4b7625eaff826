"""`warcpack export bag`: a release as a BagIt 1.0 bag (RFC 8493), for repositories and
transfer tools that check bags with `bagit.py --validate`.

    bagit.txt, bag-info.txt
    data/warcs/<name>             the release's WARC files, byte for byte
    data/warcs/SHA256SUMS         their sha256, as `sha256sum` prints it
    data/warcs/index.cdxj         their CDXJ index, made afresh from them
    data/release/...              the release folder: corpus, card, croissant.json, release.json
    manifest-sha256.txt, manifest-sha512.txt, tagmanifest-sha256.txt, tagmanifest-sha512.txt

Reproducible: Bagging-Date is the release's latest capture day (not today), every list is
sorted, so the same release gives the same bytes. Nothing is packaged that the release's
manifest does not vouch for.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from warcpack import __version__
from warcpack.diff import RELEASE_MANIFEST
from warcpack.export.source import (
    ExportError,
    copy_checked,
    index_lines,
    open_source,
    release_folder,
    remove,
)
from warcpack.release import output_files
from warcpack.store.atomic import fsync_dir, fsync_file
from warcpack.store.manifest import MANIFEST_NAME

ALGORITHMS = ("sha256", "sha512")
_CHUNK = 1 << 20


@dataclass
class BagReport:
    path: Path
    release: str
    files: int  # payload files
    bytes: int  # payload bytes

    def print(self, console: Console) -> None:
        console.print(f"wrote the bag {escape(str(self.path))} of release {self.release}: "
                      f"{self.files} payload file(s), {self.bytes} bytes (Payload-Oxum "
                      f"{self.bytes}.{self.files})", highlight=False)


class _Payload:
    """The payload files written so far: their path in the bag and digests."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.entries: dict[str, dict[str, str]] = {}
        self.bytes = 0

    def add_bytes(self, rel: str, data: bytes) -> None:
        target = self._target(rel)
        target.write_bytes(data)
        self._done(rel, {a: hashlib.new(a, data).hexdigest() for a in ALGORITHMS}, len(data))

    def add_copy(self, rel: str, source: Path, want_sha256: str | None = None) -> None:
        hashers = {a: hashlib.new(a) for a in ALGORITHMS}
        size = 0
        with open(source, "rb") as src, open(self._target(rel), "wb") as dst:
            while chunk := src.read(_CHUNK):
                for h in hashers.values():
                    h.update(chunk)
                dst.write(chunk)
                size += len(chunk)
        digests = {a: h.hexdigest() for a, h in hashers.items()}
        if want_sha256 is not None and digests["sha256"] != want_sha256:
            raise ExportError(f"{source}: sha256 {digests['sha256']} is not the {want_sha256} "
                              "the release lists: run `warcpack audit`")
        self._done(rel, digests, size)

    def _target(self, rel: str) -> Path:
        target = self.root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def _done(self, rel: str, digests: dict[str, str], size: int) -> None:
        self.entries[rel] = digests
        self.bytes += size


def _encode(path: str) -> str:
    """A path as a BagIt manifest line writes it (RFC 8493, section 2.1.3)."""
    return path.replace("%", "%25").replace("\n", "%0A").replace("\r", "%0D")


def _manifest(entries: dict[str, dict[str, str]], algorithm: str) -> bytes:
    return "".join(f"{entries[p][algorithm]}  {_encode(p)}\n" for p in sorted(entries)).encode()


def export_bag(out: Path, store: Path | str, *, release: Path | None = None,
               releases_root: Path = Path("releases")) -> BagReport:
    """Write release `release` (default: the latest in `releases_root`) and its WARC files
    from `store` as a BagIt bag in the new folder OUT."""
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ExportError(f"{out} exists and is not an empty folder: a bag is written to a new "
                          "folder")
    folder = release_folder(release, releases_root)
    source = open_source(store, folder)
    assert source.manifest is not None
    tmp = out.with_name(out.name + ".tmp-bag")
    remove(tmp)
    try:
        tmp.mkdir(parents=True)
        report = _write(tmp, folder, source.manifest, source)
        if out.exists():
            out.rmdir()
        os.replace(tmp, out)
        fsync_dir(out.parent)
    except BaseException:
        remove(tmp)
        raise
    report.path = out
    return report


def _write(root: Path, folder: Path, manifest: dict[str, Any], source: Any) -> BagReport:
    payload = _Payload(root)
    for warc in source.files:
        rel = f"data/warcs/{warc.name}"
        hashers = {a: hashlib.new(a) for a in ALGORITHMS if a != "sha256"}
        with open(payload._target(rel), "wb") as dst:
            size = copy_checked(warc, dst, *hashers.values())
        payload._done(rel, {"sha256": warc.sha256, **{a: h.hexdigest()
                                                       for a, h in hashers.items()}}, size)
    sums = "".join(f"{w.sha256}  {w.name}\n" for w in source.files)
    payload.add_bytes(f"data/warcs/{MANIFEST_NAME}", sums.encode("utf-8"))
    with index_lines(source.files) as lines:
        text = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
    payload.add_bytes("data/warcs/index.cdxj", text.encode("utf-8"))
    listed = {o["path"]: o["sha256"] for o in manifest["outputs"]}
    present = {o["path"] for o in output_files(folder)}
    if present != set(listed):
        extra = sorted(present - set(listed)) + sorted(set(listed) - present)
        raise ExportError(f"{folder}: the release's files are not those release.json lists "
                          f"({', '.join(extra[:5])}): run `warcpack audit`")
    for rel in sorted(listed):
        payload.add_copy(f"data/release/{rel}", folder / rel, listed[rel])
    payload.add_copy(f"data/release/{RELEASE_MANIFEST}", folder / RELEASE_MANIFEST)
    version = str(manifest["release"])
    last = ((manifest.get("rows") or {}).get("captured") or {}).get("last") or "1970-01-01"
    info = [
        ("Bag-Software-Agent", f"warcpack {__version__}"),
        ("Bagging-Date", str(last)[:10]),
        ("External-Identifier", f"warcpack-release-{version}"),
        ("External-Description", f"Release {version} of a warcpack corpus: its WARC files, "
                                 "their index and checksums, and the corpus built from them."),
        ("Payload-Oxum", f"{payload.bytes}.{len(payload.entries)}"),
    ]
    tags = {
        "bagit.txt": b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
        "bag-info.txt": "".join(f"{k}: {v}\n" for k, v in info).encode("utf-8"),
    }
    for algorithm in ALGORITHMS:
        tags[f"manifest-{algorithm}.txt"] = _manifest(payload.entries, algorithm)
    tag_entries = {name: {a: hashlib.new(a, data).hexdigest() for a in ALGORITHMS}
                   for name, data in tags.items()}
    for name, data in tags.items():
        (root / name).write_bytes(data)
    for algorithm in ALGORITHMS:
        (root / f"tagmanifest-{algorithm}.txt").write_bytes(_manifest(tag_entries, algorithm))
    for path in sorted(root.rglob("*"), reverse=True):  # files before their folders
        (fsync_dir if path.is_dir() else fsync_file)(path)
    fsync_dir(root)
    return BagReport(root, version, len(payload.entries), payload.bytes)
