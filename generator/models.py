"""Stage 4, models: Pydantic v2 models of the component schemas, through datamodel-code-generator.

It reads the bundled document (never the split sources) and returns source text; nothing is written.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
import warnings
from typing import Any

from jsonschema import Draft202012Validator

from .diagnostics import GenerationError, join_pointer, split_pointer
from .load import resolve_pointer
from .naming import is_python_name, pascal, snake

_SCHEMAS = "#/components/schemas/"
# field names the Pydantic mypy plugin's synthesized `__init__(..., **kwargs)` would clash with
_PLUGIN_NAMES = frozenset({"kwargs"})


def class_name(schema_name: str) -> str:
    """The model class of a component schema: its own name when that is a good class name."""
    if is_python_name(schema_name) and schema_name[:1].isupper():
        return schema_name
    return pascal(schema_name)


def schema_classes(names: Any) -> dict[str, str]:
    """Component schema name -> model class, one distinct class per schema, stable as names come.

    A name that is already a good class name keeps it. Others are PascalCased; when two names
    meet on one class (`pet-item`, `Pet.Item`), the later in sorted order gets a suffix made from
    its own name, not a counter, so adding a schema never renames another.
    """
    out: dict[str, str] = {}
    taken: set[str] = set()
    ordered = sorted(names, key=lambda n: (class_name(n) != n, n))
    for name in ordered:
        candidate = class_name(name)
        if candidate in taken:
            digest = hashlib.sha1(name.encode()).hexdigest()[:6]
            candidate = f"{candidate}{digest.upper()}"
        taken.add(candidate)
        out[name] = candidate
    return dict(sorted(out.items()))


def _renamed(node: Any, classes: dict[str, str]) -> Any:
    """A copy whose component schema references use the class names (what d-c-g names them by)."""
    if isinstance(node, list):
        return [_renamed(v, classes) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _renamed(v, classes) for k, v in node.items()}
    ref = out.get("$ref")
    if isinstance(ref, str) and ref.startswith(_SCHEMAS):
        tokens = split_pointer(ref[1:])
        if len(tokens) >= 3 and tokens[2] in classes:
            out["$ref"] = join_pointer("#/components/schemas", classes[tokens[2]], *tokens[3:])
    return out


def _typed_defaults(schemas: dict[str, Any]) -> dict[str, Any]:
    """Schemas whose `default`s the generated fields can carry as they are.

    - A default that does not match its own schema (`"1"` for an integer) is dropped: typed
      code cannot hold it, and a server would never send it.
    - A property with a default whose schema is a `$ref` (maybe nullable) to a scalar, enum or
      union component gets that component inlined: the field is then typed `Literal[...]`, `str`
      or a union and takes the default as written, where a wrapper class
      (`Effort(RootModel[...])`) would not.
    """
    root = {"components": {"schemas": schemas}}

    def target(ref: str) -> Any:
        try:
            return resolve_pointer(root, ref.removeprefix("#"))
        except LookupError:
            return None

    def wrapper(ref: Any, depth: int = 0) -> dict[str, Any] | None:
        """The component at `ref` when it becomes a wrapper class (not a model with fields)."""
        node = target(ref) if isinstance(ref, str) and ref.startswith("#/") else None
        if not isinstance(node, dict) or depth > 8:
            return None
        if isinstance(node.get("$ref"), str) and len(node) == 1:
            return wrapper(node["$ref"], depth + 1)
        kind = node.get("type")
        objectish = kind == "object" or (isinstance(kind, list) and "object" in kind)
        if any(k in node for k in ("properties", "allOf", "$ref", "not")) or objectish:
            return None
        return node

    def single_ref(node: dict[str, Any]) -> dict[str, Any] | None:
        """The schema holding the one `$ref` a property's type is, through allOf and nullability."""
        parts = node.get("allOf")
        lone = parts[0] if isinstance(parts, list) and len(parts) == 1 else None
        if isinstance(lone, dict) and isinstance(lone.get("$ref"), str) and "$ref" not in node:
            node["$ref"] = node.pop("allOf")[0]["$ref"]  # allOf of one: the reference itself
        if isinstance(node.get("$ref"), str):
            return node
        for key in ("anyOf", "oneOf"):
            branches = node.get(key)
            if isinstance(branches, list):
                real = [b for b in branches if isinstance(b, dict) and b.get("type") != "null"]
                if len(real) == 1 and len(branches) - len(real) <= 1:
                    return single_ref(real[0])
        return None

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(v) for v in node]
        if not isinstance(node, dict):
            return node
        out = {
            k: (v if k in ("default", "enum", "const", "examples") else walk(v))
            for k, v in node.items()
        }
        holder = single_ref(out) if "default" in out or "$ref" in out else None
        inline = wrapper(holder["$ref"]) if holder is not None else None
        if inline is not None and "default" not in out and "default" not in inline:
            return out  # no default on either side: the wrapper class is fine
        if holder is not None and inline is not None:
            del holder["$ref"]
            for key, value in inline.items():
                if key not in ("title", "description"):
                    holder.setdefault(key, value)
        if "default" not in out:
            return out
        # the components beside the schema, so that its `#/components/...` references resolve
        check = {**root, "allOf": [{k: v for k, v in out.items() if k != "default"}]}
        try:
            valid = Draft202012Validator(check).is_valid(out["default"])
        except Exception:  # an unresolvable reference: leave the default to the model generator
            valid = True
        if not valid:
            out.pop("default")
        return out

    return {name: walk(schema) for name, schema in schemas.items()}


