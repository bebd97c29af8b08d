"""The driver: install the peers, run every measurement, print the table, write RESULTS.md."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from . import conformance, regen, throughput
from .common import (
    HOST,
    PROJECT,
    PYTHON,
    Stat,
    free_port,
    log,
    machine,
    python_env,
    run_json,
    serve,
)
from .peers import (
    PRISM,
    installed_version,
    java_problem,
    prism,
    python_peers,
)
from .report import Row, document, plain

SECTIONS = ("regen", "serve", "fuzz", "client")


def _regen_rows(results: dict[str, regen.Outcome], notes: list[str]) -> list[Row]:
    cold = results["cold"]
    rows = []
    section = "Cold full regeneration, 5 specs"
    peers = [
        ("openapi-generator", "<= 0.20"),
        ("openapi-generator-batch", ""),
        ("opc+fcg", "< 1.00"),
        ("datamodel-codegen", ""),
    ]
    for key, target in peers:
        outcome = results[key]
        rows.append(
            Row(
                section,
                "models, clients, servers, docs, formatted",
                cold.total,
                f"{outcome.name}: {outcome.produced}",
                outcome.total,
                "s",
                target=target,
            )
        )
    rows.append(
        Row(
            "Incremental regeneration",
            "no-op (nothing changed)",
            results["noop"].total,
            "",
            None,
            "s",
            target="< 0.5 s",
            note=f"ours --force: {cold.total.median:.2f} s; the peers have no change detection",
        )
    )
    rows.append(
        Row(
            "Incremental regeneration",
            f"no-op, against ours --force ({regen.EDITED} unchanged)",
            results["noop"].total,
            "ours --force",
            cold.total,
            "s",
        )
    )
    rows.append(
        Row(
            "Incremental regeneration",
            f"one-spec edit ({regen.EDITED}), against ours --force",
            results["edit"].total,
            "ours --force",
            cold.total,
            "s",
        )
    )
    for key in ("openapi-generator", "opc+fcg"):
        outcome = results[key]
        rows.append(
            Row(
                "Incremental regeneration",
                f"one-spec edit ({regen.EDITED}), against the peer rerun on that spec only",
                results["edit"].total,
                outcome.name,
                outcome.per_spec.get(regen.EDITED),
                "s",
            )
        )
    for key in (
        "cold",
        "openapi-generator",
        "openapi-generator-batch",
        "opc+fcg",
        "datamodel-codegen",
    ):
        outcome = results[key]
        detail = f"{outcome.name}: produced {outcome.produced}, {outcome.files} .py files"
        if outcome.failures:
            detail += "; failed: " + "; ".join(
                f"{k}: {v}" for k, v in sorted(outcome.failures.items())
            )
        if outcome.notes:
            detail += "; " + "; ".join(outcome.notes)
        notes.append(detail)
    return rows


def _serve_rows(results: dict[str, dict[str, throughput.Load]], notes: list[str]) -> list[Row]:
    rows = []
    ours = results.get("ours (emulator)", {})
    for endpoint in ("read", "write"):
        section = f"Emulator throughput, {endpoint} ({throughput.ENDPOINTS[endpoint][0]})"
        mine = ours.get(endpoint, throughput.Load())
        for peer, target in (("bare FastAPI", ">= 0.70"), ("Prism mock", "> 1.00")):
            other = results.get(peer, {}).get(endpoint, throughput.Load())
            label = peer + (" (ceiling)" if peer == "bare FastAPI" else " (same spec)")
            rows.append(
                Row(
                    section,
                    "requests per second",
                    mine.rps,
                    label,
                    other.rps,
                    "req/s",
                    lower_is_better=False,
                    target=target if endpoint == "read" else "",
                )
            )
            rows.append(Row(section, "p50 latency", mine.p50, label, other.p50, "ms"))
            rows.append(Row(section, "p99 latency", mine.p99, label, other.p99, "ms"))
            rows.append(
                Row(
                    section,
                    "server CPU time per request (less sensitive to a busy machine)",
                    mine.cpu,
                    label,
                    other.cpu,
                    "µs",
                )
            )
        for name, loads in results.items():
            load = loads.get(endpoint)
            if load and (load.bad or load.problem):
                notes.append(
                    f"{name} {endpoint}: {load.bad} non-2xx answers or connection errors"
                    + (f"; {load.problem}" if load.problem else "")
                )
    return rows


def _fuzz_rows(results: dict[str, dict[str, Stat]]) -> list[Row]:
    return [
        Row(
            "Conformance throughput (Schemathesis via generator.fuzz, Qiscus emulator)",
            f"{workload}: in process (ASGI), against loopback",
            modes.get("in process"),
            "ours over loopback",
            modes.get("loopback"),
            "cases/s",
            lower_is_better=False,
        )
        for workload, modes in results.items()
    ]


def _client(runs: int) -> dict[str, dict[str, Stat]]:
    port = free_port()
    with serve(
        [
            PYTHON,
            "-m",
            "uvicorn",
            "benchmarks.bare_app:app",
            "--host",
            HOST,
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        port,
        cwd=PROJECT,
        env=python_env(),
    ):
        out = run_json(
            [
                PYTHON,
                "-m",
                "benchmarks.client_overhead",
                "--port",
                str(port),
                "--rounds",
                str(runs),
            ],
            timeout=600,
        )
    results: dict[str, dict[str, Stat]] = {}
    for transport, samples in out.items():
        results[transport] = {name: Stat(list(values)) for name, values in samples.items()}
        log(
            f"client overhead, {transport}: "
            + ", ".join(f"{k} {v.median:.0f} µs" for k, v in results[transport].items())
        )
    return results


def _client_rows(results: dict[str, dict[str, Stat]]) -> list[Row]:
    return [
        Row(
            "Generated client, per call (get_user_profile)",
            f"time per call, {transport}",
            calls.get("ours"),
            "raw httpx",
            calls.get("raw httpx"),
            "µs",
            target="<= 1.20" if transport == "mock transport" else "",
        )
        for transport, calls in results.items()
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--cache",
        default=str(PROJECT / ".nox" / "bench-peers"),
        help="where the peers' environments live (default: %(default)s)",
    )
    parser.add_argument("--only", action="append", choices=SECTIONS, help="run only these parts")
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (default 3)")
    parser.add_argument(
        "--peer-runs", type=int, help="runs of each peer's regeneration (default --runs)"
    )
    parser.add_argument("--noop-runs", type=int, default=5)
    parser.add_argument(
        "--serve-runs", type=int, default=5, help="load runs per server (default 5)"
    )
    parser.add_argument("--duration", type=float, default=3.0, help="seconds of load per run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--output", default=str(PROJECT / "benchmarks" / "RESULTS.md"))
    parser.add_argument("--json", help="also write the raw numbers here")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    sections = args.only or list(SECTIONS)
    peer_runs = args.peer_runs or args.runs
    started = time.perf_counter()
    when = time.strftime("%Y-%m-%d %H:%M %Z")
    described = machine()
    cache = Path(args.cache).resolve()
    cache.mkdir(parents=True, exist_ok=True)
    log(f"machine: {described['cpu']}, {described['cores']} cores; peers in {cache}")

    py_peers = python_peers(cache) if "regen" in sections else {}
    if "openapi-generator" in py_peers and java_problem():
        peer = py_peers["openapi-generator"]
        peer.bin_dir, peer.problem = None, java_problem()
    prism_peer = prism(cache) if "serve" in sections else None
    versions = {"ours": "baas-openapi (this tree), Python " + described["python"]}
    for name, peer in py_peers.items():
        versions[name] = installed_version(peer, peer.requirement.split("==")[0]) + (
            f" (unavailable: {peer.problem})" if not peer.ok else ""
        )
    if prism_peer is not None:
        versions["prism"] = PRISM.rsplit("@", 1)[1] + (
            "" if prism_peer.ok else f" (unavailable: {prism_peer.problem})"
        )
    versions["load generator"] = "benchmarks.loadgen (asyncio, raw HTTP/1.1, separate process)"

    rows: list[Row] = []
    notes: list[str] = []
    raw: dict[str, Any] = {}
    if "regen" in sections:
        regen_results = regen.run(py_peers, args.runs, peer_runs, args.noop_runs)
        rows += _regen_rows(regen_results, notes)
        raw["regen"] = {
            k: {"total": v.total.as_dict(), "failures": v.failures, "notes": v.notes}
            for k, v in regen_results.items()
        }
    if "serve" in sections:
        assert prism_peer is not None
        serve_results = throughput.run(prism_peer, args.serve_runs, args.duration, args.connections)
        rows += _serve_rows(serve_results, notes)
        raw["serve"] = {
            name: {
                e: {
                    "rps": load.rps.as_dict(),
                    "p50": load.p50.as_dict(),
                    "p99": load.p99.as_dict(),
                    "cpu_us": load.cpu.as_dict(),
                }
                for e, load in loads.items()
            }
            for name, loads in serve_results.items()
        }
    if "fuzz" in sections:
        fuzz_results = conformance.run_all(args.runs)
        rows += _fuzz_rows(fuzz_results)
        raw["fuzz"] = {w: {m: s.as_dict() for m, s in v.items()} for w, v in fuzz_results.items()}
    if "client" in sections:
        client_results = _client(max(args.runs, 5))
        rows += _client_rows(client_results)
        raw["client"] = {
            t: {n: s.as_dict() for n, s in v.items()} for t, v in client_results.items()
        }

    total = time.perf_counter() - started
    described["load average at end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    settings = {
        "runs per measurement": args.runs,
        "load runs per server": args.serve_runs,
        "runs per peer regeneration": peer_runs,
        "no-op runs": args.noop_runs,
        "load": f"{args.connections} keep-alive connections, {args.duration:g} s per run after 1 s "
        "of warm-up, one server process, loopback",
        "parts run": ", ".join(sections),
    }
    print()
    print(plain(rows))
    print()
    targets = [row for row in rows if row.target]
    for row in targets:
        print(
            f"target {row.section} / {row.what}: {row.target} -> "
            f"{'holds' if row.holds else 'MISSED'}"
        )
    print(f"total bench time: {total:.0f} s")
    text = document(rows, described, versions, notes, settings, total, when)
    Path(args.output).write_text(text, encoding="utf-8")
    log(f"wrote {args.output}")
    if args.json:
        Path(args.json).write_text(json.dumps(raw, indent=2), encoding="utf-8")
    missed = [row for row in targets if not row.holds]
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
