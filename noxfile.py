"""Sessions: `nox -s generate` regenerates everything, `nox -s tests` runs the whole test suite.

`nox -l` lists them all. Each session installs the project and its pinned tools into its own venv.
"""

from __future__ import annotations

import nox

nox.needs_version = ">=2024.3.2"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["lint", "typecheck", "tests"]

VENDORS = ("quickblox", "qiscus", "leancloud", "connectycube", "baasbox")


def _install(session: nox.Session, extras: str = "") -> None:
    session.install("-e", f".[{extras}]" if extras else ".")


@nox.session
def generate(session: nox.Session) -> None:
    """Regenerate generated/ from specs/ (vendors whose inputs changed; `-- --force` for all)."""
    _install(session)
    session.run("python", "-m", "generator", "generate", *session.posargs)


@nox.session
def check(session: nox.Session) -> None:
    """Fail, listing the files, when generated/ differs from what the generator would write."""
    _install(session)
    session.run("python", "-m", "generator", "check", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """Ruff on the project and the generated code, and spec validation (structure + lint rules)."""
    _install(session, "test")
    session.run("ruff", "check", ".")
    session.run("python", "-m", "generator", "validate")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy: strict on generated/, default on the generator."""
    _install(session, "test")
    session.run("mypy", "--strict", "generated")
    session.run("mypy", "generator")


@nox.session
def tests(session: nox.Session) -> None:
    """The whole test suite: generator, specs, drift, generated code (ruff, mypy, round trips)."""
    _install(session, "test")
    session.run("pytest", "-n", "2", *session.posargs)


@nox.session
def fuzz(session: nox.Session) -> None:
    """Deep conformance run: `nox -s fuzz -- [<vendor> --url URL --credential k=v ...]`."""
    _install(session, "test")
    args = session.posargs or []
    vendors = [args[0]] if args and not args[0].startswith("-") else list(VENDORS)
    rest = args[1:] if args and not args[0].startswith("-") else args
    for vendor in vendors:
        session.run(
            "python",
            "-m",
            "generator",
            "fuzz",
            vendor,
            "--max-examples",
            "100",
            "--junit",
            f"artifacts/conformance/{vendor}.xml",
            *rest,
        )


@nox.session
def docs(session: nox.Session) -> None:
    """Build the static docs site into site/ (one folder: open site/index.html, or serve it)."""
    _install(session)
    session.run("python", "-m", "generator", "generate")
    session.run("python", "-m", "generator.docs", "--out", "site", *session.posargs)


@nox.session
def serve(session: nox.Session) -> None:
    """Run a vendor's emulator: `nox -s serve -- <vendor> [--port N --db PATH|URL ...]`."""
    _install(session, "test")
    session.run("python", "-m", "emulators", *(session.posargs or ["qiscus"]))


@nox.session
def corpus(session: nox.Session) -> None:
    """Generate the real-world corpus (../shared/corpus/specs or $BAAS_CORPUS); write the table."""
    _install(session, "test")
    results = ["--results", "tests/corpus/RESULTS.md"]
    session.run("python", "tests/corpus.py", *results, *session.posargs)


@nox.session
def regen(session: nox.Session) -> None:
    """Rewrite tests/golden/ from tests/fixtures/specs/valid/ (then review the diff)."""
    _install(session, "test")
    session.run("python", "tests/regen_golden.py")


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks against the peers: prints ratios, writes benchmarks/RESULTS.md (`benchmarks/`).

    The peers (openapi-generator-cli, openapi-python-client, fastapi-code-generator, Prism) are
    installed by the driver, each in its own environment under .nox/bench-peers/ (Java and npm
    needed); `-- --only regen|serve|fuzz|client --runs N` narrows a run.
    """
    _install(session, "test")
    session.install("uv")  # the driver makes the peers' environments with it
    session.run("python", "-m", "benchmarks", *session.posargs)