_BRANCHES = ("allOf", "anyOf", "oneOf")
# what stays at the place of use when an inline schema moves to its own model
_AT_USE = ("description", "default", "readOnly", "writeOnly", "deprecated")


def _hoist(schemas: dict[str, Any]) -> dict[str, Any]:
    """Every inline object schema becomes a model of its own, named by where it sits.

    `Pet.properties.owner` is `PetOwner`, its array items `PetTagsItem`, a map's values
    `PetLabelsValue`, the second branch of a oneOf `PetOption2` (or its title). The model
    generator would otherwise name them after the property and number clashes (`Owner1`), which
    renames models whenever another schema is added. `$defs` entries become models too.
    """
    out: dict[str, Any] = {}
    taken = set(schemas)
    moved: dict[str, str] = {}  # "#/components/schemas/X/$defs/Y" -> new model name

    def claim(base: str) -> str:
        name = class_name(base)
        if name in taken:
            name += hashlib.sha1(base.encode()).hexdigest()[:6].upper()
        taken.add(name)
        return name

    for owner, schema in schemas.items():  # $defs first: references to them are rewritten
        if isinstance(schema, dict) and isinstance(schema.get("$defs"), dict):
            for key in schema["$defs"]:
                moved[join_pointer(_SCHEMAS.rstrip("/"), owner, "$defs", key)] = claim(
                    owner + pascal(key)
                )

    def visit(node: Any, owner: str, top: bool, branch: bool = False) -> Any:
        if isinstance(node, list):
            return [visit(v, owner, False) for v in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref in moved:
            return {**node, "$ref": _SCHEMAS + moved[ref]}
        if not top and (_is_model_schema(node) or (branch and _wrapped_branch(node))):
            name = claim(owner)
            nullable = isinstance(node.get("type"), list) and "null" in node["type"]
            body = {k: v for k, v in node.items() if k not in ("default",)}
            if nullable:
                body["type"] = [t for t in node["type"] if t != "null"] or "object"
                if isinstance(body["type"], list) and len(body["type"]) == 1:
                    body["type"] = body["type"][0]
            out[name] = visit(body, name, True)
            use: dict[str, Any] = {"$ref": _SCHEMAS + name}
            if nullable:
                use = {"anyOf": [use, {"type": "null"}]}
            return {**use, **{k: node[k] for k in _AT_USE if k in node}}
        result: dict[str, Any] = {}
        for key, value in node.items():
            if key in ("default", "enum", "const", "examples", "example") or key.startswith("x-"):
                result[key] = value
            elif key == "$defs":
                continue  # moved to their own models above
            elif key == "properties" and isinstance(value, dict):
                result[key] = {p: visit(v, owner + pascal(p), False) for p, v in value.items()}
            elif key == "patternProperties" and isinstance(value, dict):
                result[key] = {p: visit(v, owner + "Value", False) for p, v in value.items()}
            elif key in ("items", "additionalProperties", "contains"):
                result[key] = visit(
                    value, owner + ("Item" if key != "additionalProperties" else "Value"), False
                )
            elif key == "prefixItems" and isinstance(value, list):
                result[key] = [visit(v, f"{owner}Item{i + 1}", False) for i, v in enumerate(value)]
            elif key in _BRANCHES and isinstance(value, list):
                real = [b for b in value if not (isinstance(b, dict) and b.get("type") == "null")]
                if key == "allOf":  # parts of this very model: merged into it, not classes
                    result[key] = [visit(b, owner, True) for b in value]
                    continue
                result[key] = [
                    visit(
                        b,
                        owner if len(real) == 1 else _branch_name(owner, b, i),
                        False,
                        # only under a default, which the model generator would push into them
                        branch=len(real) > 1 and "default" in node,
                    )
                    for i, b in enumerate(value)
                ]
            else:
                result[key] = value
        return result

    for owner, schema in schemas.items():
        out[owner] = visit(schema, owner, True)
        if isinstance(schema, dict):
            for key, sub in (schema.get("$defs") or {}).items():
                target = moved[join_pointer(_SCHEMAS.rstrip("/"), owner, "$defs", key)]
                out[target] = visit(sub, target, True)
    return out


def _is_model_schema(node: dict[str, Any]) -> bool:
    """An inline schema the model generator would turn into a class of its own."""
    kind = node.get("type")
    objectish = kind in (None, "object") or (isinstance(kind, list) and "object" in kind)
    if not objectish or "$ref" in node:
        return False
    parts = node.get("allOf")
    composed = isinstance(parts, list) and (
        len(parts) > 1 or any(isinstance(p, dict) and p.get("properties") for p in parts)
    )
    return bool(node.get("properties")) or composed


_CONSTRAINTS: tuple[str, ...] = (
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
)
_CONSTRAINTS += ("minLength", "maxLength", "pattern", "minItems", "maxItems", "uniqueItems")


def _wrapped_branch(node: dict[str, Any]) -> bool:
    """A union branch the model generator wraps in a class of its own (arrays, constrained values).

    Under a field with a default it names those after the field, numbers them (`Stop1`) and
    pushes the default into them; as models of their own they are named by place, default-free.
    """
    if "$ref" in node or node.get("type") == "null":
        return False
    return node.get("type") == "array" or any(k in node for k in _CONSTRAINTS)


def _branch_name(owner: str, branch: Any, index: int) -> str:
    title = branch.get("title") if isinstance(branch, dict) else None
    if isinstance(title, str) and title.strip():
        return owner + pascal(title)
    return f"{owner}Option{index + 1}"


def defined_classes(source: str) -> frozenset[str]:
    """The classes a generated models module defines (what `models.X` may name)."""
    tree = ast.parse(source)
    return frozenset(node.name for node in tree.body if isinstance(node, ast.ClassDef))


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
    return {
        name: snake(name) + ("_" if name in _PLUGIN_NAMES else "")
        for name in sorted(names)
        if not is_python_name(name) or name in _PLUGIN_NAMES
    }


def generate_models(data: dict[str, Any], classes: dict[str, str] | None = None) -> str:
    """Source of `models.py` for a bundled document (unformatted; the write stage formats).

    `classes` is `schema_classes` of its component schemas, when the caller has it already.
    """
    from datamodel_code_generator import (
        DataModelType,
        InputFileType,
        PythonVersion,
        generate,
    )

    raw = (data.get("components") or {}).get("schemas") or {}
    classes = classes if classes is not None else schema_classes(raw)
    schemas = _open_free_form_objects(
        _hoist(
            _typed_defaults(
                _renamed({classes[name]: schema for name, schema in raw.items()}, classes)
            )
        )
    )
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
                custom_class_name_generator=class_name,  # keys are class names already: kept
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
    return _mark_overrides(_annotated_constraints(_union_operator("\n".join(lines) + "\n")))


_CONSTRAINED = {"constr": ("str", "StringConstraints"), "conint": ("int", "Field")}
_CONSTRAINED |= {"confloat": ("float", "Field")}


def _closing(source: str, start: int, pair: str) -> int:
    """The index just past the bracket closing the one opened right before `start`."""
    depth, end = 1, start
    while depth and end < len(source):
        depth += {pair[0]: 1, pair[1]: -1}.get(source[end], 0)
        end += 1
    return end


def _annotated_constraints(source: str) -> str:
    """`conint(ge=0) | constr(pattern=...)` -> `Annotated[int, Field(ge=0)] | Annotated[str, ...]`.

    The model generator writes constrained union members as calls, which type checkers refuse as
    annotations; Pydantic reads the `Annotated` form the same way.
    """
    out, pos, used = [], 0, set()
    for match in re.finditer(r"\b(constr|conint|confloat)\(", source):
        if match.start() < pos:
            continue
        end = _closing(source, match.end(), "()")
        base, marker = _CONSTRAINED[match.group(1)]
        used.add(marker)
        out.append(source[pos : match.start()])
        out.append(f"Annotated[{base}, {marker}({source[match.end() : end - 1]})]")
        pos = end
    if not used:
        return source
    out.append(source[pos:])
    text = "".join(out)
    # what the new form needs; the formatter merges these into the existing imports
    needed = f"from typing import Annotated\nfrom pydantic import {', '.join(sorted(used))}\n"
    head, _, rest = text.partition("from __future__ import annotations\n")
    return f"{head}from __future__ import annotations\n{needed}{rest}" if rest else needed + text


def _union_operator(source: str) -> str:
    """`Union[A, B]` -> `A | B` where the model generator kept `Union` (recursive wrappers).

    It keeps it where a member is a quoted forward reference, for `"A" | B` fails at runtime;
    `dict[str, "A"] | B` does not, and reads as the rest of the module.
    """
    out, pos = [], 0
    for match in re.finditer(r"\bUnion\[", source):
        if match.start() < pos:
            continue
        end = _closing(source, match.end(), "[]")
        inner = source[match.end() : end - 1]
        parts, depth, start = [], 0, 0
        for i, char in enumerate(inner):
            depth += {"[": 1, "]": -1}.get(char, 0)
            if char == "," and depth == 0:
                parts.append(inner[start:i].strip())
                start = i + 1
        parts.append(inner[start:].strip())
        parts = [p for p in parts if p]
        if depth or any(p[:1] in "\"'" for p in parts):
            continue
        out.append(source[pos : match.start()])
        out.append(" | ".join(parts))
        pos = end
    out.append(source[pos:])
    return "".join(out)


def _mark_overrides(source: str) -> str:
    """Let type checkers accept a field an `allOf` subclass re-declares with another type.

    `allOf: [Video, {properties: {account: Account}}]` makes `VideoDetails(Video)` re-declare
    `account`; Pydantic validates by the subclass's type, mypy calls that an incompatible override.
    """
    tree = ast.parse(source)
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}

    def fields(cls: ast.ClassDef) -> dict[str, str]:
        return {
            stmt.target.id: ast.unparse(stmt.annotation)
            for stmt in cls.body
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)
        }

    def inherited(cls: ast.ClassDef, seen: frozenset[str] = frozenset()) -> dict[str, str]:
        out: dict[str, str] = {}
        for base in cls.bases:
            if isinstance(base, ast.Name) and base.id in classes and base.id not in seen:
                parent = classes[base.id]
                out.update(inherited(parent, seen | {cls.name}))
                out.update(fields(parent))
        return out

    marked: set[int] = set()
    for cls in classes.values():
        above = inherited(cls)
        for stmt in cls.body:
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                name = stmt.target.id
                if name in above and above[name] != ast.unparse(stmt.annotation):
                    marked.add(stmt.lineno)
    if not marked:
        return source
    lines = source.splitlines()
    for number in marked:
        lines[number - 1] += "  # type: ignore[assignment, unused-ignore]"
    return "\n".join(lines) + "\n"
