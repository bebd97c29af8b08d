"""Conformance throughput: Schemathesis cases per second against the Qiscus emulator, through our
harness (`generator.fuzz.run`), in process (ASGI, no sockets) and over loopback (a real server).

Two workloads: the examples and coverage phases (a fixed set of cases: the same work each run) and
the fuzzing phase, bounded in time (as many cases as fit). Each measurement runs in its own process.
`python -m benchmarks.conformance --phases examples,coverage [--url URL]` prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import warnings
from collections import defaultdict
from pathlib import Path

from .common import HOST, PROJECT, PYTHON, Stat, free_port, log, python_env, run_json, serve

VENDOR = "qiscus"
WORKLOADS = {
    "examples+coverage": ("examples,coverage", 120.0),
    "fuzzing (time-bounded)": ("fuzzing", 5.0),
}


def measure(phases: str, max_time: float, url: str | None) -> dict[str, float]:
    import emulators
    from generator.fuzz import Options, run

    warnings.simplefilter("ignore")
    config = emulators.load(VENDOR, {})
    app = None if url else emulators.create_app(VENDOR, config)
    options = Options(max_examples=5, seed=1, max_time=max_time, phases=tuple(phases.split(",")))
    started = time.perf_counter()
    report = run(VENDOR, url=url, app=app, credentials=dict(config.credentials), options=options)
    seconds = time.perf_counter() - started
    return {"cases": report.cases, "seconds": seconds, "failures": len(report.failures)}


def run_all(runs: int) -> dict[str, dict[str, Stat]]:
    """{workload: {"in process" | "loopback": cases per second}}."""
    results: dict[str, dict[str, Stat]] = defaultdict(lambda: defaultdict(Stat))
    with tempfile.TemporaryDirectory(prefix="baas-bench-fuzz-") as tmp:
        port = free_port()
        with serve(
            [
                PYTHON,
                "-m",
                "emulators",
                VENDOR,
                "--host",
                HOST,
                "--port",
                str(port),
                "--db",
                Path(tmp) / "qiscus.sqlite3",
            ],
            port,
            cwd=PROJECT,
            env=python_env(),
            log_file=Path(tmp) / "emulator.log",
        ):
            url = f"http://{HOST}:{port}"
            for i in range(runs):
                for workload, (phases, max_time) in WORKLOADS.items():
                    for mode, extra in (("in process", []), ("loopback", ["--url", url])):
                        out = run_json(
                            [
                                PYTHON,
                                "-m",
                                "benchmarks.conformance",
                                "--phases",
                                phases,
                                "--max-time",
                                str(max_time),
                                *extra,
                            ],
                            timeout=max_time + 180,
                        )
                        rate = out["cases"] / out["seconds"] if out["seconds"] else 0.0
                        results[workload][mode].add(rate)
                        log(
                            f"conformance {workload} {mode} run {i + 1}/{runs}: {out['cases']} "
                            f"cases in {out['seconds']:.1f}s = {rate:.0f} cases/s"
                        )
    return {k: dict(v) for k, v in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--phases", default="examples,coverage")
    parser.add_argument("--max-time", type=float, default=60.0)
    parser.add_argument("--url")
    args = parser.parse_args()
    print(json.dumps(measure(args.phases, args.max_time, args.url)))


if __name__ == "__main__":
    main()
