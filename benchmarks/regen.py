"""Regeneration: ours (cold, no-op, one-spec edit) against the peers on the same five specs.

Ours runs as users run it, `python -m generator generate`, in a scratch copy of the project (its
generator, templates and specs), so an edit or an empty output tree never touches the real one.
The peers get the bundled document of each spec (`generated/<vendor>/openapi.json`, one file, no
external `$ref`s) and run one command per spec and generator, as their docs show; every command is
timed whole, from start to exit, and bounded.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from .common import PROJECT, PYTHON, Completed, Stat, log, run_timed
from .peers import Peer

VENDORS = ("quickblox", "qiscus", "leancloud", "connectycube", "baasbox")
EDITED = "connectycube"  # the one-spec edit: the median-sized spec (96 operations)
TIMEOUT = 900.0


@dataclass
class Outcome:
    """One tool's regeneration of all specs: timings, and what it produced or failed on."""

    name: str
    total: Stat = field(default_factory=Stat)
    per_spec: dict[str, Stat] = field(default_factory=lambda: defaultdict(Stat))
    failures: dict[str, str] = field(default_factory=dict)  # "vendor/step" -> why
    notes: list[str] = field(default_factory=list)
    files: int = 0  # .py files written in the last run

    @property
    def produced(self) -> str:
        failed = {key.split("/")[0] for key in self.failures}
        count = 0 if "all" in failed else len(VENDORS) - len(failed)
        return f"{count}/{len(VENDORS)} specs"


def _py_files(root: Path) -> int:
    return sum(1 for _ in root.rglob("*.py")) if root.exists() else 0


def _why(done: Completed) -> str:
    lines = [line for line in done.output.splitlines() if line.strip()]
    interesting = [
        line
        for line in lines
        if any(w in line for w in ("Error", "error", "Exception", "failed", "timed out"))
    ]
    return (interesting or lines or ["exit " + str(done.returncode)])[0].strip()[:200]


def bundled_specs(scratch: Path) -> dict[str, Path]:
    """The same five documents for every peer, copied out of the project."""
    specs = {}
    for vendor in VENDORS:
        source = PROJECT / "generated" / vendor / "openapi.json"
        target = scratch / "specs" / f"{vendor}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        specs[vendor] = target
    return specs


# -- ours ------------------------------------------------------------------------------------------
def project_copy(scratch: Path) -> Path:
    root = scratch / "ours"
    for part in ("generator", "templates", "specs"):
        shutil.copytree(PROJECT / part, root / part, ignore=shutil.ignore_patterns(".*cache*"))
    (root / "generated").mkdir()
    return root


def _ours(root: Path, *args: str) -> Completed:
    # no PYTHONPATH: `-m` puts the copy (the cwd) first, so the copy's generator is what runs
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return run_timed(
        [PYTHON, "-m", "generator", "generate", *args], cwd=root, env=env, timeout=TIMEOUT
    )


def _edit(spec: Path, n: int) -> None:
    """Change the spec's content as an author would: a few words more in the info summary."""
    text = spec.read_text(encoding="utf-8")
    edited, count = re.subn(
        r"^(  summary: [^\n]*?)( \(bench edit \d+\))?(\.?)$",
        lambda m: f"{m.group(1)} (bench edit {n}){m.group(3)}",
        text,
        count=1,
        flags=re.M,
    )
    if not count:
        edited = text.rstrip("\n") + f"\n# bench edit {n}\n"
    spec.write_text(edited, encoding="utf-8")


def ours_setup(scratch: Path, cold: Outcome) -> Path | None:
    root = project_copy(scratch)
    log("ours: warm-up generation in the scratch copy")
    warm = _ours(root)
    if not warm.ok:
        cold.failures["all/generate"] = _why(warm)
        return None
    return root


def ours_cold(root: Path, cold: Outcome, i: int, runs: int) -> None:
    shutil.rmtree(root / "generated")
    (root / "generated").mkdir()
    done = _ours(root, "--force")
    log(f"ours cold run {i + 1}/{runs}: {done.seconds:.2f}s")
    if done.ok:
        cold.total.add(done.seconds)
    else:
        cold.failures[f"all/run{i}"] = _why(done)
    cold.files = _py_files(root / "generated")


def ours_incremental(root: Path, runs: int, noop_runs: int) -> dict[str, Outcome]:
    noop, edit = Outcome("ours no-op"), Outcome("ours one-spec edit")
    _ours(root)  # whatever the last cold run left: up to date from here
    for i in range(noop_runs):
        done = _ours(root)
        if done.ok and "generated (" not in done.output:
            noop.total.add(done.seconds)
        else:
            noop.failures[f"all/run{i}"] = _why(done) if not done.ok else "regenerated something"
    log(f"ours no-op: median {noop.total.median:.3f}s")
    spec = root / "specs" / EDITED / "openapi.yaml"
    for i in range(runs):
        _edit(spec, i + 1)
        done = _ours(root)
        regenerated = re.findall(r"^(\w+): generated", done.output, flags=re.M)
        if done.ok and regenerated == [EDITED]:
            edit.total.add(done.seconds)
        else:
            edit.failures[f"{EDITED}/run{i}"] = (
                _why(done) if not done.ok else f"regen {regenerated}"
            )
        log(f"ours one-spec edit run {i + 1}/{runs}: {done.seconds:.2f}s")
    return {"noop": noop, "edit": edit}


