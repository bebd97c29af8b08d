"""Every example in every spec round-trips through the generated models."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import VENDORS, annotation_type, vendor_api, vendor_doc
from pydantic import TypeAdapter
from samples import deref

from generator.build import Builder
from generator.diagnostics import join_pointer
from generator.models import class_name


def media_examples(vendor: str) -> list[tuple[str, str, Any]]:
    """(pointer, annotation, example value) for every example of a request or response body."""
    doc = vendor_doc(vendor)
    builder = Builder(doc, class_name, package="", source="")
    found = []
    stack: list[tuple[Any, str]] = [(doc.data, "")]
    while stack:
        node, ptr = stack.pop()
        if isinstance(node, list):
            stack.extend((v, join_pointer(ptr, i)) for i, v in enumerate(node))
            continue
        if not isinstance(node, dict):
            continue
        stack.extend((v, join_pointer(ptr, k)) for k, v in node.items() if not k.startswith("x-"))
        if "/content/" not in ptr or not isinstance(node.get("schema"), dict):
            continue
        annotation = builder.annotation(node["schema"])
        if "example" in node:
            found.append((join_pointer(ptr, "example"), annotation, node["example"]))
        for name, example in (node.get("examples") or {}).items():
            example = deref(doc, example)
            if isinstance(example, dict) and "value" in example:
                found.append((join_pointer(ptr, "examples", name), annotation, example["value"]))
    return sorted(found, key=lambda f: f[0])


def shape(value: Any) -> Any:
    """Keys and lengths, not scalar spelling: `+00:00` and `Z` are the same instant."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value]
    return type(value).__name__ if value is not None else None


CASES = [(v, *case) for v in VENDORS for case in media_examples(v)]


@pytest.mark.parametrize(
    ("vendor", "pointer", "annotation", "example"), CASES, ids=[f"{c[0]}:{c[1]}" for c in CASES]
)
def test_example_round_trips(vendor: str, pointer: str, annotation: str, example: Any) -> None:
    not_json = isinstance(example, (bytes, str)) and annotation != "str"
    if annotation in ("bytes", "str") or not_json:
        pytest.skip("not a JSON body")
    adapter: TypeAdapter[Any] = TypeAdapter(annotation_type(vendor, annotation))
    value = adapter.validate_python(example)
    dumped = adapter.dump_python(value, mode="json", by_alias=True, exclude_unset=True)
    again = adapter.validate_python(dumped)
    assert adapter.dump_python(again, mode="json", by_alias=True) == adapter.dump_python(
        value, mode="json", by_alias=True
    )
    assert _keys(dumped) == _keys(example), (
        "a field was lost or renamed on the way through the model"
    )


def _keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_keys(v) for v in value]
    return None


def test_every_vendor_has_examples() -> None:
    for vendor in VENDORS:
        ops = [op for op in vendor_api(vendor).operations]
        assert ops and len(media_examples(vendor)) >= len(ops) // 2, vendor
