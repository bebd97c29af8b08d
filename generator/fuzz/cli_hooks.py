"""Our specs' conventions for the plain Schemathesis CLI; `schemathesis.toml` loads this file.

    schemathesis run http://127.0.0.1:8182/openapi.json --url http://127.0.0.1:8182 \\
        --checks all --phases examples,coverage,fuzzing,stateful

(from the project root; elsewhere put the project on PYTHONPATH and pass `--config-file`, or set
`SCHEMATHESIS_HOOKS=<this file>` for the auth alone.) Each case gets the credentials its operation's
security requirement asks for, from the same `Authenticator` our own runner uses (it opens the
vendor's sessions through the generated client).

- `BAAS_VENDOR`: the vendor; by default recognised from the spec's `info.title`.
- `BAAS_CREDENTIALS`: the app's credentials as JSON, named as `python -m emulators <vendor>
  --print-config` names them (its whole output is accepted too); by default the emulator's own.

Cached per operation; after a 401 Schemathesis fetches again and we open fresh sessions once (a
fuzzed `DELETE /session` may have closed ours), then replays the request.

One false positive of Schemathesis 4.32.5 is set aside by `filter_failure` (the run's summary counts
what it drops): "schema-violating request accepted" for an `application/x-www-form-urlencoded` body
whose fields, read back as a form server reads them, satisfy the schema after all. A form carries
only text: a number mutated into a numeric string, or a one-item array sent as one field, is not
negative on the wire. 4.32.5 knows this for flat fields, not for nested `a[b]=` (deepObject) ones.
Likewise for a request whose only fault is one extra, unknown header: HTTP recipients ignore header
fields they do not recognise (RFC 9110, section 5.1), and 4.32.5 knows that, except in its coverage
phase for operations with a request body. And `filter_case` skips form bodies the wire cannot carry:
a nested key that is empty or holds a bracket has no `a[key]=` name (`a[]=` means a list).
"""

from __future__ import annotations

import json
import os
import random
import sys
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import schemathesis

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # loaded by file path, outside the project's package
    sys.path.insert(0, str(ROOT))

from generator.fuzz.auth import Authenticator  # noqa: E402
from generator.vendors import VENDORS  # noqa: E402


def _vendor(spec: dict[str, Any]) -> str:
    if os.environ.get("BAAS_VENDOR"):
        return os.environ["BAAS_VENDOR"]
    title = (spec.get("info") or {}).get("title", "")
    for vendor in VENDORS:
        bundled = ROOT / "generated" / vendor / "openapi.json"
        if bundled.exists() and json.loads(bundled.read_text())["info"]["title"] == title:
            return vendor
    raise RuntimeError(f"set BAAS_VENDOR: no vendor's spec is titled {title!r}")


def _credentials(vendor: str) -> dict[str, str]:
    given = json.loads(os.environ.get("BAAS_CREDENTIALS") or "{}")
    if "credentials" in given:  # the whole `--print-config` output
        given = given["credentials"]
    if given:
        return {k: str(v) for k, v in given.items()}
    import emulators

    return dict(emulators.load(vendor, environ=dict(os.environ)).credentials)


def _operation_id(case: Any, ctx: Any) -> str:
    return str(ctx.operation.definition.raw.get("operationId") or ctx.operation.label)


@schemathesis.auth(cache_by_key=_operation_id)
class VendorAuth:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.auth: Authenticator | None = None
        self.fetched: set[str] = set()  # operations served since the last sign-in

    def get(self, case: Any, ctx: Any) -> dict[str, str]:
        operation_id = _operation_id(case, ctx)
        with self.lock:
            if self.auth is None or operation_id in self.fetched:  # first use, or after a 401
                import httpx

                schema = ctx.operation.schema
                vendor = _vendor(schema.raw_schema)
                url = schema.get_base_url()
                http = httpx.Client(base_url=url, timeout=30)
                self.auth = Authenticator(vendor, _credentials(vendor), http=http, base_url=url)
                # Hypothesis seeds `random` for every case; a signed session's nonce must not repeat
                state = random.getstate()
                random.seed()
                try:
                    self.auth.login()
                finally:
                    random.setstate(state)
                for note in self.auth.notes:
                    print(f"cli_hooks: {note}", file=sys.stderr)
                self.fetched = set()
            self.fetched.add(operation_id)
            return self.auth.headers(operation_id)

    def set(self, case: Any, data: dict[str, str], ctx: Any) -> None:
        case.headers = {**(case.headers or {}), **data}


# -- form bodies ---------------------------------------------------------------------------------


@schemathesis.hook
def filter_case(context: Any, case: Any) -> bool:
    """Skip a form body with a nested key that bracket names cannot spell."""
    media_type = (case.media_type or "").split(";")[0].strip().lower()
    if media_type != "application/x-www-form-urlencoded" or not isinstance(case.body, dict):
        return True
    return not any(_unspellable(value) for value in case.body.values())


