"""Requests exactly as the vendors' official SDKs send them reach the right operation, validated.

Each fixture in tests/fixtures/sdk_requests/<vendor>.yaml records one request an SDK builds (method,
path, query, headers, body encoding). It is sent to the generated server: it must be routed to the
operation the fixture names and pass the spec's validation of parameters, credentials and body.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
import yaml
from conftest import PROJECT, VENDORS, package, vendor_api
from fastapi.responses import Response
from fastapi.testclient import TestClient

FIXTURES = PROJECT / "tests" / "fixtures" / "sdk_requests"


def fixtures(vendor: str) -> list[dict[str, Any]]:
    path = FIXTURES / f"{vendor}.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else []


CASES = [(v, i, f) for v in VENDORS for i, f in enumerate(fixtures(v))]


def test_every_vendor_has_sdk_fixtures() -> None:
    for vendor in VENDORS:
        recorded = fixtures(vendor)
        tags = {op.tag for op in vendor_api(vendor).operations}
        covered = {
            op.tag
            for op in vendor_api(vendor).operations
            if op.id in {f["operationId"] for f in recorded}
        }
        assert len({f["operationId"] for f in recorded}) >= 15, vendor
        assert covered == tags, f"{vendor}: no SDK fixture for tags {sorted(tags - covered)}"


def encode(fixture: dict[str, Any], runtime: Any) -> tuple[dict[str, str], bytes | None]:
    headers = {str(k): str(v) for k, v in (fixture.get("headers") or {}).items()}
    body = fixture.get("body")
    media = fixture.get("content_type")
    if body is None or media is None:
        return headers, None
    kind = media.split(";")[0].strip()
    if kind == "application/x-www-form-urlencoded":
        content = urlencode(list(runtime.flatten_form(body))).encode()
    elif kind.startswith("multipart/"):
        content, media = runtime.encode_multipart(body)
    elif isinstance(body, str):
        content = body.encode()
    else:
        content = json.dumps(body).encode()
    headers["Content-Type"] = media
    return headers, content


def query_pairs(query: dict[str, Any], json_params: set[str]) -> list[tuple[str, str]]:
    pairs = []
    for key, value in (query or {}).items():
        if key in json_params and not isinstance(value, str):
            pairs.append((key, json.dumps(value)))  # `content: application/json` parameters
            continue
        for item in value if isinstance(value, list) else [value]:
            text = (
                json.dumps(item)
                if isinstance(item, (dict, list))
                else (str(item).lower() if isinstance(item, bool) else str(item))
            )
            pairs.append((key, text))
    return pairs


@pytest.mark.parametrize(
    ("vendor", "index", "fixture"), CASES, ids=[f"{v}:{i}:{f['operationId']}" for v, i, f in CASES]
)
def test_sdk_request_matches_its_operation(
    vendor: str, index: int, fixture: dict[str, Any]
) -> None:
    server = package(vendor, "server")
    runtime = package(vendor, "_client_runtime")
    reached: list[str] = []

    def recorder(name: str) -> Any:
        async def handle(self: Any, **received: Any) -> Response:
            reached.append(name)
            return Response(status_code=299)

        return handle

    handlers = {op.py_name: recorder(op.id) for op in vendor_api(vendor).operations}
    app = server.create_app(type("Recorder", (server.Handlers,), handlers)())
    headers, content = encode(fixture, runtime)
    op = next(o for o in vendor_api(vendor).operations if o.id == fixture["operationId"])
    json_params = {p.name for p in op.parameters if p.is_json}
    with TestClient(app) as http:
        response = http.request(
            fixture["method"],
            fixture["path"],
            params=query_pairs(fixture.get("query"), json_params),
            headers=headers,
            content=content,
        )
    assert reached == [fixture["operationId"]], (
        f"{fixture['name']}: answered {response.status_code} {response.text[:300]}"
    )
    assert response.status_code == 299
