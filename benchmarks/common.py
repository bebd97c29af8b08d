"""Shared pieces: statistics, bounded subprocesses, loopback servers, the machine's description."""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
HOST = "127.0.0.1"  # loopback only: every server and every load stays on this machine


@dataclass
class Stat:
    """Several measurements of one quantity: median, min and max."""

    values: list[float] = field(default_factory=list)

    def add(self, value: float) -> None:
        self.values.append(value)

    @property
    def ok(self) -> bool:
        return bool(self.values)

    @property
    def median(self) -> float:
        return statistics.median(self.values) if self.values else float("nan")

    @property
    def min(self) -> float:
        return min(self.values) if self.values else float("nan")

    @property
    def max(self) -> float:
        return max(self.values) if self.values else float("nan")

    def as_dict(self) -> dict[str, Any]:
        return {"median": self.median, "min": self.min, "max": self.max, "values": self.values}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass
class Completed:
    seconds: float
    returncode: int
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def _kill_group(process: subprocess.Popen[Any], grace: float = 5.0) -> None:
    """End a process we started, and its children, by its own process group id."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        process.wait(grace)


def run_timed(
    cmd: Sequence[str | Path],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 600.0,
) -> Completed:
    """Run a whole command, bounded by `timeout`; wall-clock seconds from start to exit."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(c) for c in cmd],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        output = (
            process.stdout.read() if process.stdout else ""
        ) + f"\n[timed out after {timeout}s]"
        return Completed(time.perf_counter() - started, -9, output)
    finally:
        _kill_group(process)
    return Completed(time.perf_counter() - started, process.returncode, output)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[Any], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before listening")
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listened on {HOST}:{port} within {timeout}s")


@contextmanager
def serve(
    cmd: Sequence[str | Path],
    port: int,
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    log_file: Path | None = None,
    start_timeout: float = 60.0,
) -> Iterator[subprocess.Popen[Any]]:
    """A server on loopback for the duration of the block; killed by its pid whatever happens."""
    sink = open(log_file, "w") if log_file else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(
        [str(c) for c in cmd],
        cwd=cwd,
        env=env,
        stdout=sink,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for_port(port, process, start_timeout)
        yield process
    finally:
        _kill_group(process)
        if log_file:
            sink.close()  # type: ignore[union-attr]


def python_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT), env.get("PYTHONPATH")]))
    env.setdefault("PYTHONHASHSEED", "0")
    env.update(extra or {})
    return env


def run_json(
    cmd: Sequence[str | Path], *, timeout: float, env: dict[str, str] | None = None
) -> Any:
    """Run a measuring subprocess whose last stdout line is JSON."""
    done = run_timed(cmd, cwd=PROJECT, env=env or python_env(), timeout=timeout)
    lines = [line for line in done.output.splitlines() if line.startswith("{")]
    if not done.ok or not lines:
        raise RuntimeError(f"{' '.join(map(str, cmd[:4]))} failed: {done.output[-1500:]}")
    return json.loads(lines[-1])


def _first_line(cmd: list[str]) -> str:
    if not shutil.which(cmd[0]):
        return "not found"
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "not found"
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0] if text else "?"


def machine() -> dict[str, str]:
    """What the numbers were measured on."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor() or "unknown"
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    try:
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "?"
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": memory,
        "os": platform.platform(),
        "python": platform.python_version() + f" ({platform.python_implementation()})",
        "java": _first_line(["java", "-version"]),
        "node": _first_line(["node", "--version"]),
        "load average at start": load,
    }
