"""For every operation of every vendor, the generated client calls the generated server in process.

A recording implementation asserts what arrived (parameters, body, credentials) and answers with the
spec's own success example; the client must hand back that example as its typed model.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from conftest import VENDORS, annotation_type, package, vendor_api, vendor_doc
from fastapi.testclient import TestClient
from pydantic import BaseModel, TypeAdapter
from samples import deref, media_example, sample

from generator import ir


def credentials(api: ir.Api) -> dict[str, Any]:
    creds: dict[str, Any] = {}
    for scheme in api.schemes:
        creds[scheme.py_name] = ("user", "pass") if scheme.is_basic else f"cred-{scheme.name}"
    for name in api.credentials:
        creds[name] = "signing-secret"
    return creds


def operation_object(vendor: str, op: ir.Operation) -> dict[str, Any]:
    doc = vendor_doc(vendor)
    section, key = ("webhooks", op.path) if op.webhook else ("paths", op.path)
    return deref(doc, doc.data[section][key])[op.method]


def call_plan(vendor: str, op: ir.Operation) -> tuple[list[Any], dict[str, Any], Any, Any]:
    """Positional args, keyword args, the body and the response to answer with."""
    doc = vendor_doc(vendor)
    raw = operation_object(vendor, op)
    params = {deref(doc, p)["name"]: deref(doc, p) for p in raw.get("parameters", [])}
    item = deref(doc, doc.data["paths"][op.path])
    params = {
        **{deref(doc, p)["name"]: deref(doc, p) for p in item.get("parameters", [])},
        **params,
    }
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for p in op.parameters:
        spec = params.get(p.name, {})
        schema = spec.get("schema") or next(iter(spec.get("content", {}).values()), {}).get(
            "schema", {}
        )
        value = spec["example"] if "example" in spec else sample(doc, schema)
        if value is None and not p.required:
            continue
        value = TypeAdapter(annotation_type(vendor, p.annotation)).validate_python(value)
        if p.location == "path":
            args.append(value)
        else:
            kwargs[p.py_name] = value
    body = None
    if op.body:
        content = deref(doc, raw["requestBody"])["content"]
        media = content[op.body.media_type]
        example = media_example(doc, media)
        value = example if example is not None else sample(doc, media.get("schema", {}))
        if op.body.kind in ("json", "form", "multipart"):
            body = TypeAdapter(annotation_type(vendor, op.body.annotation)).validate_python(value)
        else:
            body = value if isinstance(value, bytes) else str(value).encode()
    answer = None
    success = op.success
    if success is not None and success.annotation is not None:
        response = deref(doc, raw["responses"][success.status])
        media = response["content"][success.media_type]
        example = media_example(doc, media)
        if success.kind == "binary":
            answer = b"\x00binary\xff"
        elif success.kind == "text":
            answer = example if isinstance(example, str) else "text"
        else:
            answer = example if example is not None else sample(doc, media.get("schema", {}))
    return args, kwargs, body, answer


def recording_handlers(vendor: str, op: ir.Operation, answer: Any, seen: dict[str, Any]) -> Any:
    server = package(vendor, "server")

    async def handle(self: Any, **received: Any) -> Any:
        seen.update(received)
        return answer

    return type("Recording", (server.Handlers,), {op.py_name: handle})()


def plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_unset=True)
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def same(got: Any, sent: Any, annotation: str) -> bool:
    """Equal, allowing a `str | int` parameter to come back as the text it was sent as."""
    if plain(got) == plain(sent):
        return True
    return "str" in annotation and " | " in annotation and str(plain(got)) == str(plain(sent))


def check_received(
    op: ir.Operation,
    args: list[Any],
    kwargs: dict[str, Any],
    body: Any,
    seen: dict[str, Any],
    creds: dict[str, Any],
    api: ir.Api,
) -> None:
    by_name = {p.py_name: p for p in op.parameters}
    for p, value in zip(op.path_params, args, strict=True):
        assert same(seen[p.py_name], value, p.annotation), p.name
    for name, value in kwargs.items():
        assert same(seen[name], value, by_name[name].annotation), name
    if op.body is not None:
        sent, got = plain(body), plain(seen["body"])
        if op.signature is not None and isinstance(got, dict):
            for generated_field in (op.signature.field, op.signature.nonce, op.signature.timestamp):
                got.pop(generated_field, None)
                if isinstance(sent, dict):
                    sent.pop(generated_field, None)
        assert got == sent
    chosen = next(
        (
            alt
            for alt in op.security
            if all(creds.get(s.py_name) is not None for s in api.schemes if s.name in alt)
        ),
        (),
    )
    auth = seen["auth"]
    for scheme in api.schemes:
        if scheme.name in chosen and scheme.signature is None:
            assert getattr(auth, scheme.py_name) == creds[scheme.py_name], scheme.name


def check_result(vendor: str, op: ir.Operation, result: Any, answer: Any) -> None:
    success = op.success
    if success is None or success.annotation is None:
        assert result is None
    elif success.kind in ("binary", "text"):
        assert result == answer
    else:
        adapter: TypeAdapter[Any] = TypeAdapter(annotation_type(vendor, success.annotation))
        expected = adapter.dump_python(adapter.validate_python(answer), mode="json", by_alias=True)
        assert adapter.dump_python(result, mode="json", by_alias=True) == expected


CASES = [(v, op.id) for v in VENDORS for op in vendor_api(v).operations]


def find(vendor: str, operation_id: str) -> ir.Operation:
    return next(op for op in vendor_api(vendor).operations if op.id == operation_id)


@pytest.mark.parametrize(("vendor", "operation_id"), CASES)
def test_sync_client_reaches_server(vendor: str, operation_id: str) -> None:
    api, op = vendor_api(vendor), find(vendor, operation_id)
    args, kwargs, body, answer = call_plan(vendor, op)
    seen: dict[str, Any] = {}
    app = package(vendor, "server").create_app(recording_handlers(vendor, op, answer, seen))
    creds = credentials(api)
    with package(vendor, "client").Client(http_client=TestClient(app), **creds) as client:
        call_args = [*args, body] if op.body is not None else args
        result = getattr(client, op.py_name)(*call_args, **kwargs)
        assert client.last_response is not None
        assert client.last_response.status_code == (op.success.code if op.success else 200)
    check_received(op, args, kwargs, body, seen, creds, api)
    check_result(vendor, op, result, answer)


@pytest.mark.parametrize(("vendor", "operation_id"), CASES)
def test_async_client_reaches_server(vendor: str, operation_id: str) -> None:
    api, op = vendor_api(vendor), find(vendor, operation_id)
    args, kwargs, body, answer = call_plan(vendor, op)
    seen: dict[str, Any] = {}
    app = package(vendor, "server").create_app(recording_handlers(vendor, op, answer, seen))
    creds = credentials(api)

    async def go() -> Any:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            client = package(vendor, "client").AsyncClient(http_client=http, **creds)
            call_args = [*args, body] if op.body is not None else args
            return await getattr(client, op.py_name)(*call_args, **kwargs)

    result = asyncio.run(go())
    check_received(op, args, kwargs, body, seen, creds, api)
    check_result(vendor, op, result, answer)


@pytest.mark.parametrize(("vendor", "operation_id"), CASES)
def test_unimplemented_operation_answers_501_in_vendor_envelope(
    vendor: str, operation_id: str
) -> None:
    api, op = vendor_api(vendor), find(vendor, operation_id)
    server = package(vendor, "server")
    app = server.create_app(server.Handlers())
    args, kwargs, body, _ = call_plan(vendor, op)
    with package(vendor, "client").Client(
        http_client=TestClient(app), retries=0, **credentials(api)
    ) as client:
        call_args = [*args, body] if op.body is not None else args
        with pytest.raises(package(vendor, "client").ApiError) as info:
            getattr(client, op.py_name)(*call_args, **kwargs)
    error = info.value
    assert error.status == 501
    assert "detail" not in (error.raw if isinstance(error.raw, dict) else {})
    if api.error.schema:
        assert error.body is not None, f"501 body does not match {api.error.schema}: {error.raw!r}"
