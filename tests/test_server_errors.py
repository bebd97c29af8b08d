"""Bad requests to any generated server get a 4xx in the vendor's error envelope: never a 500,
never FastAPI's `{"detail": ...}`."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import VENDORS, package, vendor_api
from fastapi.testclient import TestClient
from test_roundtrip import call_plan, credentials

from generator import ir


def app_and_headers(vendor: str, impl: Any = None) -> tuple[Any, dict[str, str]]:
    server = package(vendor, "server")
    return server.create_app(impl or server.Handlers()), {}


def assert_envelope(vendor: str, response: Any, status: int | None = None) -> None:
    api = vendor_api(vendor)
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    if status is not None:
        assert response.status_code == status, response.text[:300]
    body = response.json()
    assert not (isinstance(body, dict) and set(body) == {"detail"}), body
    if api.error.schema:
        models = package(vendor, "models")
        getattr(models, api.error.schema).model_validate(body)


def secured(vendor: str) -> list[ir.Operation]:
    return [op for op in vendor_api(vendor).operations if op.security and () not in op.security]


CASES = [(v, op.id) for v in VENDORS for op in secured(v)]


def find(vendor: str, operation_id: str) -> ir.Operation:
    return next(op for op in vendor_api(vendor).operations if op.id == operation_id)


def concrete_path(op: ir.Operation) -> str:
    path = op.path
    for p in op.path_params:
        path = path.replace("{" + p.name + "}", "1")
    return path


@pytest.mark.parametrize(("vendor", "operation_id"), CASES)
def test_missing_credentials_get_the_vendor_401(vendor: str, operation_id: str) -> None:
    op = find(vendor, operation_id)
    app, _ = app_and_headers(vendor)
    api = vendor_api(vendor)
    with TestClient(app) as http:
        response = http.request(op.method.upper(), concrete_path(op))
    status = int(api.error.situations.get("unauthorized", {}).get("status", 401))
    runtime = package(vendor, "_server_runtime")
    # an operation that documents 403 but not 401 is answered with what it documents
    assert_envelope(
        vendor, response, runtime.fit_status(status, frozenset(r.code for r in op.responses))
    )


BODY_CASES = [
    (v, op.id)
    for v in VENDORS
    for op in vendor_api(v).operations
    if op.body is not None and op.body.required and op.body.kind in ("json", "form")
]


@pytest.mark.parametrize(("vendor", "operation_id"), BODY_CASES)
def test_malformed_body_is_a_4xx(vendor: str, operation_id: str) -> None:
    op = find(vendor, operation_id)
    server = package(vendor, "server")
    client_mod = package(vendor, "client")
    app = server.create_app(server.Handlers())
    # every credential, so that the request gets past the auth check and fails on its body
    with client_mod.Client(
        http_client=TestClient(app), retries=0, **credentials(vendor_api(vendor))
    ) as client:
        args, _kwargs, _, _ = call_plan(vendor, op)
        request = client._core.build(
            client._http,
            package(vendor, "_client_runtime").Request(
                getattr(client_mod, f"_{op.py_name.upper()}")
            ),
        )
        path = request.url.path
        for p, value in zip(op.path_params, args, strict=True):
            path = path.replace("%7B" + p.name + "%7D", str(value)).replace(
                "{" + p.name + "}", str(value)
            )
        headers = {
            k: v for k, v in request.headers.items() if k.lower() not in ("content-length", "host")
        }
        for content_type, content in (
            ("application/json", b"{not json"),
            ("application/json", b"[1, 2, 3]"),
            ("text/plain", b"hello"),
        ):
            headers["content-type"] = content_type
            response = client._http.request(
                op.method.upper(), path, content=content, headers=headers
            )
            assert response.status_code != 501, f"{content_type} {content!r} reached the handler"
            assert_envelope(vendor, response)


@pytest.mark.parametrize("vendor", VENDORS)
def test_unknown_route_and_method(vendor: str) -> None:
    app, _ = app_and_headers(vendor)
    with TestClient(app) as http:
        assert_envelope(vendor, http.get("/no/such/route"), 404)
        first = vendor_api(vendor).operations[0]
        other = "PATCH" if first.method != "patch" else "PUT"
        response = http.request(other, concrete_path(first))
        assert_envelope(vendor, response)


@pytest.mark.parametrize("vendor", VENDORS)
def test_serves_the_hand_written_spec(vendor: str) -> None:
    app, _ = app_and_headers(vendor)
    with TestClient(app) as http:
        served = http.get("/openapi.json").json()
    assert served == package(vendor, "server").spec()
    assert {op.id for op in vendor_api(vendor).operations} <= {
        op["operationId"]
        for item in served["paths"].values()
        for op in item.values()
        if isinstance(op, dict) and "operationId" in op
    }


@pytest.mark.parametrize("vendor", VENDORS)
def test_authorize_hook_refuses_wrong_credentials(vendor: str) -> None:
    server = package(vendor, "server")
    api = vendor_api(vendor)
    op = secured(vendor)[0]

    class Strict(server.Handlers):  # type: ignore[misc, name-defined]
        async def authorize(self, auth: Any, operation_id: str) -> None:
            raise server.ApiProblem("unauthorized", f"wrong credentials for {operation_id}")

    app = server.create_app(Strict())
    args, kwargs, body, _ = call_plan(vendor, op)
    with (
        package(vendor, "client").Client(
            http_client=TestClient(app), retries=0, **credentials(api)
        ) as client,
        pytest.raises(package(vendor, "client").ApiError) as info,
    ):
        getattr(client, op.py_name)(*([*args, body] if op.body is not None else args), **kwargs)
    assert info.value.status == int(api.error.situations.get("unauthorized", {}).get("status", 401))
    assert "wrong credentials" in str(info.value.raw)