def _unspellable(value: Any) -> bool:
    if isinstance(value, dict):
        return any(
            not key or "[" in key or "]" in key or _unspellable(child)
            for key, child in value.items()
        )
    if isinstance(value, list):
        return any(_unspellable(item) for item in value)
    return False


@schemathesis.hook
def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
    """Keep every failure except an accepted "negative" request that was valid as sent."""
    if getattr(failure, "code", None) != "ST201":
        return True
    return not (_only_an_unknown_header(case) or _form_valid_as_sent(case, response))


def _only_an_unknown_header(case: Any) -> bool:
    from schemathesis.core.parameters import ParameterLocation
    from schemathesis.generation.meta import CoverageScenario

    data = case.meta.phase.data if case.meta is not None else None
    return (
        getattr(data, "scenario", None) == CoverageScenario.OBJECT_UNEXPECTED_PROPERTIES
        and getattr(data, "parameter_location", None) == ParameterLocation.HEADER
    )


def _form_valid_as_sent(case: Any, response: Any) -> bool:
    from schemathesis.core.parameters import ParameterLocation

    media_type = (case.media_type or "").split(";")[0].strip().lower()
    meta = case.meta
    if media_type != "application/x-www-form-urlencoded" or meta is None:
        return False
    others = [loc for loc in ParameterLocation if loc != ParameterLocation.BODY]
    if not meta.is_negative_at(ParameterLocation.BODY) or any(map(meta.is_negative_at, others)):
        return False
    sent = response.request.body
    if isinstance(sent, str):
        sent = sent.encode()
    body = case.operation.get_body_for_media_type(case.media_type)
    if not isinstance(sent, bytes) or body is None:
        return False
    root = body.optimized_schema
    validator_cls = case.operation.schema.adapter.jsonschema_validator_cls
    try:
        fields = parse_qsl(sent.decode("utf-8", errors="replace"), keep_blank_values=True)
        tree = _nest(fields, _properties(root, root))
        return bool(validator_cls({**root}).is_valid(_read(tree, root, root, validator_cls)))
    except Exception:  # a schema or body we cannot judge: keep the failure
        return False


def _resolve(schema: Any, root: dict[str, Any]) -> Any:
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
        node: Any = root
        for token in schema["$ref"].lstrip("#/").split("/"):
            node = node[token]
        schema = node
    return schema


def _properties(schema: Any, root: dict[str, Any]) -> set[str]:
    schema = _resolve(schema, root)
    return set(schema.get("properties") or {}) if isinstance(schema, dict) else set()


def _nest(fields: list[tuple[str, str]], declared: set[str]) -> dict[str, Any]:
    """`a[b][c]=x` to `{"a": {"b": {"c": ["x"]}}}`: a leaf keeps every value sent under its name."""
    tree: dict[str, Any] = {}
    for name, value in fields:
        head, _, rest = name.partition("[")
        path = [name] if name in declared or not rest else [head, *rest.rstrip("]").split("][")]
        node = tree
        for token in path[:-1]:
            node = node.setdefault(token, {})
            if not isinstance(node, dict):
                raise ValueError(name)
        leaf = path[-1] or "[]"
        node.setdefault(leaf, []).append(value)
    return tree


def _text_readings(text: str) -> list[Any]:
    """How a form server may read one text: as is, as a JSON scalar, or `0`/`1` as a boolean."""
    readings: list[Any] = [text]
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    else:
        if not isinstance(parsed, (dict, list)):
            readings.append(parsed)
    if text in ("0", "1"):
        readings.append(text == "1")
    return readings


def _read(node: Any, schema: Any, root: dict[str, Any], validator_cls: Any) -> Any:
    """The reading of a sent node that its schema accepts, if there is one (else the first)."""
    options: list[Any]
    if isinstance(node, dict):
        schema = _resolve(schema, root)
        props = (schema.get("properties") or {}) if isinstance(schema, dict) else {}
        extra = schema.get("additionalProperties", {}) if isinstance(schema, dict) else {}
        listed = node.pop("[]", None)
        other = extra if isinstance(extra, dict) else {}
        read = {
            key: _read(child, props.get(key, other), root, validator_cls)
            for key, child in node.items()
        }
        options = [read] if listed is None else [listed]
    elif len(node) == 1:
        options = [*_text_readings(node[0]), *([r] for r in _text_readings(node[0]))]
    else:
        options = [node, [_first_valid(_text_readings(t), {}, root, validator_cls) for t in node]]
        resolved = _resolve(schema, root)
        items = resolved.get("items", {}) if isinstance(resolved, dict) else {}
        options.append([_first_valid(_text_readings(t), items, root, validator_cls) for t in node])
    return _first_valid(options, schema, root, validator_cls)


def _first_valid(options: list[Any], schema: Any, root: dict[str, Any], validator_cls: Any) -> Any:
    if not isinstance(schema, dict) or not schema:
        return options[0]
    validator = validator_cls({**schema, "x-bundled": root.get("x-bundled", {})})
    return next((o for o in options if validator.is_valid(o)), options[0])
