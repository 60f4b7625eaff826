"""croissant.json: the parquet files described in MLCommons Croissant 1.0 (JSON-LD).

Each parquet file is a FileObject with its sha256 and size; each config is a FileSet over its
shards and a RecordSet whose fields (and nested subFields) take their types from `features`.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from warcpack.write import features
from warcpack.write.card import DATA_FILES
from warcpack.write.summary import BuildSummary

PARQUET = "application/x-parquet"
# The standard @context of Croissant 1.0 documents (as mlcroissant writes it).
CONTEXT: dict[str, Any] = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}


def data_type(kind: pa.DataType) -> str:
    """The Croissant dataType of a (non-struct, non-list) arrow type."""
    if pa.types.is_timestamp(kind):
        return "sc:DateTime"
    if pa.types.is_date(kind):
        return "sc:Date"
    if pa.types.is_boolean(kind):
        return "sc:Boolean"
    if pa.types.is_integer(kind):
        return "sc:Integer"
    if pa.types.is_floating(kind):
        return "sc:Float"
    return "sc:Text"


def _field(parent_id: str, name: str, node: dict[str, Any], file_set: str, column: str,
           path: list[str]) -> dict[str, Any]:
    """One Field; struct children become subFields reading the column through a jsonPath."""
    field_id = f"{parent_id}/{name}"
    out: dict[str, Any] = {"@type": "cr:Field", "@id": field_id, "name": name}
    if node.get("description"):
        out["description"] = node["description"]
    kind = features.arrow_type(node)
    if pa.types.is_struct(kind):
        out["subField"] = [
            _field(field_id, child, child_node, file_set, column, [*path, child])
            for child, child_node in features.properties(node)
        ]
        return out
    if pa.types.is_list(kind):
        kind = kind.value_type
        out["repeated"] = True
    out["dataType"] = data_type(kind)
    source: dict[str, Any] = {"fileSet": {"@id": file_set}, "extract": {"column": column}}
    if path:
        source["transform"] = {"jsonPath": ".".join(path)}
    out["source"] = source
    return out


def record_set(config: str) -> dict[str, Any]:
    """The RecordSet of one config, its fields in schema order."""
    file_set = f"{config}-parquet"
    return {
        "@type": "cr:RecordSet",
        "@id": config,
        "name": config,
        "description": ("Every row with its text." if config == "text"
                        else "Every row, every field but the text."),
        "field": [_field(config, name, node, file_set, name, [])
                  for name, node in features.columns(config)],
    }


def document(summary: BuildSummary) -> dict[str, Any]:
    """The croissant.json of a build whose parquet files are listed in `summary.outputs`."""
    files = [
        {
            "@type": "cr:FileObject",
            "@id": out["path"],
            "name": out["path"],
            "contentUrl": out["path"],
            "encodingFormat": PARQUET,
            "contentSize": f"{out['bytes']} B",
            "sha256": out["sha256"],
        }
        for out in summary.outputs if out["path"].endswith(".parquet")
    ]
    file_sets = [
        {
            "@type": "cr:FileSet",
            "@id": f"{config}-parquet",
            "name": f"{config}-parquet",
            "description": f"Parquet shards of the {config} config.",
            "encodingFormat": PARQUET,
            "includes": DATA_FILES[config],
        }
        for config in features.CONFIGS
    ]
    return {
        "@context": CONTEXT,
        "@type": "sc:Dataset",
        "name": "warcpack-corpus",
        "description": (
            "Web pages archived as WARC records and normalised into rows: text, dates with time "
            "zones, licence information and the WARC record each row came from. "
            f"Text policy: {summary.text_policy}."
        ),
        "conformsTo": "http://mlcommons.org/croissant/1.0",
        "license": "Per row: see the license field of each row; rights stay with the publishers.",
        "version": summary.schema_version,
        "distribution": files + file_sets,
        "recordSet": [record_set(config) for config in features.CONFIGS],
    }
