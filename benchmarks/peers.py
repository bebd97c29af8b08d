"""The peers, each installed in its own environment under the cache directory (never in ours).

Python peers get one virtualenv each (they pin things that clash with our pins); Prism comes from
npm into `<cache>/npm`. An environment whose marker names the wanted version is reused.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .common import log

PYTHON_PEERS = {
    "openapi-generator": ("openapi-generator-cli==7.26.0", "openapi-generator-cli"),
    "openapi-python-client": ("openapi-python-client==0.29.1", "openapi-python-client"),
    "fastapi-code-generator": ("fastapi-code-generator==0.8.1", "fastapi-codegen"),
}
PRISM = "@stoplight/prism-cli@5.16.0"


@dataclass
class Peer:
    name: str
    requirement: str
    bin_dir: Path | None  # None: could not be installed
    command: str
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.bin_dir is not None

    @property
    def executable(self) -> Path:
        assert self.bin_dir is not None
        return self.bin_dir / self.command

    def env(self) -> dict[str, str]:
        """Its own bin first on PATH (openapi-python-client runs its `ruff` from there)."""
        env = dict(os.environ)
        env.pop("VIRTUAL_ENV", None)
        env.pop("PYTHONPATH", None)
        if self.bin_dir is not None:
            env["PATH"] = os.pathsep.join([str(self.bin_dir), env.get("PATH", "")])
        return env


def _run(cmd: list[str], timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )


def _uv() -> str | None:
    found = shutil.which("uv")
    if found:
        return found
    beside = Path(sys.executable).parent / "uv"
    return str(beside) if beside.exists() else None


def _venv(target: Path, requirement: str) -> str:
    """Create `target` with `requirement` installed; '' when it worked, else what went wrong."""
    marker = target / ".bench-requirement"
    if marker.exists() and marker.read_text().strip() == requirement:
        return ""
    shutil.rmtree(target, ignore_errors=True)
    uv = _uv()
    if uv:
        steps = [
            [uv, "venv", "--quiet", "--python", sys.executable, str(target)],
            [
                uv,
                "pip",
                "install",
                "--quiet",
                "--python",
                str(target / "bin" / "python"),
                requirement,
            ],
        ]
    else:
        steps = [
            [sys.executable, "-m", "venv", str(target)],
            [str(target / "bin" / "python"), "-m", "pip", "install", "--quiet", requirement],
        ]
    for step in steps:
        try:
            done = _run(step)
        except subprocess.TimeoutExpired:
            return f"{' '.join(step[:3])} timed out"
        if done.returncode != 0:
            return (done.stderr or done.stdout).strip()[-500:]
    marker.write_text(requirement + "\n")
    return ""


def python_peers(cache: Path) -> dict[str, Peer]:
    peers = {}
    for name, (requirement, command) in PYTHON_PEERS.items():
        target = cache / name
        state = "reusing" if (target / ".bench-requirement").exists() else "installing"
        log(f"peer {requirement}: {state}")
        problem = _venv(target, requirement)
        bin_dir = target / "bin"
        if not problem and not (bin_dir / command).exists():
            problem = f"{command} missing after install"
        peers[name] = Peer(name, requirement, None if problem else bin_dir, command, problem)
        if problem:
            log(f"peer {name} unavailable: {problem}")
    return peers


def prism(cache: Path) -> Peer:
    prefix = cache / "npm"
    binary = prefix / "node_modules" / ".bin" / "prism"
    marker = prefix / ".bench-requirement"
    if not (binary.exists() and marker.exists() and marker.read_text().strip() == PRISM):
        npm = shutil.which("npm")
        if not npm:
            return Peer("prism", PRISM, None, "prism", "npm not found")
        log(f"peer {PRISM}: installing with npm")
        prefix.mkdir(parents=True, exist_ok=True)
        try:
            done = _run(
                [
                    npm,
                    "install",
                    "--prefix",
                    str(prefix),
                    "--no-audit",
                    "--no-fund",
                    "--silent",
                    PRISM,
                ]
            )
        except subprocess.TimeoutExpired:
            return Peer("prism", PRISM, None, "prism", "npm install timed out")
        if done.returncode != 0 or not binary.exists():
            return Peer("prism", PRISM, None, "prism", (done.stderr or done.stdout)[-500:])
        marker.write_text(PRISM + "\n")
    return Peer("prism", PRISM, binary.parent, "prism")


def java_problem() -> str:
    """openapi-generator-cli runs a jar: it needs a Java runtime (11 or newer)."""
    if not shutil.which("java"):
        return "no java on PATH"
    return ""


def installed_version(peer: Peer, distribution: str) -> str:
    if not peer.ok:
        return "not installed"
    assert peer.bin_dir is not None
    done = _run(
        [
            str(peer.bin_dir / "python"),
            "-c",
            f"import importlib.metadata as m; print(m.version({distribution!r}))",
        ],
        timeout=60,
    )
    return done.stdout.strip() or "?"
