"""Versioned releases of a corpus, and rebuilding one byte for byte from its manifest.

A release is a folder `RELEASES/VERSION/` (a semantic version) holding a whole build, so
`datasets.load_dataset("RELEASES/VERSION")` loads it, plus `release.json`: the exact WARC files it
was built from (name, sha256, size), the warcpack version and a hash of its source, the versions of
every library that shapes the output, the build config, the row schema version and the sha256 of
every output file. `RELEASES/CHANGELOG.md` gets an entry from the diff with the previous release.
The manifest holds no wall-clock time and no absolute path: releasing the same inputs with the
same versions gives the same bytes.

The store only grows, so an old release's WARC files are still there: `rebuild` builds from
exactly those files (whatever was captured since) and compares every output hash.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import semver
from rich.console import Console
from rich.markup import escape

from warcpack import __version__, changelog
from warcpack.build import BuildError, BuildSummary, build
from warcpack.diff import RELEASE_MANIFEST, CorpusDiff, diff
from warcpack.installation import dependency_versions, site_config_sha256, source_sha256, tool
from warcpack.limits import DEFAULT_LIMITS, Limits
from warcpack.row import schema_version
from warcpack.store import Store, StoreError
from warcpack.store.atomic import write_atomic
from warcpack.store.manifest import sha256_file
from warcpack.store.names import check_name
from warcpack.textmode import ACCURATE
from warcpack.write.corpus import SHARD_ROWS

MANIFEST_FORMAT = 1


class ReleaseError(Exception):
    """A release cannot be made (bad or taken version, store problem, failed build)."""


class RebuildError(Exception):
    """A rebuild cannot run (unreadable manifest, a WARC file missing or altered)."""


# --- versions -------------------------------------------------------------------------------------


def parse_version(text: str) -> semver.Version:
    """A semantic version (MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]) or ReleaseError."""
    try:
        return semver.Version.parse(text)
    except (ValueError, TypeError):
        raise ReleaseError(f"{text!r} is not a semantic version (MAJOR.MINOR.PATCH, e.g. 1.0.0)"
                           ) from None


def releases(root: Path) -> list[tuple[semver.Version, Path]]:
    """The releases in a releases folder (sub-folders with a release.json), oldest first."""
    found = []
    if Path(root).is_dir():
        for child in sorted(Path(root).iterdir()):
            if (child / RELEASE_MANIFEST).is_file() and semver.Version.is_valid(child.name):
                found.append((semver.Version.parse(child.name), child))
    return sorted(found, key=lambda item: item[0])


# --- release --------------------------------------------------------------------------------------


def _store_files(store: Store, names: list[str], error: type[Exception]) -> list[dict[str, Any]]:
    """name, sha256, size of each WARC file, hashed from its bytes and checked against the
    store's SHA256SUMS."""
    listed = store.manifest()
    out = []
    for name in names:
        unsafe = check_name(name)
        if unsafe:  # from a hand-edited SHA256SUMS or release.json: never joined onto the root
            raise error(f"the store {store.root} cannot hold it: {unsafe}")
        path = store.root / name
        if name not in listed or not path.is_file():
            raise error(f"the store {store.root} has no WARC file {name}")
        digest = sha256_file(path)
        if digest != listed[name]:
            raise error(f"{path}: sha256 {digest} differs from the store's SHA256SUMS "
                        f"({listed[name]}); run `warcpack verify --store {store.root}`")
        out.append({"name": name, "sha256": digest, "size": path.stat().st_size})
    return out


def output_files(folder: Path) -> list[dict[str, Any]]:
    """path, sha256 and bytes of every file of a built corpus (release.json aside), by path."""
    out = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if rel != RELEASE_MANIFEST:
            out.append({"path": rel, "sha256": sha256_file(path), "bytes": path.stat().st_size})
    return sorted(out, key=lambda o: o["path"])


def _manifest(version: str, previous: str | None, store_files: list[dict[str, Any]],
              summary: BuildSummary, shard_rows: int, folder: Path,
              limits: Limits) -> dict[str, Any]:
    stats = summary.stats.to_json()
    return {
        "limits": asdict(limits),
        **({} if summary.reproducible else {"reproducible": False}),
        "format": MANIFEST_FORMAT,
        "release": version,
        "previous_release": previous,
        "tool": tool(),
        "dependencies": dependency_versions(),
        "schema_version": schema_version(),
        "config": {"text_policy": summary.text_policy, "shard_rows": shard_rows,
                   "text_mode": summary.text_mode or ACCURATE,
                   "site_config_sha256": site_config_sha256()},
        "store": {"files": store_files},
        "rows": {"rows": summary.rows_written, "text_rows": summary.text_rows,
                 "urls": summary.urls, "records_seen": summary.records_seen,
                 "identical_recaptures": summary.recaptures,
                 "skipped": summary.skipped_total, "captured": stats["captured"]},
        "outputs": output_files(folder),
    }


