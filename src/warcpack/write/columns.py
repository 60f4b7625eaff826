"""The row schema's columns, and a row's values in them: what a worker needs to check that a
row can be written exactly, without importing pyarrow (`features` maps the same columns to
pyarrow and Hugging Face types).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from warcpack.row import schema
from warcpack.write.jsonl import dumps

CONFIGS = ("text", "metadata")
TEXT_COLUMN = "text"  # the column the metadata config leaves out


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


_INSTANT = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$"
)


def parse_instant(value: str) -> datetime:
    """An RFC 3339 date-time to an aware UTC datetime, exactly, or ValueError.

    A fraction finer than a microsecond is refused rather than rounded, so that the parquet
    instant always equals the JSONL's. The pattern decides what is accepted; the C parser then
    reads it (four times faster than building it from the parts, and every row has several).
    """
    match = _INSTANT.match(value)
    if not match:
        raise ValueError(f"not an RFC 3339 date-time: {value!r}")
    fraction = match[7] or ""
    if fraction[6:].strip("0"):
        raise ValueError(f"{value!r} is finer than a microsecond")
    return datetime.fromisoformat(value).astimezone(UTC)


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


@dataclass(frozen=True)
class Prepared:
    """A validated row in its two written forms."""

    line: bytes  # the JSONL line, key order as built
    values: dict[str, Any]  # column values typed for parquet (instants as aware datetimes)


def prepare(row: dict[str, Any], line: bytes | None = None) -> Prepared:
    """Both forms of a row; ValueError if it cannot be written exactly (the row is then refused).
    `line`: the row's JSONL line when it is already known (made by `prepare` from equal values)."""
    if line is None:
        try:
            line = dumps(row)
        except UnicodeEncodeError as exc:
            raise ValueError(f"text is not valid Unicode: {exc}") from None
    return Prepared(line, arrow_row(row))
