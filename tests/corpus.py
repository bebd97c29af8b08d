"""Generality check: generate every document of the shared OpenAPI corpus and judge the output.

    python tests/corpus.py [--jobs 2] [--only NAME ...] [--results tests/corpus/RESULTS.md]

The corpus (39 real-world OpenAPI 3.0/3.1 documents, `../shared/corpus/specs` beside the project,
or `$BAAS_CORPUS`) is read in place, never copied: several documents carry licences we do not ship.

Per document:
1. `python -m generator generate --spec DOC` (strict). When the validator refuses the document,
   its problems must each name file, line and pointer; it is then generated with `--lenient`.
2. In a fresh interpreter: import the package, build the server app (and the webhook app), call
   one route, count the generated operations against the document's own (paths, webhooks,
   callbacks), and feed every example the document gives for a model-typed schema to that model.
   An example the document's own schema rejects is the document's fault: counted, not held
   against the models.
3. `ruff check`, `ruff format --check` and `mypy --strict` (Pydantic plugin) on the output.

"Complete" means all of it passed. `tests/test_corpus.py` asserts it per document.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
if str(PROJECT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(PROJECT))

from generator.diagnostics import escape_pointer_token  # noqa: E402
from generator.lint import HTTP_METHODS  # noqa: E402
from generator.load import resolve_pointer  # noqa: E402
from generator.naming import snake  # noqa: E402

CORPUS = Path(os.environ.get("BAAS_CORPUS", PROJECT.parent / "shared" / "corpus" / "specs"))
RESULTS = PROJECT / "tests" / "corpus" / "RESULTS.md"
# the rule set generated/ is held to (pyproject.toml): prose typography is the spec author's
RUFF_RULES = ["--select", "E,F,W,I,UP,B,SIM,RUF", "--ignore", "E501,RUF001,RUF002,RUF003"]
MYPY_CONFIG = "[mypy]\nstrict = True\nplugins = pydantic.mypy\npython_version = 3.11\n"
_MARK = "corpus-inspection: "
_LOCATED = re.compile(r"^\S.*:\d+: /\S*: .+ \[[\w-]+\]$")


def documents() -> list[Path]:
    return sorted(p for p in CORPUS.glob("*") if p.suffix in (".json", ".yaml", ".yml"))


def package_name(spec: Path) -> str:
    return snake(spec.stem)  # as `generate --spec` names it


@dataclass
class Outcome:
    spec: str
    operations: int = 0  # in the document: paths, webhooks, callbacks
    generated_operations: int = 0
    valid: bool = True  # the validator accepted it as written
    problems: int = 0  # located problems it reported
    unlocated: list[str] = field(default_factory=list)
    generated: bool = False
    imports: bool = False
    server: bool = False
    ruff: bool = False
    mypy: bool = False
    examples: int = 0  # model-typed examples checked
    examples_rejected: list[str] = field(default_factory=list)  # by our models, not the schema
    document_faults: int = 0  # examples the document's own schema rejects
    seconds: float = 0.0
    failure: str = ""

    @property
    def complete(self) -> bool:
        return (
            self.generated
            and self.imports
            and self.server
            and self.ruff
            and self.mypy
            and not self.unlocated
            and not self.examples_rejected
            and self.generated_operations == self.operations
        )


def _run(cmd: list[str], cwd: Path | None = None, timeout: float = 600) -> tuple[int, str]:
    try:
        done = subprocess.run(
            cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return 124, f"timed out after {timeout:.0f}s"
    return done.returncode, (done.stdout + done.stderr).strip()


def check(spec: Path, out: Path, mypy_cache: Path) -> Outcome:
    """Generate `spec` into `out` and judge the package, as the module docstring says."""
    result = Outcome(spec.name)
    package = package_name(spec)
    generate = [sys.executable, "-m", "generator", "generate", "--spec", str(spec), "--out"]
    started = time.perf_counter()
    code, text = _run([*generate, str(out)], cwd=PROJECT)
    result.seconds = time.perf_counter() - started
    if code != 0:
        lines = [line for line in text.splitlines() if not line.startswith(package)]
        problems = [line for line in lines if _LOCATED.match(line)]
        if not problems:
            result.failure = text[-2000:]
            return result
        result.valid = False
        result.problems = len(problems)
        result.unlocated = [p for p in problems if re.search(r":\d+: /: ", p)][:5]
        started = time.perf_counter()
        code, text = _run([*generate, str(out), "--lenient"], cwd=PROJECT)
        result.seconds = time.perf_counter() - started
        if code != 0:
            result.failure = text[-2000:]
            return result
    result.generated = True
    code, text = _run([sys.executable, __file__, "--inspect", str(out / package), str(spec)])
    try:
        found = json.loads(next(t for t in text.splitlines() if t.startswith(_MARK))[len(_MARK) :])
    except (json.JSONDecodeError, StopIteration):
        result.failure = f"inspection failed: {text[-2000:]}"
        return result
    for key, value in found.items():
        setattr(result, key, value)
    ruff = [sys.executable, "-m", "ruff"]
    common = ["--isolated", "--target-version", "py311", "--line-length", "100"]
    code_check, ruff_text = _run([*ruff, "check", *common, *RUFF_RULES, package], cwd=out)
    code_format, format_text = _run([*ruff, "format", "--check", *common, package], cwd=out)
    result.ruff = code_check == 0 and code_format == 0
    if not result.ruff:
        result.failure += f"ruff: {ruff_text[-1000:]} {format_text[-500:]}\n"
    config = out / "mypy.ini"
    config.write_text(MYPY_CONFIG, encoding="utf-8")
    mypy = [sys.executable, "-m", "mypy", "--config-file", str(config)]
    code, mypy_text = _run([*mypy, "--cache-dir", str(mypy_cache), package], cwd=out)
    result.mypy = code == 0
    if not result.mypy:
        result.failure += f"mypy: {mypy_text[-1500:]}\n"
    return result


# -- inside the fresh interpreter ----------------------------------------------------------------


def count_operations(data: dict[str, Any]) -> int:
    """Operations of paths and webhooks, and callback operations (a shared one once)."""
    total = 0
    callbacks: set[tuple[str, str, str]] = set()
    for section in ("paths", "webhooks"):
        for path, item in (data.get(section) or {}).items():
            if not isinstance(item, dict):
                continue
            for method in HTTP_METHODS:
                op = item.get(method)
                if not isinstance(op, dict):
                    continue
                total += 1
                for name, raw in (op.get("callbacks") or {}).items():
                    where = raw.get("$ref") if isinstance(raw, dict) else None
                    where = where or f"{section} {path} {method} {name}"
                    for expression, cb_item in (_deref(data, raw) or {}).items():
                        cb_item = _deref(data, cb_item)
                        callbacks.update(
                            (where, expression, m)
                            for m in HTTP_METHODS
                            if isinstance(cb_item.get(m), dict)
                        )
    return total + len(callbacks)


def _deref(data: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        node = resolve_pointer(data, node["$ref"].removeprefix("#"))
    return node


def inspect(package_dir: Path, spec: Path) -> dict[str, Any]:
    import importlib

    sys.path.insert(0, str(package_dir.parent))
    name = package_dir.name
    out: dict[str, Any] = {"imports": False, "server": False}
    models = importlib.import_module(f"{name}.models")
    client = importlib.import_module(f"{name}.client")
    server = importlib.import_module(f"{name}.server")
    out["imports"] = True
    data = json.loads((package_dir / "openapi.json").read_text(encoding="utf-8"))
    original = _original(spec)
    out["operations"] = count_operations(original)
    endpoints = [v for v in vars(client).values() if type(v).__name__ == "Endpoint"]
    # webhooks and callbacks (a tag may be called Webhooks too: only the receiver app's class)
    receivers = getattr(server, "WebhooksHandlers", None)
    receivers = receivers if hasattr(server, "create_webhook_app") else None
    received = [n for n in vars(receivers) if not n.startswith("_")] if receivers else []
    out["generated_operations"] = len(endpoints) + len(received)
    out["server"] = _serves(server, endpoints)
    out.update(_examples(models, data))
    return out


def _original(spec: Path) -> dict[str, Any]:
    from generator.load import load

    return load(spec).data


def _serves(server: Any, endpoints: list[Any]) -> bool:
    """The app builds, and a route answers without a server error (501: not implemented yet)."""
    from fastapi.testclient import TestClient

    app = server.create_app(server.Handlers())
    if hasattr(server, "create_webhook_app"):
        server.create_webhook_app(server.WebhooksHandlers())
    if not endpoints:
        return True
    first = endpoints[0]
    path = re.sub(r"{[^}]*}", "1", first.path)
    with TestClient(app, raise_server_exceptions=False) as http:
        answer = http.request(first.method, path)
    return answer.status_code < 500 or answer.status_code == 501


def _examples(models: Any, data: dict[str, Any]) -> dict[str, Any]:
    """Every example of a model-typed schema, fed to the model (the document's faults aside)."""
    from typing import Any as AnyType
    from typing import Literal
    from urllib.parse import urlsplit

    from jsonschema import Draft202012Validator, FormatChecker
    from pydantic import TypeAdapter, ValidationError

    from generator.build import Builder
    from generator.load import Document
    from generator.models import class_name, defined_classes, schema_classes

    source = Path(models.__file__).read_text(encoding="utf-8")
    classes = schema_classes((data.get("components") or {}).get("schemas") or {})
    doc = Document("corpus", Path("."), data, {}, ())
    builder = Builder(
        doc,
        lambda n: classes.get(n, class_name(n)),
        package="",
        source="",
        defined=defined_classes(source),
    )
    namespace = {"models": models, "Any": AnyType, "Literal": Literal}
    # formats count (`date-time`, `email`, `uri`...): an example that breaks its format is the
    # document's fault, as a typed model rejects it
    formats = FormatChecker()
    formats.checks("uri")(lambda value: not isinstance(value, str) or bool(urlsplit(value).scheme))
    checked, rejected, faults = 0, [], 0
    for pointer, schema_pointer, value in _example_sites(data):
        schema = resolve_pointer(data, schema_pointer)
        annotation = builder.annotation(schema)
        if "models." not in annotation:
            continue
        # the document as the root resource, so that its `#/...` references resolve
        validator = Draft202012Validator(
            {**data, "$ref": "#" + schema_pointer}, format_checker=formats
        )
        try:
            if not validator.is_valid(value):
                faults += 1
                continue
        except Exception:  # a reference jsonschema cannot follow: let the models judge
            pass
        checked += 1
        try:
            TypeAdapter(eval(annotation, namespace)).validate_python(value)
        except ValidationError as exc:
            rejected.append(f"{pointer}: {str(exc).splitlines()[0]}")
    return {"examples": checked, "examples_rejected": rejected, "document_faults": faults}


def _example_sites(data: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """(where the example is, the pointer of its schema, the value) across the document."""
    sites: list[tuple[str, str, Any]] = []
    for name, schema in ((data.get("components") or {}).get("schemas") or {}).items():
        base = f"/components/schemas/{escape_pointer_token(name)}"
        if isinstance(schema, dict):
            if "example" in schema:
                sites.append((f"{base}/example", base, schema["example"]))
            for i, value in enumerate(schema.get("examples") or []):
                sites.append((f"{base}/examples/{i}", base, value))
    stack: list[tuple[Any, str]] = [(data.get("paths") or {}, "/paths")]
    stack.append(((data.get("components") or {}).get("responses") or {}, "/components/responses"))
    stack.append(
        ((data.get("components") or {}).get("requestBodies") or {}, "/components/requestBodies")
    )
    while stack:
        node, ptr = stack.pop()
        if isinstance(node, list):
            stack.extend((v, f"{ptr}/{i}") for i, v in enumerate(node))
            continue
        if not isinstance(node, dict):
            continue
        content = node.get("content")
        if isinstance(content, dict):
            for media, media_obj in content.items():
                if not isinstance(media_obj, dict) or "schema" not in media_obj:
                    continue
                if not ("json" in media or media == "*/*"):
                    continue
                mptr = f"{ptr}/content/{escape_pointer_token(media)}"
                if "example" in media_obj:
                    sites.append((f"{mptr}/example", f"{mptr}/schema", media_obj["example"]))
                for key, example in (media_obj.get("examples") or {}).items():
                    example = _deref(data, example)
                    if isinstance(example, dict) and "value" in example:
                        sites.append(
                            (
                                f"{mptr}/examples/{escape_pointer_token(key)}",
                                f"{mptr}/schema",
                                example["value"],
                            )
                        )
        stack.extend(
            (v, f"{ptr}/{escape_pointer_token(k)}")
            for k, v in node.items()
            if k not in ("content", "example", "examples") and not k.startswith("x-")
        )
    return sites


# -- the report ----------------------------------------------------------------------------------

# what the peers achieved on the same corpus (../shared/corpus/PEERS.md)
PEERS = {
    "openapi-python-client": "29/39 importable client, 20/39 complete (no operation skipped)",
    "fastapi-code-generator": "10/39 importable server",
}


def table(outcomes: list[Outcome]) -> str:
    ok = sum(o.complete for o in outcomes)
    lines = [
        "# Corpus results",
        "",
        "Written by `nox -s corpus` (`python tests/corpus.py --results tests/corpus/RESULTS.md`)",
        "over the documents of `../shared/corpus/specs`; `tests/corpus.py` says what each column",
        "checks. Complete = every operation generated, the package imports, the server app builds",
        "and answers, ruff and `mypy --strict` pass, and the models accept every example that the",
        "document's own schemas accept.",
        "",
        f"**baas-openapi: {ok}/{len(outcomes)} complete.** Peers on the same documents: "
        + "; ".join(f"{k}: {v}" for k, v in PEERS.items())
        + ".",
        "",
        "| document | operations | validator | imports | server | ruff | mypy --strict "
        "| examples (model-checked / document faults) | seconds | complete |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    mark = {True: "yes", False: "**no**"}
    for o in outcomes:
        validator = "accepts" if o.valid else f"{o.problems} located problems → `--lenient`"
        rejected = f", **{len(o.examples_rejected)} rejected**" if o.examples_rejected else ""
        lines.append(
            f"| {o.spec} | {o.generated_operations}/{o.operations} | {validator} "
            f"| {mark[o.imports]} | {mark[o.server]} | {mark[o.ruff]} | {mark[o.mypy]} "
            f"| {o.examples} / {o.document_faults}{rejected} | {o.seconds:.1f} "
            f"| {mark[o.complete]} |"
        )
    failures = [o for o in outcomes if not o.complete]
    if failures:
        lines += ["", "## Not complete", ""]
        for o in failures:
            detail = o.failure or "; ".join(o.examples_rejected[:3]) or "; ".join(o.unlocated)
            lines.append(f"- {o.spec}: {' '.join(detail.split())[:600]}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only", action="append", default=[])
    parser.add_argument("--results", type=Path, help="write the Markdown table here")
    parser.add_argument("--inspect", nargs=2, metavar=("PACKAGE_DIR", "SPEC"))
    args = parser.parse_args(argv)
    if args.inspect:
        print(_MARK + json.dumps(inspect(Path(args.inspect[0]), Path(args.inspect[1]))))
        return 0
    if not CORPUS.is_dir():
        print(f"no corpus at {CORPUS} (set BAAS_CORPUS)", file=sys.stderr)
        return 2
    specs = [s for s in documents() if not args.only or s.stem in args.only or s.name in args.only]
    with tempfile.TemporaryDirectory(prefix="baas-corpus-") as scratch:
        root = Path(scratch)

        def one(spec: Path) -> Outcome:
            outcome = check(spec, root / spec.stem, root / "mypy-cache")
            state = "complete" if outcome.complete else "NOT complete"
            print(f"{spec.name}: {state} ({outcome.seconds:.1f}s)", file=sys.stderr)
            return outcome

        # the first document warms mypy's cache for the rest
        first = [one(specs[0])] if specs else []
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            outcomes = first + list(pool.map(one, specs[1:]))
    report = table(outcomes)
    print(report)
    if args.results:
        args.results.parent.mkdir(parents=True, exist_ok=True)
        args.results.write_text(report, encoding="utf-8")
    if os.environ.get("BAAS_CORPUS_JSON"):  # machine-readable, for tooling
        Path(os.environ["BAAS_CORPUS_JSON"]).write_text(
            json.dumps([asdict(o) for o in outcomes], indent=1), encoding="utf-8"
        )
    return 0 if all(o.complete for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
