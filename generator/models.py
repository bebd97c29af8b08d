"""Stage 4, models: Pydantic v2 models of the component schemas, through datamodel-code-generator.

It reads the bundled document (never the split sources) and returns source text; nothing is written.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

from .diagnostics import GenerationError
from .naming import is_python_name, pascal, snake


def class_name(schema_name: str) -> str:
    """The model class of a component schema: its own name when that is a good class name."""
    if is_python_name(schema_name) and schema_name[:1].isupper():
        return schema_name
    return pascal(schema_name)


def _open_free_form_objects(node: Any) -> Any:
    """A copy in which an object schema with no declared members says `additionalProperties: true`.

    JSON Schema already means that; said explicitly, the model keeps the content (`extra="allow"`)
    instead of a field-less class that drops every key it is given.
    """
    if isinstance(node, list):
        return [_open_free_form_objects(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _open_free_form_objects(v) for k, v in node.items()}
    types = out.get("type")
    is_object = types == "object" or (isinstance(types, list) and "object" in types)
    members = (
        "properties",
        "additionalProperties",
        "patternProperties",
        "allOf",
        "anyOf",
        "oneOf",
        "$ref",
    )
    if is_object and not any(k in out for k in members):
        out["additionalProperties"] = True
    return out


def field_aliases(schemas: Any) -> dict[str, str]:
    """Python names for wire names that are not identifiers: `participants[]` -> `participants`.

    The wire name stays the field's alias; names that already work are left to the model generator.
    """
    names: set[str] = set()
    stack = [schemas]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            props = node.get("properties")
            if isinstance(props, dict):
                names.update(props)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return {name: snake(name) for name in sorted(names) if not is_python_name(name)}


def generate_models(data: dict[str, Any]) -> str:
    """Source of `models.py` for a bundled document (unformatted; the write stage formats)."""
    from datamodel_code_generator import (
        DataModelType,
        InputFileType,
        PythonVersion,
        generate,
    )

    schemas = _open_free_form_objects((data.get("components") or {}).get("schemas") or {})
    if not schemas:
        return "from pydantic import BaseModel  # noqa: F401  (no component schemas)\n"
    # Only what the models need: keeps the input small and the output independent of paths.
    document = {
        "openapi": data.get("openapi", "3.1.0"),
        "info": {"title": "models", "version": "0"},
        "paths": {},
        "components": {"schemas": schemas},
    }
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = generate(
                json.dumps(document),
                input_file_type=InputFileType.OpenAPI,
                output_model_type=DataModelType.PydanticV2BaseModel,
                target_python_version=PythonVersion.PY_311,
                openapi_scopes=["schemas"],
                disable_timestamp=True,
                use_annotated=True,
                field_constraints=True,
                use_standard_collections=True,
                use_union_operator=True,
                allow_population_by_field_name=True,
                use_schema_description=True,
                use_field_description=True,
                enum_field_as_literal="all",
                use_double_quotes=True,
                custom_class_name_generator=class_name,
                aliases=field_aliases(schemas),
                formatters=[],
            )
    except Exception as exc:  # d-c-g raises many types; the user needs the message, not the stack
        raise GenerationError(
            f"datamodel-code-generator failed: {' '.join(str(exc).split())}"
        ) from None
    if not isinstance(out, str):
        raise GenerationError("datamodel-code-generator returned no single module")
    # drop its own header: ours says what generated the file and from which spec
    lines = out.splitlines()
    while lines and (lines[0].startswith("#") or not lines[0].strip()):
        lines.pop(0)
    return "\n".join(lines) + "\n"
