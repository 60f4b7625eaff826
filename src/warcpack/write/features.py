"""The row schema as table columns: JSON Schema -> pyarrow schema -> Hugging Face features.

Every typed output (parquet, the card's `dataset_info`, croissant.json, the card's field list)
reads the column types from here, and this module reads them from `schema/record.schema.json`,
so a field added to the schema reaches every output without being restated by hand.

Mapping: `format: date-time` -> timestamp[us, tz=UTC] (the instant; the JSONL keeps the offset as
written), `format: date` -> date32, string -> string, integer -> int64, number -> float64,
boolean -> bool, object -> struct (fields in schema order), array -> list.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

import pyarrow as pa

from warcpack.row import schema

CONFIGS = ("text", "metadata")
TEXT_COLUMN = "text"  # the column the metadata config leaves out

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


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    """The node with a local `$ref` merged in (the node's own keys win, e.g. its description)."""
    ref = node.get("$ref")
    if ref is None:
        return node
    target: Any = schema()
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    merged = {**resolve(target), **node}
    merged.pop("$ref")
    return merged


def types_of(node: dict[str, Any]) -> list[str]:
    """The JSON types a node allows, `null` left out."""
    kind = node.get("type", [])
    kinds = [kind] if isinstance(kind, str) else list(kind)
    return [k for k in kinds if k != "null"]


def nullable(node: dict[str, Any]) -> bool:
    kind = node.get("type", [])
    return kind == "null" or (isinstance(kind, list) and "null" in kind)


def properties(node: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(name, resolved node) of an object node's properties, in schema order."""
    for name, child in node.get("properties", {}).items():
        yield name, resolve(child)


def columns(config: str) -> list[tuple[str, dict[str, Any]]]:
    """Top-level (name, resolved node) of a config: `text` has every field, `metadata` not text."""
    if config not in CONFIGS:
        raise ValueError(f"unknown config {config!r}; expected one of {CONFIGS}")
    return [
        (name, node) for name, node in properties(schema())
        if config == "text" or name != TEXT_COLUMN
    ]


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


# --- values -------------------------------------------------------------------------------------

_INSTANT = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$"
)


def parse_instant(value: str) -> datetime:
    """An RFC 3339 date-time to an aware UTC datetime, exactly, or ValueError.

    A fraction finer than a microsecond is refused rather than rounded, so that the parquet
    instant always equals the JSONL's.
    """
    match = _INSTANT.match(value)
    if not match:
        raise ValueError(f"not an RFC 3339 date-time: {value!r}")
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    fraction = fraction or ""
    if fraction[6:].strip("0"):
        raise ValueError(f"{value!r} is finer than a microsecond")
    micro = int((fraction[:6]).ljust(6, "0"))
    if offset == "Z":
        tz_delta = timedelta(0)
    else:
        sign = 1 if offset[0] == "+" else -1
        tz_delta = sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6]))
    local = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro)
    return (local - tz_delta).replace(tzinfo=UTC)


def _converter(node: dict[str, Any]) -> Callable[[Any], Any] | None:
    """A function turning a JSON value of this node into its arrow value; None if unchanged."""
    kinds = types_of(node)
    kind = kinds[0] if len(kinds) == 1 else None
    if kind == "string" and node.get("format") == "date-time":
        return lambda v: None if v is None else parse_instant(v)
    if kind == "string" and node.get("format") == "date":
        return lambda v: None if v is None else date.fromisoformat(v)
    if kind == "array":
        item = _converter(resolve(node["items"]))
        return None if item is None else (lambda v: None if v is None else [item(x) for x in v])
    if kind == "object":
        subs = {name: _converter(child) for name, child in properties(node)}
        subs = {name: conv for name, conv in subs.items() if conv is not None}
        if not subs:
            return None

        def convert_object(v: Any) -> Any:
            if v is None:
                return None
            return {k: (subs[k](x) if k in subs else x) for k, x in v.items()}

        return convert_object
    return None


@cache
def _row_converters() -> dict[str, Callable[[Any], Any] | None]:
    return {name: _converter(node) for name, node in columns("text")}


def arrow_row(row: dict[str, Any]) -> dict[str, Any]:
    """A validated row with its values in their column types (ValueError if one cannot be)."""
    out = {}
    for name, convert in _row_converters().items():
        value = row[name]
        out[name] = value if convert is None else convert(value)
    return out


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
