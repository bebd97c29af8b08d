"""Stage 2, validate: structural checks (openapi-spec-validator) plus the project's lint rules."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from jsonschema.exceptions import ValidationError, best_match
from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
from referencing.exceptions import Unresolvable

from .diagnostics import Diagnostic, join_pointer
from .lint import lint
from .load import Document


def _locating(cls: type) -> type:
    """A keyword validator that stamps its errors with where it was looking.

    The spec validator checks schemas and `default` values with nested JSON Schema validators whose
    errors are relative to the schema or value: without this, they would all point at `/`.
    """

    class Locating(cls):  # type: ignore[misc]
        def __call__(self, where: Any, *args: Any, **kwargs: Any) -> Iterator[ValidationError]:
            for error in super().__call__(where, *args, **kwargs):
                if not hasattr(error, "baas_base"):
                    # the validator re-wraps foreign errors (dropping attributes): wrap first
                    if not isinstance(error, OpenAPIValidationError):
                        error = OpenAPIValidationError.create_from(error)
                    error.baas_base = (*where.parts, *(["default"] if args else []))
                yield error

    return Locating


def _located_validator(base: Any) -> type:
    keywords = dict(base.keyword_validators)
    keywords["schema"] = _locating(keywords["schema"])
    keywords["default"] = _locating(keywords["default"])
    return type(base.__name__, (base,), {"keyword_validators": keywords})


_V30 = _located_validator(OpenAPIV30SpecValidator)
_V31 = _located_validator(OpenAPIV31SpecValidator)


def structural(doc: Document) -> list[Diagnostic]:
    version = str(doc.data.get("openapi", ""))
    if version.startswith("3.1"):
        validator_cls: type = _V31
    elif version.startswith("3.0"):
        validator_cls = _V30
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
        if not out:  # else what it found already says what is wrong
            out.append(
                doc.diagnostic(
                    "", f"structural validation stopped: {_one_line(str(exc))}", "openapi"
                )
            )
    return out


def _located(doc: Document, error: ValidationError) -> Diagnostic:
    base = getattr(error, "baas_base", ())
    # oneOf/anyOf failures blame the parent; the best sub-error says what is really wrong.
    if error.context:
        deeper = best_match(error.context)
        if deeper is not None and len(deeper.absolute_path) >= len(error.absolute_path):
            error = deeper
    pointer = join_pointer("", *base, *error.absolute_path) or _pointer_from_message(
        str(error.message)
    )
    message = " ".join(str(error.message).split()).split(" Failed validating")[0]
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


def validate(doc: Document, *, house: bool = True) -> list[Diagnostic]:
    """Every problem in the document, structural first; empty when it is good to generate from."""
    problems = structural(doc) + lint(doc, house=house)
    return sorted(set(problems))