def dumps(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()


@dataclass
class ReleaseReport:
    version: str
    folder: Path
    manifest: dict[str, Any]
    summary: BuildSummary
    changes: CorpusDiff | None  # None for the first release

    def print(self, console: Console) -> None:
        self.summary.print(console)
        where = escape(str(self.folder / RELEASE_MANIFEST))
        console.print(f"release [bold]{self.version}[/] written: {where}")
        if self.changes is None:
            console.print(f"first release: {changelog.plural(self.summary.rows_written, 'row')}")
        else:
            console.print(escape(self.changes.headline()), highlight=False)


def release(
    version: str,
    store: Path | Store,
    out: Path = Path("releases"),
    *,
    workers: int | None = None,
    text_policy: str = "all",
    shard_rows: int = SHARD_ROWS,
    progress: bool = True,
    limits: Limits = DEFAULT_LIMITS,
    text_mode: str = ACCURATE,
) -> ReleaseReport:
    """Build the store into OUT/VERSION, write its release.json and a CHANGELOG entry.

    VERSION must be a semantic version greater than every release already in OUT. The build
    reads the store's WARC files as they are when the release starts. `limits` (see
    `warcpack.limits`) and `text_mode` are written into release.json, and a rebuild uses them.
    """
    wanted = parse_version(version)
    out = Path(out)
    existing = releases(out)
    if (out / version / RELEASE_MANIFEST).exists():
        raise ReleaseError(f"release {version} already exists in {out}; releases are never "
                           "replaced: choose a new version")
    if existing and not wanted > existing[-1][0]:
        raise ReleaseError(f"version {version} is not greater than the latest release "
                           f"{existing[-1][1].name}")
    try:
        opened = store if isinstance(store, Store) else Store.open(store)
        names = opened.warc_files()
    except (StoreError, ValueError) as exc:
        raise ReleaseError(str(exc)) from None
    store_files = _store_files(opened, names, ReleaseError)
    folder = out / version
    try:
        summary = build(opened, folder, workers=workers, text_policy=text_policy,
                        progress=progress, shard_rows=shard_rows, files=names, limits=limits,
                        text_mode=text_mode)
    except BuildError as exc:
        raise ReleaseError(str(exc)) from None
    if not summary.ok:
        raise ReleaseError(f"{summary.error_count} records gave rows the schema refuses (listed "
                           f"in {folder / 'build-summary.json'}); no release is made of them")
    previous = existing[-1][1] if existing else None
    manifest = _manifest(version, previous.name if previous else None, store_files, summary,
                         shard_rows, folder, limits)
    changes = diff(previous, folder) if previous else None
    if changes is not None:
        changes.new = version
    # release.json last: it is what makes the release exist, so a release killed before it is
    # simply run again (the build resumes, the CHANGELOG entry is replaced, not repeated).
    changelog.prepend(out / changelog.NAME, changelog.entry(version, manifest, changes))
    write_atomic(folder / RELEASE_MANIFEST, dumps(manifest))
    return ReleaseReport(version, folder, manifest, summary, changes)


# --- rebuild --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VersionDifference:
    """Something the output depends on that is not what the release was built with."""

    name: str
    release: str
    here: str


def load_manifest(path: Path) -> dict[str, Any]:
    """A release.json, checked for the keys a rebuild needs."""
    try:
        manifest = json.loads(Path(path).read_text("utf-8"))
    except OSError as exc:
        raise RebuildError(f"cannot read the release manifest {path}: {exc}") from None
    except ValueError as exc:
        raise RebuildError(f"{path}: not a JSON release manifest ({exc})") from None
    needed = ("release", "tool", "dependencies", "config", "store", "outputs", "schema_version")
    missing = [key for key in needed if not isinstance(manifest, dict) or key not in manifest]
    if missing:
        raise RebuildError(f"{path}: not a warcpack release manifest (no {', '.join(missing)})")
    return manifest


def version_differences(manifest: dict[str, Any]) -> list[VersionDifference]:
    """Versions (libraries, Python, warcpack and its source, site config, row schema) that
    differ from the release's: with any of them the rebuild may not be byte-identical."""
    here = dependency_versions()
    out = [VersionDifference(name, want, here.get(name, "not installed"))
           for name, want in sorted(manifest["dependencies"].items())
           if here.get(name, "not installed") != want]
    pairs = (
        ("warcpack", manifest["tool"].get("version"), __version__),
        ("warcpack source (sha256)", manifest["tool"].get("source_sha256"), source_sha256()),
        ("site config (sha256)", manifest["config"].get("site_config_sha256"),
         site_config_sha256()),
        ("row schema", manifest["schema_version"], schema_version()),
    )
    out += [VersionDifference(name, str(want), str(got)) for name, want, got in pairs
            if want != got]
    return out


@dataclass
class RebuildReport:
    """A rebuild's verdict: identical, or the files that differ, are missing or are extra."""

    release: str
    out: Path
    versions: list[VersionDifference]
    differing: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # in the release, not in the rebuild
    extra: list[str] = field(default_factory=list)  # in the rebuild, not in the release

    @property
    def identical(self) -> bool:
        return not (self.differing or self.missing or self.extra)

    def print(self, console: Console) -> None:
        if self.identical:
            console.print(f"[green]identical[/]: the rebuild of {self.release} in "
                          f"{escape(str(self.out))} matches every output hash of the release")
            return
        console.print(f"[red]different[/]: the rebuild of {self.release} in "
                      f"{escape(str(self.out))} does not match the release")
        for label, paths in (("differs", self.differing), ("missing", self.missing),
                             ("extra", self.extra)):
            for path in paths:
                console.print(f"  {label}: {escape(path)}", highlight=False)
        if self.versions:
            console.print("(versions differ from the release's: see above)")


def print_versions(differences: list[VersionDifference], release_name: str,
                   console: Console) -> None:
    """Say which versions differ from the release's, before a rebuild starts."""
    if not differences:
        return
    console.print(f"[yellow]versions differ from release {release_name}'s[/] (the rebuild may "
                  "not be identical):")
    for d in differences:
        console.print(f"  {escape(d.name)}: release {escape(d.release)}, here {escape(d.here)}",
                      highlight=False)


def rebuild(
    manifest_path: Path,
    store: Path | Store,
    out: Path,
    *,
    workers: int | None = None,
    progress: bool = True,
) -> RebuildReport:
    """Rebuild a release into OUT from exactly its WARC files and compare every output hash."""
    manifest_path = Path(manifest_path)
    manifest = load_manifest(manifest_path)
    if Path(out).resolve() == manifest_path.parent.resolve() or \
            (Path(out) / RELEASE_MANIFEST).exists():
        raise RebuildError(f"{out} is a release folder: rebuild into another folder")
    try:
        opened = store if isinstance(store, Store) else Store.open(store)
    except StoreError as exc:
        raise RebuildError(str(exc)) from None
    listed = manifest["store"]["files"]
    found = _store_files(opened, [f["name"] for f in listed], RebuildError)
    for want, got in zip(listed, found, strict=True):
        if (want["sha256"], want["size"]) != (got["sha256"], got["size"]):
            raise RebuildError(
                f"{opened.root / want['name']}: sha256 {got['sha256']} ({got['size']} bytes) is "
                f"not the release's {want['sha256']} ({want['size']} bytes)")
    config = manifest["config"]
    try:
        limits = Limits(**manifest.get("limits", {}))  # releases before limits: the defaults
    except (TypeError, ValueError) as exc:
        raise RebuildError(f"{manifest_path}: unusable limits ({exc})") from None
    try:
        build(opened, Path(out), workers=workers, text_policy=config["text_policy"],
              shard_rows=config["shard_rows"], progress=progress,
              files=[f["name"] for f in listed], limits=limits,
              text_mode=config.get("text_mode", ACCURATE))  # older releases: the default
    except BuildError as exc:
        raise RebuildError(str(exc)) from None
    wanted = {o["path"]: o["sha256"] for o in manifest["outputs"]}
    got = {o["path"]: o["sha256"] for o in output_files(Path(out))}
    return RebuildReport(
        release=str(manifest["release"]),
        out=Path(out),
        versions=version_differences(manifest),
        differing=sorted(p for p in wanted.keys() & got.keys() if wanted[p] != got[p]),
        missing=sorted(wanted.keys() - got.keys()),
        extra=sorted(got.keys() - wanted.keys()),
    )