# -- peers -----------------------------------------------------------------------------------------
def _timed_steps(
    outcome: Outcome, steps: list[tuple[str, str, list[str | Path], Peer | None]], out: Path
) -> None:
    """Run every (vendor, step, command) once; add the run's total and per-spec times."""
    total = 0.0
    per_spec: dict[str, float] = defaultdict(float)
    for vendor, step, cmd, peer in steps:
        done = run_timed(cmd, cwd=out, env=peer.env() if peer else None, timeout=TIMEOUT)
        total += done.seconds
        per_spec[vendor] += done.seconds
        unparsable = done.output.count("Failed to parse")
        if step == "ruff format" and unparsable:
            # ruff exits 2 when a file is not valid Python: the peer's output, not the formatter
            outcome.notes.append(f"{unparsable} of its .py files are not valid Python (ruff)")
        elif not done.ok:
            outcome.failures[f"{vendor}/{step}"] = _why(done)
        elif "Endpoint will not be generated" in done.output:
            skipped = done.output.count("Endpoint will not be generated")
            outcome.failures.pop(f"{vendor}/{step}", None)
            outcome.notes.append(f"{vendor}: {step} left out {skipped} operation(s)")
    outcome.total.add(total)
    for vendor, seconds in per_spec.items():
        outcome.per_spec[vendor].add(seconds)


def openapi_generator(
    specs: dict[str, Path],
    peer: Peer,
    scratch: Path,
    runs: int,
    outcome: Outcome | None = None,
    first: int = 0,
) -> Outcome:
    outcome = outcome or Outcome("openapi-generator (python + python-fastapi)")
    if not peer.ok:
        outcome.failures["all/install"] = peer.problem
        return outcome
    ruff = Path(PYTHON).parent / "ruff"
    for i in range(first, first + runs):
        out = scratch / f"openapi-generator-{i}"
        out.mkdir()
        steps: list[tuple[str, str, list[str | Path], Peer | None]] = []
        for vendor, spec in specs.items():
            for generator in ("python", "python-fastapi"):
                steps.append(
                    (
                        vendor,
                        generator,
                        # its validator rejects a valid `links` requestBody (connectycube): skip it
                        # for every spec, so that all five generate; validation is then not timed
                        [
                            peer.executable,
                            "generate",
                            "-i",
                            spec,
                            "-g",
                            generator,
                            "-o",
                            out / generator / vendor,
                            "--skip-validate-spec",
                        ],
                        peer,
                    )
                )
        # its Python output is not formatted: one ruff pass over everything, as ours formats
        steps.append(("all", "ruff format", [ruff, "format", "--isolated", out], None))
        _timed_steps(outcome, steps, out)
        outcome.files = _py_files(out)
        log(f"openapi-generator run {i + 1}: {outcome.total.values[-1]:.1f}s")
        shutil.rmtree(out, ignore_errors=True)
    note = "run with --skip-validate-spec: its validator rejects connectycube"
    outcome.notes = [*sorted(set(outcome.notes) - {note}), note]  # once, however many runs
    return outcome


def openapi_generator_batch(
    specs: dict[str, Path],
    peer: Peer,
    scratch: Path,
    runs: int,
    outcome: Outcome | None = None,
    first: int = 0,
) -> Outcome:
    """The same ten generations in one JVM (`batch --threads 2`): its fastest way, for reference."""
    outcome = outcome or Outcome("openapi-generator batch (one JVM, 2 threads)")
    if not peer.ok:
        outcome.failures["all/install"] = peer.problem
        return outcome
    ruff = Path(PYTHON).parent / "ruff"
    for i in range(first, first + runs):
        out = scratch / f"openapi-generator-batch-{i}"
        configs = []
        for vendor, spec in specs.items():
            for generator in ("python", "python-fastapi"):
                config = out / "configs" / f"{generator}-{vendor}.yaml"
                config.parent.mkdir(parents=True, exist_ok=True)
                config.write_text(
                    f"generatorName: {generator}\ninputSpec: {spec}\n"
                    f"outputDir: {out / generator / vendor}\nvalidateSpec: false\n"
                )
                configs.append(config)
        steps: list[tuple[str, str, list[str | Path], Peer | None]] = [
            ("all", "batch", [peer.executable, "batch", "--threads", "2", *configs], peer),
            ("all", "ruff format", [ruff, "format", "--isolated", out], None),
        ]
        _timed_steps(outcome, steps, out)
        outcome.files = _py_files(out)
        log(f"openapi-generator batch run {i + 1}: {outcome.total.values[-1]:.1f}s")
        shutil.rmtree(out, ignore_errors=True)
    outcome.notes = sorted(set(outcome.notes))
    return outcome


