"""Any OpenAPI 3.0/3.1 document, not only ours: hand-written fixtures for what the corpus lacks.

`fixtures/specs/generality/` holds cookie parameters, prefixItems, $defs, patternProperties,
mutualTLS, deepObject, odd names and a callback (features-31), and the 3.0 keywords 3.1 dropped
(nullable-30). The corpus itself is run by test_corpus.py.
"""

from __future__ import annotations

import importlib
import ssl
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from generator.load import load
from generator.pipeline import generate_document
from generator.write import write_packages

FIXTURES = Path(__file__).parent / "fixtures" / "specs" / "generality"
PROJECT = Path(__file__).resolve().parent.parent


def _generate(spec: Path, out: Path, package: str, **options: Any) -> ModuleType:
    doc = load(spec, name=package)
    generated = generate_document(doc, package=package, source=spec.name, house=False, **options)
    write_packages(out, [generated])
    sys.path.insert(0, str(out))
    try:
        return importlib.import_module(package)
    finally:
        sys.path.remove(str(out))


@pytest.fixture(scope="module")
def features(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    out = tmp_path_factory.mktemp("features")
    _generate(FIXTURES / "features-31.yaml", out, "features_gen")
    sys.path.insert(0, str(out))
    yield importlib.import_module("features_gen")
    sys.path.remove(str(out))


def _module(package: ModuleType, name: str) -> Any:
    return importlib.import_module(f"{package.__name__}.{name}")


def test_prefix_items_pattern_properties_and_defs(features: ModuleType) -> None:
    models = _module(features, "models")
    assert models.Point.model_validate([1.5, 2]).root == [1.5, 2.0]
    for bad in ([1], [1, 2, 3], ["east", 2]):
        with pytest.raises(ValidationError):
            models.Point.model_validate(bad)
    assert models.Labels.model_validate({"x-team": "chat"}).root == {"x-team": "chat"}
    with pytest.raises(ValidationError):
        models.Labels.model_validate({"team": "chat"})  # not an x- key
    shape = models.Shape.model_validate({"kind": "square", "corner": {"x": 1, "y": 2}})
    assert type(shape.corner).__name__ == "ShapeCorner"  # the $defs entry, named by its owner
    with pytest.raises(ValidationError):
        models.Shape.model_validate({"kind": "square", "corner": {"x": 1}})


def test_odd_names_become_python_names_with_the_wire_name_as_alias(features: ModuleType) -> None:
    models = _module(features, "models")
    wire = {"kind": "k", "class": "big", "@type": "Shape", "2d": True, "size": "1024x1024"}
    shape = models.Shape.model_validate(wire)
    assert (shape.class_, shape.type, shape.n2d, shape.size) == ("big", "Shape", True, "1024x1024")
    assert shape.model_dump(by_alias=True, exclude_none=True) == wire
    assert models.N2faConfig.model_validate({"enabled": True}).enabled is True
    client = _module(features, "client")
    assert hasattr(client.Client, "get2fa_settings") or hasattr(client.Client, "get_2fa_settings")
    # no operationId: named after method and path
    assert hasattr(client.Client, "post_points")


def test_cookie_deep_object_and_mutual_tls_round_trip(features: ModuleType) -> None:
    server, client = _module(features, "server"), _module(features, "client")
    models = _module(features, "models")
    seen: dict[str, Any] = {}

    class Impl(server.Handlers):  # type: ignore[misc, name-defined]
        async def get_shape(
            self, *, auth: Any, shape_id: int, theme: Any = None, filter: Any = None
        ) -> Any:
            seen.update(session=auth.session, shape_id=shape_id, theme=theme, filter=filter)
            return models.Shape(kind=(filter or {}).get("kind", "none"))

        async def post_points(self, *, auth: Any, body: Any) -> Any:
            seen["cert"] = auth.client_cert
            return body

    app = server.create_app(Impl())
    with TestClient(app) as http, client.Client(session="s-1", http_client=http) as api:
        shape = api.get_shape(7, theme="dark", filter={"kind": "square"})
        assert shape.kind == "square"
        assert seen == {
            "session": "s-1",  # the apiKey scheme, sent as cookie `sid`
            "shape_id": 7,  # path parameter `shape-id`
            "theme": "dark",  # cookie parameter
            "filter": {"kind": "square"},  # deepObject: filter[kind]=square
        }
        assert api.post_points([3.0, 4.0]) == [3.0, 4.0]  # an array schema: a plain list
        assert seen["cert"] == ""  # checked by the TLS server; the ASGI server named none here
        anonymous = client.Client(http_client=http)
        with pytest.raises(client.ApiError) as refused:
            anonymous.get_shape(7)
        assert refused.value.status == 401


def test_mutual_tls_credential_is_a_client_certificate(
    features: ModuleType, tmp_path: Path
) -> None:
    runtime = _module(features, "_client_runtime")
    client = _module(features, "client")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    request = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=c"]
    made = subprocess.run(
        ["openssl", *request, "-keyout", str(key), "-out", str(cert)],
        capture_output=True,
        check=False,
    )
    if made.returncode != 0:
        pytest.skip("openssl could not make a test certificate")
    context = runtime.tls_context(client.SCHEMES, {"clientCert": (str(cert), str(key))})
    assert isinstance(context, ssl.SSLContext)
    assert runtime.tls_context(client.SCHEMES, {}) is True
    with client.Client(client_cert=(str(cert), str(key))) as api:
        assert api.last_response is None  # built with the certificate, nothing sent


def test_callbacks_are_received_like_webhooks(features: ModuleType) -> None:
    server = _module(features, "server")
    received: list[Any] = []

    class Hooks(server.WebhooksHandlers):  # type: ignore[misc, name-defined]
        async def stored_post(self, *, body: Any = None) -> None:
            received.append(body)

    with TestClient(server.create_webhook_app(Hooks())) as http:
        answer = http.post("/webhooks/callbacks/stored_post", json=[1, 2])
    assert answer.status_code == 204 and received == [[1.0, 2.0]]


def test_openapi_30_nullable_and_exclusive_bounds(tmp_path: Path) -> None:
    package = _generate(FIXTURES / "nullable-30.yaml", tmp_path, "nullable_gen")
    models = _module(package, "models")
    thing = models.Thing.model_validate({"name": None, "owner": None, "rating": 1, "color": None})
    assert (thing.name, thing.owner, thing.color) == (None, None, None)
    with pytest.raises(ValidationError):  # exclusiveMinimum: true with minimum: 0
        models.Thing.model_validate({"name": "a", "owner": None, "rating": 0, "color": None})
    with pytest.raises(ValidationError):  # required stays required: null is a value, absent is not
        models.Thing.model_validate({"name": "a", "rating": 1, "color": "red"})
    spec = (tmp_path / "nullable_gen" / "openapi.json").read_text(encoding="utf-8")
    assert '"openapi": "3.1.0"' in spec and '"nullable":' not in spec


def test_adding_a_schema_renames_nothing(tmp_path: Path) -> None:
    text = (FIXTURES / "features-31.yaml").read_text(encoding="utf-8")
    before = tmp_path / "before.yaml"
    before.write_text(text, encoding="utf-8")
    after = tmp_path / "after.yaml"
    # a new schema whose inline object would have clashed with Shape's inline `owner`
    extra = (
        "    Circle:\n      type: object\n      properties:\n        owner:\n"
        "          type: object\n          properties:\n            id:\n"
        "              type: integer\n"
    )
    after.write_text(text.replace("  schemas:\n", "  schemas:\n" + extra, 1), encoding="utf-8")
    old = _generate(before, tmp_path / "a", "names_before")
    new = _generate(after, tmp_path / "b", "names_after")
    old_models = (Path(old.__file__).parent / "models.py").read_text(encoding="utf-8")
    new_models = (Path(new.__file__).parent / "models.py").read_text(encoding="utf-8")
    old_classes = _classes(old_models)
    new_classes = _classes(new_models)
    assert set(new_classes) - set(old_classes) == {"Circle", "CircleOwner"}
    assert all(new_classes[name] == body for name, body in old_classes.items())


def _classes(source: str) -> dict[str, str]:
    import ast

    tree = ast.parse(source)
    return {n.name: ast.unparse(n) for n in tree.body if isinstance(n, ast.ClassDef)}


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "generator", "generate", *args],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=False,
    )


