"""Values for tests: the spec's own examples first, else the smallest value its schema accepts."""

from __future__ import annotations

from typing import Any

from generator.load import Document, resolve_pointer

_FORMATS = {
    "email": "user@example.com",
    "date-time": "2024-01-02T03:04:05Z",
    "date": "2024-01-02",
    "time": "03:04:05",
    "uri": "https://example.com/x",
    "url": "https://example.com/x",
    "uuid": "123e4567-e89b-12d3-a456-426614174000",
    "ipv4": "127.0.0.1",
}


def deref(doc: Document, schema: Any) -> Any:
    for _ in range(32):
        if isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
            schema = resolve_pointer(doc.data, schema["$ref"][1:])
        else:
            break
    return schema


def sample(doc: Document, schema: Any, depth: int = 0) -> Any:
    schema = deref(doc, schema)
    if not isinstance(schema, dict) or depth > 8:
        return None
    if schema.get("examples"):
        return schema["examples"][0]
    for key in ("example", "default", "const"):
        if key in schema:
            return schema[key]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        options = [deref(doc, s) for s in schema.get(key, [])]
        options = [s for s in options if not (isinstance(s, dict) and s.get("type") == "null")]
        if options:
            return sample(doc, options[0], depth + 1)
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            value = sample(doc, part, depth + 1)
            if isinstance(value, dict):
                merged.update(value)
        return merged
    types = schema.get("type")
    type_ = next((t for t in types if t != "null"), "null") if isinstance(types, list) else types
    if type_ is None and "properties" in schema:
        type_ = "object"
    if type_ == "string":
        if schema.get("format") == "binary":
            return b"file-content"
        if schema.get("format") in _FORMATS:
            return _FORMATS[schema["format"]]
        return (
            "x" * max(1, int(schema.get("minLength", 1)), 3)[: int(schema.get("maxLength", 64))]
            if False
            else (
                "abc"[: max(1, int(schema.get("maxLength", 3)))].ljust(
                    int(schema.get("minLength", 1)), "x"
                )
            )
        )
    if type_ == "integer":
        low = schema.get(
            "minimum", schema.get("exclusiveMinimum", 0) + 1 if "exclusiveMinimum" in schema else 1
        )
        return int(low)
    if type_ == "number":
        return float(schema.get("minimum", 1.5))
    if type_ == "boolean":
        return True
    if type_ == "array":
        count = max(1, int(schema.get("minItems", 1)))
        return [sample(doc, schema.get("items", {}), depth + 1) for _ in range(count)]
    if type_ == "object":
        props = schema.get("properties") or {}
        return {
            name: sample(doc, props.get(name, {}), depth + 1) for name in schema.get("required", [])
        }
    return None


def media_example(doc: Document, media: dict[str, Any]) -> Any:
    """The first example of a media type object, if it has one."""
    if "example" in media:
        return media["example"]
    for example in (media.get("examples") or {}).values():
        example = deref(doc, example)
        if isinstance(example, dict) and "value" in example:
            return example["value"]
    return None