def python_client_and_fastapi(
    specs: dict[str, Path],
    opc: Peer,
    fcg: Peer,
    scratch: Path,
    runs: int,
    outcome: Outcome | None = None,
    first: int = 0,
) -> Outcome:
    outcome = outcome or Outcome("openapi-python-client + fastapi-code-generator")
    for peer in (opc, fcg):
        if not peer.ok:
            outcome.failures[f"all/{peer.name}"] = peer.problem
    if not (opc.ok and fcg.ok):
        return outcome
    for i in range(first, first + runs):
        out = scratch / f"opc-fcg-{i}"
        out.mkdir()
        steps: list[tuple[str, str, list[str | Path], Peer | None]] = []
        for vendor, spec in specs.items():
            steps.append(
                (
                    vendor,
                    "openapi-python-client",
                    # it formats its own output with ruff (from its environment's bin)
                    [
                        opc.executable,
                        "generate",
                        "--path",
                        spec,
                        "--output-path",
                        out / "client" / vendor,
                    ],
                    opc,
                )
            )
            steps.append(
                (
                    vendor,
                    "fastapi-code-generator",
                    # it formats with black and isort itself
                    [fcg.executable, "--input", spec, "--output", out / "server" / vendor],
                    fcg,
                )
            )
        _timed_steps(outcome, steps, out)
        outcome.files = _py_files(out)
        log(
            f"openapi-python-client + fastapi-code-generator run {i + 1}: "
            f"{outcome.total.values[-1]:.1f}s"
        )
        shutil.rmtree(out, ignore_errors=True)
    outcome.notes = sorted(set(outcome.notes))
    return outcome


def datamodel_codegen(
    specs: dict[str, Path], scratch: Path, runs: int, outcome: Outcome | None = None, first: int = 0
) -> Outcome:
    """Models only, with the datamodel-code-generator ours uses (same pinned version): the floor."""
    outcome = outcome or Outcome("datamodel-code-generator alone (models only)")
    binary = Path(PYTHON).parent / "datamodel-codegen"
    for i in range(first, first + runs):
        out = scratch / f"dmcg-{i}"
        out.mkdir()
        steps: list[tuple[str, str, list[str | Path], Peer | None]] = [
            (
                vendor,
                "datamodel-codegen",
                [
                    binary,
                    "--input",
                    spec,
                    "--input-file-type",
                    "openapi",
                    "--output-model-type",
                    "pydantic_v2.BaseModel",
                    "--output",
                    out / f"{vendor}.py",
                ],
                None,
            )
            for vendor, spec in specs.items()
        ]
        _timed_steps(outcome, steps, out)
        outcome.files = _py_files(out)
        log(f"datamodel-code-generator run {i + 1}: {outcome.total.values[-1]:.1f}s")
        shutil.rmtree(out, ignore_errors=True)
    return outcome


def run(peers: dict[str, Peer], runs: int, peer_runs: int, noop_runs: int) -> dict[str, Outcome]:
    """Runs interleaved (ours, then each peer, again and again): a busy spell of the machine
    falls on every tool alike, not on one."""
    results = {
        "cold": Outcome("ours --force"),
        "openapi-generator": Outcome("openapi-generator (python + python-fastapi)"),
        "openapi-generator-batch": Outcome("openapi-generator batch (one JVM, 2 threads)"),
        "opc+fcg": Outcome("openapi-python-client + fastapi-code-generator"),
        "datamodel-codegen": Outcome("datamodel-code-generator alone (models only)"),
    }
    with tempfile.TemporaryDirectory(prefix="baas-bench-regen-") as tmp:
        scratch = Path(tmp)
        specs = bundled_specs(scratch)
        root = ours_setup(scratch, results["cold"])
        for i in range(max(runs, peer_runs)):
            if root is not None and i < runs:
                ours_cold(root, results["cold"], i, runs)
            if i >= peer_runs:
                continue
            openapi_generator(
                specs, peers["openapi-generator"], scratch, 1, results["openapi-generator"], i
            )
            openapi_generator_batch(
                specs, peers["openapi-generator"], scratch, 1, results["openapi-generator-batch"], i
            )
            python_client_and_fastapi(
                specs,
                peers["openapi-python-client"],
                peers["fastapi-code-generator"],
                scratch,
                1,
                results["opc+fcg"],
                i,
            )
            datamodel_codegen(specs, scratch, 1, results["datamodel-codegen"], i)
        if root is not None:
            results.update(ours_incremental(root, runs, noop_runs))
        else:
            results.update({"noop": Outcome("ours no-op"), "edit": Outcome("ours one-spec edit")})
    return results
