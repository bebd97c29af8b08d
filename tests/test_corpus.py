"""The whole real-world corpus, one test per document (see tests/corpus.py for what is checked).

The documents are read from `../shared/corpus/specs` (or `$BAAS_CORPUS`) and never copied into the
project; where they are absent the tests skip and say so. `nox -s corpus` writes the summary table.
"""

from __future__ import annotations

import os
from pathlib import Path

import corpus
import pytest

DOCUMENTS = corpus.documents() if corpus.CORPUS.is_dir() else []
pytestmark = pytest.mark.skipif(
    not DOCUMENTS, reason=f"no OpenAPI corpus at {corpus.CORPUS} (set BAAS_CORPUS to run these)"
)


@pytest.fixture(scope="session")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # one cache per xdist worker: the generated packages share pydantic, fastapi and httpx stubs
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return tmp_path_factory.getbasetemp().parent / f"corpus-mypy-{worker}"


@pytest.mark.parametrize("spec", DOCUMENTS or [None], ids=lambda s: s.stem if s else "none")
def test_document_generates_complete(spec: Path, tmp_path: Path, mypy_cache: Path) -> None:
    outcome = corpus.check(spec, tmp_path, mypy_cache)
    problems = [
        f"{name}: no"
        for name in ("generated", "imports", "server", "ruff", "mypy")
        if not getattr(outcome, name)
    ]
    if outcome.generated_operations != outcome.operations:
        problems.append(f"operations {outcome.generated_operations}/{outcome.operations}")
    problems += [f"unlocated problem: {line}" for line in outcome.unlocated]
    problems += [f"example rejected: {line}" for line in outcome.examples_rejected]
    assert outcome.complete, "\n".join(problems) + "\n" + outcome.failure
    if not outcome.valid:  # generated under --lenient: the refusal itself was located
        assert outcome.problems > 0