BROKEN = """\
openapi: 3.0.3
info: {title: Broken, version: "1"}
paths:
  /items:
    get:
      parameters:
        - in: query
          schema: {type: integer, default: "ten"}
      responses:
        "200": {description: ok}
"""


def test_invalid_document_is_located_then_lenient_and_skips(tmp_path: Path) -> None:
    spec = tmp_path / "broken.yaml"
    spec.write_text(BROKEN, encoding="utf-8")
    out = tmp_path / "out"
    strict = _cli("--spec", str(spec), "--out", str(out))
    assert strict.returncode == 1 and "Traceback" not in strict.stderr + strict.stdout
    assert "broken.yaml:7: /paths/~1items/get/parameters/0: " in strict.stdout
    assert "broken.yaml:8: /paths/~1items/get/parameters/0/schema/default: 'ten'" in strict.stdout
    assert not out.exists()
    lenient = _cli("--spec", str(spec), "--out", str(out), "--lenient")
    # a parameter without a name cannot be generated: reported by pointer, and the run fails
    assert lenient.returncode == 1, lenient.stdout + lenient.stderr
    assert "/paths/~1items/get: operation not generated" in lenient.stdout
    assert not out.exists()
    skipping = _cli("--spec", str(spec), "--out", str(out), "--lenient", "--allow-skips")
    assert skipping.returncode == 0, skipping.stdout + skipping.stderr
    assert "warning: " in skipping.stdout and "operation not generated" in skipping.stdout
    assert (out / "broken" / "client.py").exists()
