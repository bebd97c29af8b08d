"""Run Schemathesis' engine (every check, stateful phase on) against a vendor's implementation."""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from .auth import Authenticator
from .report import Failure, Report

ALL_CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "negative_data_rejection",
    "positive_data_acceptance",
    "ignored_auth",
    "use_after_free",
    "ensure_resource_availability",
    "missing_required_header",
    "unsupported_method",
)


@dataclass
class Options:
    """The knobs of a run; every one is also a command-line option of `python -m generator fuzz`."""

    max_examples: int = 20  # per operation and phase
    max_time: float | None = None  # seconds for the whole run
    seed: int | None = None  # same seed, same cases
    phases: tuple[str, ...] = ("examples", "coverage", "fuzzing", "stateful")
    exclude: tuple[str, ...] = ()  # operationIds not to test
    include: tuple[str, ...] = ()  # only these operationIds
    checks: tuple[str, ...] = ALL_CHECKS
    workers: int = 1
    # Semantic refusals (a valid request naming a user that does not exist) answer with the vendor's
    # validation status; count that as acceptance of the schema, not as a rejection of valid data.
    accept_semantic_errors: bool = True
    extra_headers: dict[str, str] = field(default_factory=dict)


def _config(vendor: str, options: Options, validation_statuses: list[str]) -> Any:
    from schemathesis.config import SchemathesisConfig

    checks: dict[str, Any] = {"enabled": True}
    for name in ALL_CHECKS:
        checks[name] = {"enabled": False}
    for name in options.checks:
        checks[name] = {"enabled": True}
    if options.accept_semantic_errors and "positive_data_acceptance" in options.checks:
        checks["positive_data_acceptance"] = {
            "enabled": True,
            "expected-statuses": [
                "2xx",
                "3xx",
                "401",
                "403",
                "404",
                "409",
                "429",
                *validation_statuses,
            ],
        }
    phases = {
        name: {"enabled": name in options.phases}
        for name in ("examples", "coverage", "fuzzing", "stateful")
    }
    data: dict[str, Any] = {
        "generation": {"max-examples": options.max_examples},
        "checks": checks,
        "phases": phases,
        "workers": options.workers,
        "continue-on-failure": True,
        "warnings": False,
    }
    if options.seed is not None:
        data["seed"] = options.seed
    if options.max_time is not None:
        data["max-time"] = options.max_time
    if options.extra_headers:
        data["headers"] = dict(options.extra_headers)
    return SchemathesisConfig.from_dict(data)


def run(
    vendor: str,
    *,
    url: str | None = None,
    app: Any = None,
    credentials: dict[str, str] | None = None,
    schemes: dict[str, Any] | None = None,
    options: Options | None = None,
    spec: dict[str, Any] | None = None,
) -> Report:
    """Fuzz one implementation: a live server at `url`, or an ASGI `app` in process.

    `credentials` are the app's credentials by the names the emulator prints (`--print-config`);
    `schemes` sets security-scheme credentials directly by scheme name. `spec` defaults to the
    vendor's bundled spec as generated.
    """
    import schemathesis
    from schemathesis.engine import events, from_schema

    options = options or Options()
    report = Report(vendor, seed=options.seed)
    started = time.perf_counter()
    server = importlib.import_module(f"generated.{vendor}.server")
    document = spec or server.spec()
    error = document.get("x-baas-error") or {}
    validation = sorted(
        {
            str(s.get("status"))
            for name, s in (error.get("situations") or {}).items()
            if name == "validation" and s.get("status")
        }
    )
    config = _config(vendor, options, validation)

    if app is not None:
        from fastapi.testclient import TestClient

        http: httpx.Client = TestClient(app)
        schema = schemathesis.openapi.from_dict(document, config=config)
        schema = (
            schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
            if spec is None
            else (schema)
        )
        if spec is not None:
            schema.app = app  # type: ignore[attr-defined]
        base_url = "http://testserver"
    elif url is not None:
        http = httpx.Client(base_url=url, timeout=30)
        schema = schemathesis.openapi.from_dict(document, config=config)
        schema.config.update(base_url=url)  # type: ignore[attr-defined]
        base_url = url
    else:
        raise ValueError("give a url or an app")

    auth = Authenticator(vendor, credentials or {}, schemes, http=http, base_url=base_url)
    auth.login()
    report.errors.extend(auth.notes)

    class VendorAuth:
        def get(self, case: Any, ctx: Any) -> dict[str, str]:
            return auth.headers(case.operation.definition.raw.get("operationId", ""))

        def set(self, case: Any, data: dict[str, str], ctx: Any) -> None:
            case.headers = {**(case.headers or {}), **data}

    if options.include:
        schema = schema.include(operation_id=list(options.include))
    if options.exclude:
        schema = schema.exclude(operation_id=list(options.exclude))
    # on the filtered schema (filtering copies it); fetched again after a 401 (a lost session)
    schema.auth(refresh_interval=300, retry_on=[401])(VendorAuth)

    report.operations_total = sum(1 for _ in _operation_ids(document, options))
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            _collect(report, event.recorder, event.recorder.label)
        elif isinstance(event, events.NonFatalError):
            text = f"{event.label}: {event.info.title}: {event.info.message}"[:500]
            unsupported = (
                event.info.title == "Schema Error" and "does not support" in event.info.message
            )
            (report.warnings if unsupported else report.errors).append(text)
        elif isinstance(event, events.FatalError):
            report.errors.append(f"fatal: {event.exception}"[:500])
    report.seconds = time.perf_counter() - started
    return report


def _operation_ids(document: dict[str, Any], options: Options) -> list[str]:
    ids = []
    for item in (document.get("paths") or {}).values():
        for method, op in item.items():
            if isinstance(op, dict) and "operationId" in op and method != "parameters":
                op_id = op["operationId"]
                if (
                    not options.include or op_id in options.include
                ) and op_id not in options.exclude:
                    ids.append(op_id)
    return ids


def _collect(report: Report, recorder: Any, label: str) -> None:
    for interaction in recorder.interactions.values():
        if interaction.response is not None:
            report.statuses[interaction.response.status_code] += 1
    for case_id, node in recorder.cases.items():
        report.cases += 1
        case = node.value
        report.operations_covered.add(case.operation.label)
        for check in recorder.checks.get(case_id, []):
            info = check.failure_info
            if info is None:
                continue
            failure = info.failure
            report.failures.append(
                Failure(
                    check=check.name,
                    operation=label if label.startswith("Stateful") else case.operation.label,
                    title=str(getattr(failure, "title", type(failure).__name__)),
                    message=str(getattr(failure, "message", "")),
                    curl=str(info.code_sample),
                )
            )
