"""Releases from a real store: 1.0.0, then new captures (an edited page, a revisit, a new page)
and 1.1.0; the CHANGELOG and `warcpack diff` list exactly what changed; `warcpack rebuild` of
1.0.0 afterwards is identical, and says which files or versions differ when they do.
The committed sample release is rebuilt from warcs/ too."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from news_pages import MODIFIED, capture_now, europa, other_pages, serve
from servers import TestServer
from typer.testing import CliRunner

from warcpack.cli import app
from warcpack.installation import dependency_versions
from warcpack.release import (
    ReleaseError,
    load_manifest,
    release,
    releases,
    version_differences,
)

REPO = Path(__file__).resolve().parents[1]
OFFLINE = {"HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}


def cli(*args: str) -> SimpleNamespace:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "2000"})  # no wrapped paths
    return SimpleNamespace(code=result.exit_code, out=" ".join(result.output.split()),
                           raw=result.output)


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> SimpleNamespace:
    """Release 1.0.0 of pages A and B; then A edited, B unchanged, C new; release 1.1.0."""
    base = tmp_path_factory.mktemp("releasing")
    store, root = base / "warcs", base / "releases"
    b_body, c_body = other_pages(2)
    with TestServer() as server:
        a, b = serve(server, "/news/a", europa()), serve(server, "/news/b", b_body)
        first_file = capture_now([a, b], store)
        first = release("1.0.0", store, root, workers=1, progress=False)
        serve(server, "/news/a", europa(MODIFIED, edited=True))
        c = serve(server, "/news/c", c_body)
        second_file = capture_now([a, b, c], store)
        second = release("1.1.0", store, root, workers=1, progress=False)
    return SimpleNamespace(base=base, store=store, root=root, a=a, b=b, c=c, first=first,
                           second=second, files=(first_file, second_file))


def test_changelog_and_diff_list_exactly_the_added_and_changed_rows(made):
    result = cli("diff", str(made.root / "1.0.0"), str(made.root / "1.1.0"), "--json")
    assert result.code == 1  # as diff(1): the releases differ
    found = json.loads(result.raw)
    assert (found["old"], found["new"]) == ("1.0.0", "1.1.0")
    assert [(r["url"], r["revision"]) for r in found["added"]] == [(made.a, 2), (made.c, 1)]
    assert found["removed"] == []
    [changed] = found["changed"]
    assert (changed["url"], changed["revision"]) == (made.b, 1)
    assert "captures" in changed["fields"]  # B was captured again, unchanged: a revisit
    assert set(changed["fields"]) <= {"captures", "date_last_captured"}
    assert found["counts"] == {"old_rows": 2, "new_rows": 4, "added": 2, "removed": 0,
                               "changed": 1, "unchanged": 1}

    text = cli("diff", str(made.root / "1.0.0"), str(made.root / "1.1.0"))
    assert "2 added, 0 removed, 1 changed, 1 unchanged" in text.out
    assert f"+ {made.a} (revision 2" in text.out and f"~ {made.b} (revision 1" in text.out

    log = (made.root / "CHANGELOG.md").read_text("utf-8")
    assert log.index("## 1.1.0") < log.index("## 1.0.0")
    entry = log[log.index("## 1.1.0"):log.index("## 1.0.0")]
    assert "Since 1.0.0: 2 rows added, 0 removed, 1 changed, 1 unchanged" in entry
    listed = dict(re.findall(r"### (\w+)\n\n((?:- .*\n)+)", entry))
    assert set(listed) == {"Added", "Changed"}
    assert re.findall(r"`(\S+)` \(revision (\d)", listed["Added"]) == [(made.a, "2"),
                                                                       (made.c, "1")]
    assert re.findall(r"`(\S+)` \(revision (\d)", listed["Changed"]) == [(made.b, "1")]
    assert "captures" in listed["Changed"]
    assert "First release: 2 rows (2 URLs)." in log[log.index("## 1.0.0"):]

    wrong = cli("diff", str(made.store), str(made.root / "1.1.0"))
    assert wrong.code == 2 and "is not a built corpus" in wrong.out


def test_manifest_lists_inputs_versions_config_and_output_hashes(made):
    for version, files in (("1.0.0", made.files[:1]), ("1.1.0", made.files)):
        folder = made.root / version
        raw = (folder / "release.json").read_text("utf-8")
        manifest = json.loads(raw)
        assert raw == json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
        assert str(made.base) not in raw  # no absolute path
        assert manifest["release"] == version
        assert manifest["previous_release"] == (None if version == "1.0.0" else "1.0.0")
        assert [f["name"] for f in manifest["store"]["files"]] == sorted(files)
        for entry in manifest["store"]["files"]:
            data = (made.store / entry["name"]).read_bytes()
            assert entry["sha256"] == hashlib.sha256(data).hexdigest()
            assert entry["size"] == len(data)
        deps = manifest["dependencies"]
        assert deps == dependency_versions()
        assert {"trafilatura", "htmldate", "lxml", "pyarrow", "datasets", "python"} <= set(deps)
        assert manifest["schema_version"] == "1.1.0"
        assert manifest["config"]["text_policy"] == "all"
        assert len(manifest["config"]["site_config_sha256"]) == 64
        assert manifest["tool"]["name"] == "warcpack"
        paths = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                       if p.is_file() and p.name != "release.json")
        assert [o["path"] for o in manifest["outputs"]] == paths
        for out in manifest["outputs"]:
            data = (folder / out["path"]).read_bytes()
            assert out["sha256"] == hashlib.sha256(data).hexdigest() and out["bytes"] == len(data)
    assert version_differences(load_manifest(made.root / "1.0.0" / "release.json")) == []


def test_rebuild_of_the_old_release_after_new_captures_is_identical(made):
    out = made.base / "rebuilt-1.0.0"
    result = cli("rebuild", str(made.root / "1.0.0" / "release.json"), "--store",
                 str(made.store), "--out", str(out), "--workers", "1", "--no-progress")
    assert result.code == 0, result.raw
    assert "identical" in result.out and "versions differ" not in result.out
    rows = (out / "data/text/train-00000-of-00001.jsonl").read_text("utf-8").splitlines()
    assert len(rows) == 2  # only 1.0.0's WARC file was read, not the captures made since


def test_rebuild_names_differing_files_and_versions(made):
    manifest = json.loads((made.root / "1.1.0" / "release.json").read_text("utf-8"))
    manifest["dependencies"]["trafilatura"] = "0.0.1"
    manifest["outputs"][0]["sha256"] = "0" * 64  # README.md
    manifest["outputs"].append({"path": "data/text/train-00001-of-00002.parquet",
                                "sha256": "1" * 64, "bytes": 1})
    forged = made.base / "forged" / "release.json"
    forged.parent.mkdir()
    forged.write_text(json.dumps(manifest), "utf-8")
    result = cli("rebuild", str(forged), "--store", str(made.store), "--out",
                 str(made.base / "rebuilt-forged"), "--workers", "1", "--no-progress")
    assert result.code == 1, result.raw
    here = dependency_versions()["trafilatura"]
    assert f"trafilatura: release 0.0.1, here {here}" in result.out
    assert result.out.index("trafilatura") < result.out.index("different")  # said before
    assert "differs: README.md" in result.out
    assert "missing: data/text/train-00001-of-00002.parquet" in result.out
    assert "differs: build-summary.json" not in result.out


def test_rebuild_cannot_run_without_the_exact_warc_files(made, tmp_path):
    manifest = json.loads((made.root / "1.0.0" / "release.json").read_text("utf-8"))
    manifest["store"]["files"][0]["sha256"] = "2" * 64
    altered = tmp_path / "altered.json"
    altered.write_text(json.dumps(manifest), "utf-8")
    result = cli("rebuild", str(altered), "--store", str(made.store), "--out",
                 str(tmp_path / "out"))
    assert result.code == 2 and made.files[0] in result.out and "is not the release's" in result.out
    manifest["store"]["files"][0]["name"] = "capture-gone.warc.gz"
    altered.write_text(json.dumps(manifest), "utf-8")
    result = cli("rebuild", str(altered), "--store", str(made.store), "--out",
                 str(tmp_path / "out"))
    assert result.code == 2 and "has no WARC file capture-gone.warc.gz" in result.out
    (tmp_path / "junk.json").write_text("{", "utf-8")
    result = cli("rebuild", str(tmp_path / "junk.json"), "--store", str(made.store), "--out",
                 str(tmp_path / "out"))
    assert result.code == 2 and "not a JSON release manifest" in result.out
    assert not (tmp_path / "out").exists()


def test_release_refuses_a_taken_lower_or_non_semantic_version(made):
    for version, message in (("1.1.0", "already exists"), ("1.0.9", "not greater"),
                             ("v2", "not a semantic version"), ("2.0", "not a semantic")):
        with pytest.raises(ReleaseError, match=message):
            release(version, made.store, made.root, workers=1, progress=False)
        assert not (made.root / version).exists() or version == "1.1.0"
    result = cli("release", "1.0.9", "--store", str(made.store), "--out", str(made.root))
    assert result.code == 1 and "error:" in result.out and "Traceback" not in result.raw


def test_a_release_folder_loads_with_datasets(made, tmp_path):
    env = {**os.environ, **OFFLINE, "HF_HOME": str(tmp_path / "hf")}
    code = ("import datasets, sys; d = datasets.load_dataset(sys.argv[1], split='train', "
            "cache_dir=sys.argv[2]); print(d.num_rows, sorted(set(d['revision'])))")
    shown = subprocess.run([sys.executable, "-c", code, str(made.root / "1.1.0"),
                            str(tmp_path / "cache")], env=env, capture_output=True, text=True,
                           check=True).stdout
    assert shown.split("\n")[0] == "4 [1, 2]"


def test_the_committed_sample_release_rebuilds_from_warcs(tmp_path):
    """Guards releases/ in the repository: its files are those its manifest lists, and the latest
    release is what this code builds from warcs/. With other library versions the rebuild must
    still run and name them; it is then not expected to be identical."""
    manifests = [folder / "release.json" for _, folder in releases(REPO / "releases")]
    assert manifests, "no release in releases/"
    log = (REPO / "releases" / "CHANGELOG.md").read_text("utf-8")
    for path in manifests:
        manifest = json.loads(path.read_text("utf-8"))
        assert f"## {manifest['release']}\n" in log
        for out in manifest["outputs"]:
            data = (path.parent / out["path"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == out["sha256"], out["path"]
    latest = load_manifest(manifests[-1])
    differences = version_differences(latest)
    result = cli("rebuild", str(manifests[-1]), "--store", str(REPO / "warcs"), "--out",
                 str(tmp_path / "rebuilt"), "--workers", "1", "--no-progress")
    assert result.code in (0, 1), result.raw
    for d in differences:
        assert f"{d.name}: release {d.release}, here {d.here}" in result.out
    libraries = [d.name for d in differences if d.name in latest["dependencies"]]
    if libraries and result.code == 1:
        pytest.skip(f"release {latest['release']} was built with other versions of "
                    f"{', '.join(libraries)}; the rebuild ran and named them, but cannot be "
                    "expected to be identical")
    assert result.code == 0 and "identical" in result.out, (
        f"this code no longer builds release {latest['release']} from warcs/ ({result.out}); "
        "if the change is meant, make a new release: warcpack release NEXT --store warcs "
        "--out releases")
