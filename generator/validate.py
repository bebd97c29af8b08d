"""Stage 2, validate: structural checks (openapi-spec-validator) plus the project's lint rules."""

from __future__ import annotations

import re

from jsonschema.exceptions import ValidationError, best_match
from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator
from referencing.exceptions import Unresolvable

from .diagnostics import Diagnostic, join_pointer
from .lint import lint
from .load import Document


def structural(doc: Document) -> list[Diagnostic]:
    version = str(doc.data.get("openapi", ""))
    if version.startswith("3.1"):
        validator_cls: type = OpenAPIV31SpecValidator
    elif version.startswith("3.0"):
        validator_cls = OpenAPIV30SpecValidator
    else:
        return [
            doc.diagnostic(
                "/openapi", f"unsupported OpenAPI version {version!r}: 3.0 and 3.1 are", "openapi"
            )
        ]
    out: list[Diagnostic] = []
    try:
        for error in validator_cls(doc.data).iter_errors():
            if str(error.message).startswith("Operation ID"):
                continue  # the operation-id rule reports it, at the operationId's own line
            out.append(_located(doc, error))
    except Unresolvable:
        pass  # a dangling $ref: the ref-resolves rule reports it with its location
    except Exception as exc:  # the validator gives up on some broken documents: report, don't crash
        out.append(
            doc.diagnostic("", f"structural validation stopped: {_one_line(str(exc))}", "openapi")
        )
    return out


def _located(doc: Document, error: ValidationError) -> Diagnostic:
    # oneOf/anyOf failures blame the parent; the best sub-error says what is really wrong.
    if error.context:
        deeper = best_match(error.context)
        if deeper is not None and len(deeper.absolute_path) >= len(error.absolute_path):
            error = deeper
    pointer = join_pointer("", *error.absolute_path) or _pointer_from_message(str(error.message))
    message = str(error.message).split(" Failed validating")[0]
    return doc.diagnostic(pointer, _one_line(message), "openapi")


# The validator's own checks (beyond its JSON Schema) name the place in words, not in a path.
_NAMED_OPERATION = re.compile(r"for '(\w+)'(?: operation)? in '([^']+)'")


def _pointer_from_message(message: str) -> str:
    match = _NAMED_OPERATION.search(message)
    if match:
        method, path = match.groups()
        return join_pointer("", "paths", path, method)
    return ""


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def validate(doc: Document, *, strict_names: bool = True) -> list[Diagnostic]:
    """Every problem in the document, structural first; empty when it is good to generate from."""
    problems = structural(doc) + lint(doc, strict_names=strict_names)
    return sorted(set(problems))
