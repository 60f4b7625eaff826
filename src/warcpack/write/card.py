"""The dataset card (README.md): YAML that `datasets` reads, and a body people read.

The YAML declares the two configs and their exact features (from `features`), so
`load_dataset(OUT)` and `load_dataset(OUT, "metadata")` need nothing but the folder.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import yaml

from warcpack.write import features
from warcpack.write.summary import BuildSummary, rfc3339

DATA_FILES = {"text": "data/text/*.parquet", "metadata": "data/metadata/*.parquet"}
TOP_SITES = 20

POLICY_TEXT = {
    "all": "The `text` config holds every row, whatever its licence. Check each row's "
           "`license` before sharing text outside your organisation.",
    "redistributable": "The `text` config holds only rows whose `license.redistributable` is "
                       "true; the `metadata` config still lists every row (without text).",
}


def front_matter(features_yaml: Mapping[str, list[dict[str, Any]]] | None = None
                 ) -> dict[str, Any]:
    """The card's YAML: the configs and their features (row counts are in the body).

    `features_yaml`: each config's `features.features_yaml`, if already known (deriving them
    imports `datasets`, which takes seconds: a build keeps them in its cache)."""
    if features_yaml is None:
        features_yaml = {name: features.features_yaml(name) for name in features.CONFIGS}
    return {
        "pretty_name": "warcpack corpus",
        "license": "other",
        "configs": [
            {
                "config_name": name,
                **({"default": True} if name == "text" else {}),
                "data_files": [{"split": "train", "path": DATA_FILES[name]}],
            }
            for name in features.CONFIGS
        ],
        "dataset_info": [
            {"config_name": name, "features": features_yaml[name]}
            for name in features.CONFIGS
        ],
    }


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _fields_table() -> list[str]:
    lines = ["| field | type | description |", "|---|---|---|"]
    for name, label, description in features.field_docs("text"):
        lines.append(f"| `{name}` | {_cell(label)} | {_cell(description)} |")
    return lines


def _figures(summary: BuildSummary) -> list[str]:
    stats = summary.stats
    skipped = ", ".join(f"{reason} {count}" for reason, count
                        in sorted(summary.skipped_by_reason.items())) or "none"
    first, last = rfc3339(stats.captured_first), rfc3339(stats.captured_last)
    sites = sorted(stats.sites.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = ", ".join(f"{site} ({count})" for site, count in sites[:TOP_SITES])
    more = f", and {len(sites) - TOP_SITES} more" if len(sites) > TOP_SITES else ""
    return [
        f"- WARC records read: {summary.records_seen}",
        f"- Rows: {summary.rows_written} in `metadata`, {summary.text_rows} in `text`",
        f"- Pages (URLs): {summary.urls}; identical re-captures (counted in the `captures` of "
        f"their revision's row): {summary.recaptures}",
        f"- Records skipped: {summary.skipped_total} ({skipped}); each is listed with its WARC "
        "file, byte offset and reason in `build-summary.json`",
        f"- Sites: {len(sites)}" + (f": {shown}{more}" if sites else ""),
        f"- Captured: {first} to {last}" if first else "- Captured: no rows",
        "- Languages: " + (", ".join(f"{lang} ({count})" for lang, count
                                     in sorted(stats.languages.items())) or "none"),
    ]


def _licences(summary: BuildSummary) -> list[str]:
    red = summary.stats.redistributable
    return [
        "Rows by `license.redistributable` (all rows):",
        "",
        "| redistributable | rows |",
        "|---|---|",
        f"| true | {red['true']} |",
        f"| false | {red['false']} |",
        f"| unknown (null) | {red['unknown']} |",
        "",
        "The rights in each page stay with its publisher. `license` records what the page "
        "(or the site configuration) says: the statement, a licence URL, an SPDX id when it is "
        "recognised, and where it was found. `unknown` means nothing usable was found.",
    ]


def _rebuild(summary: BuildSummary) -> list[str]:
    extractors = ", ".join(f"{k} {v}" for k, v in sorted(summary.extractor_versions.items()))
    writers = ", ".join(f"{k} {v}" for k, v in sorted(summary.writer_versions.items()))
    return [
        "Every row names the WARC record it came from (`provenance.warc_file`, "
        "`provenance.warc_offset`, `provenance.warc_length`, `provenance.warc_record_id`, "
        "`provenance.payload_digest`), so any row can be checked against the archived bytes.",
        "",
        "To rebuild this corpus byte for byte, take the same WARC store and the same versions:",
        "",
        "```sh",
        f"warcpack build --store STORE --out OUT --text-policy {summary.text_policy}"
        + (f" --text-mode {summary.text_mode}" if summary.text_mode else "")
        + (" --records LIST" if summary.records_list else ""),
        "```",
        "",
        *([f"This build read only the {summary.records_list['records']} records of a record "
           "list (sha256 of the selection, as `file offset` lines in order: "
           f"`{summary.records_list['sha256']}`); LIST must name the same records.", ""]
          if summary.records_list else []),
        *([f"This build ran with other limits than the defaults (see `warcpack.limits`): "
           f"`{json.dumps(summary.limits, sort_keys=True)}`; give the same ones.", ""]
          if summary.limits else []),
        f"- Store: {summary.store['warc_files']} WARC files; sha256 of its `SHA256SUMS`: "
        f"`{summary.store['manifest_sha256']}`",
        f"- warcpack {summary.tool_version}, row schema {summary.schema_version}",
        f"- Extractors: {extractors or '-'}",
        f"- Writers: {writers or '-'}",
        "",
        "`build-summary.json` lists the sha256 of every output file; `croissant.json` "
        "describes the parquet files in the MLCommons Croissant format.",
    ]


def _empty_note(summary: BuildSummary) -> list[str]:
    empty = [name for name, rows in (("text", summary.text_rows),
                                     ("metadata", summary.rows_written)) if rows == 0]
    if not empty:
        return []
    names = " and ".join(f"`{name}`" for name in empty)
    return [f"In this build {names} has no rows: `datasets` cannot load a config with no rows, "
            "but its parquet files still carry the full schema.", ""]


def render(summary: BuildSummary,
           features_yaml: Mapping[str, list[dict[str, Any]]] | None = None) -> str:
    """The whole README.md of a build."""
    yaml_text = yaml.safe_dump(front_matter(features_yaml), sort_keys=False, allow_unicode=True,
                               width=100)
    body = [
        "# warcpack corpus",
        "",
        "Web pages archived losslessly as WARC records and normalised into one row per page: the "
        "main text, title, authors, publication and modification dates with their time zones, "
        "capture time, licence information and the exact WARC record each row came from.",
        "",
        "## Loading",
        "",
        "```python",
        "from datasets import load_dataset",
        "",
        'text = load_dataset("path/to/this/folder")                # the `text` config',
        'meta = load_dataset("path/to/this/folder", "metadata")    # every row, without text',
        "```",
        "",
        "| config | files | rows |",
        "|---|---|---|",
        f"| `text` (default) | `{DATA_FILES['text']}` | {summary.text_rows} |",
        f"| `metadata` | `{DATA_FILES['metadata']}` | {summary.rows_written} |",
        "",
        *_empty_note(summary),
        "`data/text/*.jsonl` holds the rows of the `text` config as JSON lines, exactly as "
        "validated against the row schema (instants keep the UTC offset the page gave). In "
        "parquet, instants are `timestamp[us, tz=UTC]` (the same instant) and days are `date32`.",
        "",
        "## Revisions",
        "",
        "Each capture of a page whose extracted content differs from the previous one is a row "
        "of its own: `revision` counts them per URL in capture order, `previous_id` names the "
        "previous revision's row and `changed` lists the fields that differ from it. A capture "
        "identical to the previous revision (a revisit, or the same content) adds no row: it is "
        "counted in that row's `captures` and moves its `date_last_captured`. Rows are ordered "
        "by `url`, then `revision`.",
        "",
        "## Text policy",
        "",
        f"This build used the text policy `{summary.text_policy}`. "
        + POLICY_TEXT[summary.text_policy],
        "",
        "## Figures of this build",
        "",
        *_figures(summary),
        "",
        "## Licences",
        "",
        *_licences(summary),
        "",
        "## Fields",
        "",
        f"Row schema version {summary.schema_version}. The `metadata` config has every field "
        "but `text`.",
        "",
        *_fields_table(),
        "",
        "## Provenance and rebuilding",
        "",
        *_rebuild(summary),
        "",
    ]
    return f"---\n{yaml_text}---\n\n" + "\n".join(body)
