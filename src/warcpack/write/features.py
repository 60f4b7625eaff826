"""The row schema as table columns: JSON Schema -> pyarrow schema -> Hugging Face features.

Every typed output (parquet, the card's `dataset_info`, croissant.json, the card's field list)
reads the column types from here, and this module reads them from `schema/record.schema.json`,
so a field added to the schema reaches every output without being restated by hand.

Mapping: `format: date-time` -> timestamp[us, tz=UTC] (the instant; the JSONL keeps the offset as
written), `format: date` -> date32, string -> string, integer -> int64, number -> float64,
boolean -> bool, object -> struct (fields in schema order), array -> list.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pyarrow as pa

from warcpack.write.columns import (  # noqa: F401  (the columns' helpers, read from here too)
    CONFIGS,
    TEXT_COLUMN,
    arrow_row,
    columns,
    nullable,
    parse_instant,
    properties,
    resolve,
    types_of,
)

_SCALARS: dict[str, pa.DataType] = {
    "string": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
}
_FORMATS: dict[str, pa.DataType] = {
    "date-time": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
}


def arrow_type(node: dict[str, Any]) -> pa.DataType:
    """The pyarrow type of one resolved schema node."""
    kinds = types_of(node)
    if len(kinds) != 1:
        raise ValueError(f"schema node with types {kinds} has no single column type")
    kind = kinds[0]
    if kind == "object":
        return pa.struct([_arrow_field(name, child) for name, child in properties(node)])
    if kind == "array":
        return pa.list_(arrow_type(resolve(node["items"])))
    if kind == "string" and node.get("format") in _FORMATS:
        return _FORMATS[node["format"]]
    return _SCALARS[kind]


def _arrow_field(name: str, node: dict[str, Any]) -> pa.Field:
    return pa.field(name, arrow_type(node), nullable=nullable(node))


@cache
def arrow_schema(config: str) -> pa.Schema:
    """The parquet schema of a config."""
    return pa.schema([_arrow_field(name, node) for name, node in columns(config)])


def hf_features(config: str) -> Any:
    """`datasets.Features` of a config, as `datasets` itself derives them from the arrow schema."""
    from datasets import Features  # heavy import, only needed when writing the card

    return Features.from_arrow_schema(arrow_schema(config))


def features_yaml(config: str) -> list[dict[str, Any]]:
    """The `dataset_info.features` list of the card's YAML, in the form `datasets` writes."""
    return hf_features(config)._to_yaml_list()


def features_key() -> str:
    """What `features_yaml` depends on: the arrow schemas and the `datasets` version (read
    without importing it), so a build can keep the lists and skip the import next time."""
    import hashlib
    from importlib.metadata import version

    text = "\n".join([version("datasets"), *(arrow_schema(c).to_string() for c in CONFIGS)])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- docs ---------------------------------------------------------------------------------------


def type_label(node: dict[str, Any]) -> str:
    """A short human label of a column's type, for the card."""
    kind = arrow_type(node)
    label = str(kind) if not pa.types.is_struct(kind) else "struct"
    if pa.types.is_list(kind):
        inner = kind.value_type
        label = f"list<{'struct' if pa.types.is_struct(inner) else inner}>"
    return label + (", nullable" if nullable(node) else "")


def field_docs(config: str = "text") -> list[tuple[str, str, str]]:
    """(dotted name, type label, description) of every column and nested field, schema order."""
    out: list[tuple[str, str, str]] = []

    def visit(prefix: str, name: str, node: dict[str, Any]) -> None:
        dotted = f"{prefix}{name}"
        description = node.get("description", "")
        values = [v for v in node.get("enum", []) if v is not None]
        if values:
            description = f"{description} One of: {', '.join(values)}.".strip()
        out.append((dotted, type_label(node), description))
        if types_of(node) == ["object"]:
            for child_name, child in properties(node):
                visit(f"{dotted}.", child_name, child)
        elif types_of(node) == ["array"]:
            item = resolve(node["items"])
            if types_of(item) == ["object"]:
                for child_name, child in properties(item):
                    visit(f"{dotted}[].", child_name, child)

    for name, node in columns(config):
        visit("", name, node)
    return out
