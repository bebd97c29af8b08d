"""Conformance: Schemathesis fuzzes implementations of the specs; our emulators have zero failures,
and deliberately faulty implementations are each caught by the right check."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest
from conftest import VENDORS
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

import emulators
from emulators.store import Store
from generated.qiscus import models
from generated.qiscus.server import ApiProblem
from generator.fuzz import Options, Report, run

EMULATED = [v for v in VENDORS if importlib.util.find_spec(f"emulators.{v}") is not None]
# a bounded run for CI; `nox -s fuzz` goes deeper
BUDGET = Options(max_examples=3, seed=20261122)


def fuzz_emulator(vendor: str, options: Options = BUDGET) -> Report:
    config = emulators.load(vendor, environ={})
    app = emulators.create_app(vendor, config, Store(":memory:"))
    return run(vendor, app=app, credentials=config.credentials, options=options)


@pytest.mark.parametrize("vendor", EMULATED)
def test_emulator_conforms_to_its_spec(vendor: str) -> None:
    report = fuzz_emulator(vendor)
    print(report.summary())
    assert report.cases > 0
    assert report.operations_covered, "nothing was exercised"
    assert len(report.operations_covered) == report.operations_total, (
        f"not covered: {report.operations_total - len(report.operations_covered)} operations"
    )
    successes = sum(n for status, n in report.statuses.items() if 200 <= status < 300)
    assert successes >= report.operations_total, "too few cases got past validation and auth"
    assert report.ok, report.summary()


# -- the harness can fail: one fault each, caught by the check made for it -----------------------


def qiscus_app(impl: Any) -> Any:
    from generated.qiscus.server import create_app

    return create_app(impl)


def base_impl() -> Any:
    from emulators.qiscus import QiscusEmulator

    return QiscusEmulator(emulators.load("qiscus", environ={}), Store(":memory:"))


def faults(report: Report) -> set[str]:
    return {f.check for f in report.failures}


QISCUS = emulators.load("qiscus", environ={}).credentials


def fuzz_app(
    app: Any,
    only: tuple[str, ...],
    phases: tuple[str, ...] = ("examples", "coverage", "fuzzing"),
) -> Report:
    options = Options(max_examples=10, seed=7, include=only, phases=phases)
    return run("qiscus", app=app, credentials=QISCUS, options=options)


def test_wrong_type_is_caught_by_response_schema_conformance() -> None:
    impl = base_impl()

    async def get_user_profile(**_: Any) -> Any:  # the id comes back as a string
        return JSONResponse(
            {
                "status": 200,
                "results": {
                    "user": {
                        "id": "seven",
                        "email": "a@example.com",
                        "username": "a",
                        "avatar_url": "",
                        "token": "t",
                    }
                },
            }
        )

    impl.get_user_profile = get_user_profile
    report = fuzz_app(qiscus_app(impl), ("getUserProfile",))
    assert "response_schema_conformance" in faults(report), report.summary()


class _LetEveryoneIn:
    """Middleware that fills in the secret when a request has none: the server ignores auth."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"qiscus_sdk_secret"]
            scope = {**scope, "headers": [*headers, (b"qiscus_sdk_secret", b"qiscus-secret")]}
        await self.app(scope, receive, send)


def test_ignored_auth_is_caught() -> None:
    app = qiscus_app(base_impl())
    app.add_middleware(_LetEveryoneIn)
    report = fuzz_app(app, ("listExports",))
    assert "ignored_auth" in faults(report), report.summary()


def test_server_error_on_bad_input_is_caught() -> None:
    impl = base_impl()
    original = impl.load_comments

    async def load_comments(**kwargs: Any) -> Any:
        if (kwargs.get("limit") or 0) > 50:  # an unhandled edge: a big page crashes
            raise RuntimeError("boom")
        return await original(**kwargs)

    impl.load_comments = load_comments
    report = fuzz_app(qiscus_app(impl), ("loadComments",))
    assert "not_a_server_error" in faults(report), report.summary()


def test_deleted_but_still_served_is_caught_by_use_after_free() -> None:
    impl = base_impl()

    async def delete_export(*, auth: Any, backup_unique_id: str) -> Any:
        history = impl.store.get("export", backup_unique_id)  # answers "deleted", deletes nothing
        if history is None:
            raise ApiProblem("not_found", "no such export")
        return {"status": 200, "results": {"backup_history": history}}

    impl.delete_export = delete_export
    report = fuzz_app(
        qiscus_app(impl), ("createExport", "getExport", "deleteExport"), phases=("stateful",)
    )
    assert "use_after_free" in faults(report), report.summary()


def test_report_formats(tmp_path: Any) -> None:
    impl = base_impl()

    async def get_user_profile(**_: Any) -> Any:
        return JSONResponse({"status": 200, "results": {}})

    impl.get_user_profile = get_user_profile
    report = fuzz_app(qiscus_app(impl), ("getUserProfile",))
    assert not report.ok
    text = report.summary()
    assert "response_schema_conformance" in text and "reproduce: curl" in text
    junit = tmp_path / "report.xml"
    report.write_junit(junit)
    assert "<failure" in junit.read_text()
    assert models.GetUserProfileResponse  # the package under test is the generated one
