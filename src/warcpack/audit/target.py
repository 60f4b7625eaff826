"""The corpus an audit checks: a release folder (release.json names its WARC files and output
hashes) or a plain build (build-summary.json names its output hashes, not its WARC files)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from warcpack.diff import RELEASE_MANIFEST
from warcpack.limits import DEFAULT_LIMITS, Limits
from warcpack.release import RebuildError, load_manifest
from warcpack.textmode import ACCURATE
from warcpack.write.outdir import MARKER as SUMMARY
from warcpack.write.summary import Skipped


class AuditError(Exception):
    """The audit cannot run (no corpus there, unreadable manifest, no store)."""


@dataclass
class Target:
    """What the audited folder claims about itself."""

    folder: Path
    manifest: dict[str, Any] | None  # release.json; None for a plain build
    summary: dict[str, Any] | None  # build-summary.json without its skipped list
    summary_error: str | None  # why build-summary.json could not be read
    seed: str  # sha256 of the manifest (release.json, else build-summary.json): the sample seed

    @property
    def kind(self) -> str:
        return "release" if self.manifest is not None else "build"

    @property
    def release(self) -> str | None:
        return str(self.manifest["release"]) if self.manifest is not None else None

    @property
    def manifest_name(self) -> str:
        return RELEASE_MANIFEST if self.manifest is not None else SUMMARY

    @property
    def text_policy(self) -> str:
        if self.manifest is not None:
            return str(self.manifest["config"].get("text_policy", "all"))
        assert self.summary is not None
        return str(self.summary.get("text_policy", "all"))

    @property
    def text_mode(self) -> str:
        """How the build read main text: re-extraction must read it the same way."""
        if self.manifest is not None:
            return str(self.manifest["config"].get("text_mode", ACCURATE))
        return str((self.summary or {}).get("text_mode") or ACCURATE)

    @property
    def limits(self) -> Limits:
        """The build's limits (the defaults unless its release.json or summary names others)."""
        given = (self.manifest if self.manifest is not None else self.summary or {}).get("limits")
        try:
            return Limits(**given) if given else DEFAULT_LIMITS
        except (TypeError, ValueError):
            return DEFAULT_LIMITS

    @property
    def shard_rows(self) -> int | None:
        if self.manifest is not None:
            value = self.manifest["config"].get("shard_rows")
            return value if isinstance(value, int) and value > 0 else None
        return None

    @property
    def schema_version(self) -> str | None:
        source = self.manifest if self.manifest is not None else self.summary
        return None if source is None else source.get("schema_version")

    @property
    def expected_outputs(self) -> list[dict[str, Any]]:
        """path, sha256, bytes of every output the manifest vouches for."""
        source = self.manifest if self.manifest is not None else self.summary
        outputs = (source or {}).get("outputs") or []
        return [o for o in outputs if isinstance(o, dict) and "path" in o]

    @property
    def warc_files(self) -> list[dict[str, Any]] | None:
        """name, sha256, size of the release's WARC files; None for a plain build."""
        if self.manifest is None:
            return None
        return list(self.manifest["store"]["files"])

    def skipped(self) -> Iterator[Skipped]:
        """The build's skipped records, streamed from build-summary.json."""
        if self.summary is None:
            return
        yield from _stream_skipped(self.folder / SUMMARY)


def load_target(path: Path) -> Target:
    """The corpus at PATH (a release or build folder, or a release.json)."""
    path = Path(path)
    if path.is_file() and path.name == RELEASE_MANIFEST:
        path = path.parent
    if not path.is_dir():
        raise AuditError(f"{path} is not a folder: give a release folder (with {RELEASE_MANIFEST})"
                         " or a build folder")
    manifest_path, summary_path = path / RELEASE_MANIFEST, path / SUMMARY
    manifest = None
    if manifest_path.exists():
        try:
            manifest = load_manifest(manifest_path)
        except RebuildError as exc:
            raise AuditError(str(exc)) from None
        if not isinstance(manifest.get("store"), dict) or not isinstance(
                manifest["store"].get("files"), list):
            raise AuditError(f"{manifest_path}: no list of WARC files (store.files)")
    elif not summary_path.exists():
        raise AuditError(f"{path} is not a built corpus: it has neither {RELEASE_MANIFEST} nor "
                         f"{SUMMARY}")
    summary, summary_error = None, None
    try:
        summary = _summary_head(summary_path)
    except (OSError, ValueError) as exc:
        summary_error = f"{SUMMARY} cannot be read: {exc}"
        if manifest is None:
            raise AuditError(f"{summary_path}: {summary_error}") from None
    seed_path = manifest_path if manifest is not None else summary_path
    seed = hashlib.sha256(seed_path.read_bytes()).hexdigest()
    return Target(path, manifest, summary, summary_error, seed)


_SKIPPED_KEY = '"skipped": ['


def _summary_head(path: Path) -> dict[str, Any]:
    """build-summary.json without its skipped list (which can be long), as a dict."""
    head: list[str] = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip().startswith(_SKIPPED_KEY):
                text = "".join(head).rstrip().rstrip(",") + "\n}"
                break
            head.append(line)
        else:
            text = "".join(head)
    data = json.loads(text)
    if not isinstance(data, dict) or data.get("tool") != "warcpack":
        raise ValueError("not a warcpack build summary")
    data.pop("skipped", None)
    return data


def _stream_skipped(path: Path) -> Iterator[Skipped]:
    """The skipped list, one record per line as the build writes it; any other layout (a file
    rewritten by another tool) is read whole."""
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            stripped = line.strip()
            if stripped.startswith(_SKIPPED_KEY):
                if stripped.endswith("]"):  # an empty list, or one on a single line
                    yield from _skipped_items(json.loads("{" + stripped + "}")["skipped"])
                    return
                break
        else:
            return
        done = 0
        for line in fh:
            stripped = line.strip().rstrip(",")
            if stripped.startswith("{"):
                try:
                    item = _skip(json.loads(stripped))
                except ValueError:
                    break  # not one object per line: read the file whole
                done += 1
                yield item
            elif stripped.startswith("]"):
                return
            else:
                break
    data = json.loads(path.read_text("utf-8"))
    yield from islice(_skipped_items(data.get("skipped") or []), done, None)


def _skipped_items(items: list[Any]) -> Iterator[Skipped]:
    for item in items:
        yield _skip(item)


def _skip(item: Any) -> Skipped:
    if not isinstance(item, dict):
        raise ValueError(f"not a skipped record: {item!r}"[:200])
    return Skipped(str(item.get("warc_file")), int(item.get("offset", -1)),
                   str(item.get("reason")), str(item.get("detail") or ""))
