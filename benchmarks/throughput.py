"""Emulator throughput: requests per second and p50/p99 latency for a read and a write endpoint.

Three servers on loopback, each one process, one worker: the Qiscus emulator (`python -m emulators`,
SQLite in a scratch file), Prism's mock server on the same spec (the bundled document), and the bare
FastAPI ceiling (`benchmarks.bare_app`, on uvicorn like the emulator). The load generator
(`benchmarks.loadgen`) is a separate process; runs are interleaved across servers so that a noisy
moment of the machine does not fall on one server only.

Read: `GET /api/v2/rest/user_profile?user_email=...` (a stored user). Write: `POST
/api/v2/rest/login_or_register` with a JSON body naming a new user each time (an insert, committed
to disk before the answer, in the emulator).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import defaultdict
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from .common import HOST, PROJECT, PYTHON, Stat, free_port, log, python_env, run_json, serve
from .peers import Peer

HEADERS = {"QISCUS_SDK_SECRET": "qiscus-secret", "QISCUS_SDK_APP_ID": "qiscus-app"}
READ = ("GET", "/api/v2/rest/user_profile?user_email=ann%40example.com", "")
WRITE = (
    "POST",
    "/api/v2/rest/login_or_register",
    '{"email":"user{n}@example.com","username":"User {n}","password":"secret-{n}"}',
)
ENDPOINTS = {"read": READ, "write": WRITE}


@dataclass
class Load:
    rps: Stat = field(default_factory=Stat)
    p50: Stat = field(default_factory=Stat)
    p99: Stat = field(default_factory=Stat)
    cpu: Stat = field(default_factory=Stat)  # server CPU time per answer, µs (warm-up included)
    bad: int = 0  # answers other than 2xx, and connection errors, over all runs
    problem: str = ""


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process and its waited-for children (Linux /proc), else None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = sum(int(x) for x in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def _seed(port: int) -> None:
    response = httpx.post(
        f"http://{HOST}:{port}/api/v2/rest/login_or_register",
        headers=HEADERS,
        json={"email": "ann@example.com", "username": "Ann", "password": "pw"},
        timeout=10,
    )
    response.raise_for_status()


def run(prism: Peer, runs: int, duration: float, connections: int) -> dict[str, dict[str, Load]]:
    results: dict[str, dict[str, Load]] = defaultdict(lambda: defaultdict(Load))
    with tempfile.TemporaryDirectory(prefix="baas-bench-serve-") as tmp, ExitStack() as stack:
        scratch = Path(tmp)
        ports: dict[str, int] = {}
        pids: dict[str, int] = {}
        port = free_port()
        pids["ours (emulator)"] = stack.enter_context(
            serve(
                [
                    PYTHON,
                    "-m",
                    "emulators",
                    "qiscus",
                    "--host",
                    HOST,
                    "--port",
                    str(port),
                    "--db",
                    scratch / "qiscus.sqlite3",
                ],
                port,
                cwd=PROJECT,
                env=python_env(),
                log_file=scratch / "emulator.log",
            )
        ).pid
        _seed(port)
        ports["ours (emulator)"] = port
        port = free_port()
        pids["bare FastAPI"] = stack.enter_context(
            serve(
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
                log_file=scratch / "bare.log",
            )
        ).pid
        ports["bare FastAPI"] = port
        if prism.ok:
            port = free_port()
            spec = scratch / "qiscus.json"
            spec.write_text((PROJECT / "generated" / "qiscus" / "openapi.json").read_text())
            try:
                pids["Prism mock"] = stack.enter_context(
                    serve(
                        [
                            prism.executable,
                            "mock",
                            "-h",
                            HOST,
                            "-p",
                            str(port),
                            "-v",
                            "error",
                            spec,
                        ],
                        port,
                        env=prism.env(),
                        log_file=scratch / "prism.log",
                        start_timeout=120,
                    )
                ).pid
                ports["Prism mock"] = port
            except RuntimeError as exc:
                for endpoint in ENDPOINTS:
                    results["Prism mock"][endpoint].problem = str(exc)
        else:
            for endpoint in ENDPOINTS:
                results["Prism mock"][endpoint].problem = prism.problem
        servers = list(ports.items())
        for i in range(runs):
            shift = i % len(servers)  # who goes first changes from run to run
            for name, port in servers[shift:] + servers[:shift]:
                for endpoint, (method, path, body) in ENDPOINTS.items():
                    cmd: list[str | Path] = [
                        PYTHON,
                        "-m",
                        "benchmarks.loadgen",
                        "--port",
                        str(port),
                        "--path",
                        path,
                        "--method",
                        method,
                        "--connections",
                        str(connections),
                        "--duration",
                        str(duration),
                        "--first",
                        str((i + 1) * 10_000_000),
                    ]
                    for key, value in HEADERS.items():
                        cmd += ["-H", f"{key}:{value}"]
                    if body:
                        cmd += ["--body", body, "-H", "Content-Type:application/json"]
                    load = results[name][endpoint]
                    before = _cpu_seconds(pids[name])
                    try:
                        out = run_json(cmd, timeout=duration + 60)
                    except RuntimeError as exc:
                        load.problem = str(exc)[:300]
                        continue
                    after = _cpu_seconds(pids[name])
                    if before is not None and after is not None and out["answered"]:
                        load.cpu.add((after - before) / out["answered"] * 1e6)
                    bad = sum(
                        n for status, n in out["statuses"].items() if not status.startswith("2")
                    )
                    load.bad += bad + sum(out["errors"].values())
                    load.rps.add(out["ok_rps"])
                    load.p50.add(out["p50_ms"])
                    load.p99.add(out["p99_ms"])
                    log(
                        f"{name} {endpoint} run {i + 1}/{runs}: {out['ok_rps']:.0f} req/s, "
                        f"p50 {out['p50_ms']:.2f} ms, p99 {out['p99_ms']:.2f} ms, "
                        f"server CPU {load.cpu.values[-1] if load.cpu.values else 0:.0f} µs/request"
                        + (f", {bad} non-2xx {json.dumps(out['statuses'])}" if bad else "")
                    )
    return {name: dict(loads) for name, loads in results.items()}
