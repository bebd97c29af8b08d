"""Benchmarks of the generator, the emulators, the conformance harness and the generated clients,
against their peers, in one bounded run on loopback: `nox -s bench` (or `python -m benchmarks` in
an environment with the project's test extras). Results: printed as a table, and written to
`benchmarks/RESULTS.md` with the machine's description.

What is measured, and how (medians of `--runs` runs, with min and max):

- **Cold full regeneration** of the five specs (models, clients, servers, docs, formatted):
  `python -m generator generate --force` into an empty output tree of a scratch copy of the project
  (`regen.py`), against
  - openapi-generator (PyPI `openapi-generator-cli`, a jar run by Java): `generate -g python` and
    `generate -g python-fastapi` per spec, then one `ruff format` over its output (it does not
    format); also, for reference, its `batch` mode (all ten in one JVM, two threads);
  - openapi-python-client (formats with ruff itself) plus fastapi-code-generator (black, isort);
  - datamodel-code-generator alone, the version ours uses: models only, the floor.
  The peers read the bundled document of each spec (`generated/<vendor>/openapi.json`); each is
  installed in its own virtualenv under the cache directory (`peers.py`), never in ours. What a
  peer failed on, or left out, is counted in the table's "produced" column and listed in the notes.
- **No-op regeneration** (nothing changed) and a **one-spec edit** (connectycube's info summary
  edited): plain `python -m generator generate`, which regenerates only what changed. The peers
  have no change detection: against them, the edit is compared with rerunning them on that spec.
  Runs of ours and of the peers alternate, so that a busy spell of the machine hits all alike.
- **Emulator throughput** (`throughput.py`): requests per second and p50/p99 latency, for a read
  and a write of the Qiscus emulator (SQLite in a scratch file), against Prism's mock server on the
  same spec and a bare FastAPI app answering fixed bodies (`bare_app.py`, the ceiling). One server
  process each; load from `loadgen.py` in a separate process (keep-alive connections, closed loop).
- **Conformance throughput** (`conformance.py`): Schemathesis cases per second through
  `generator.fuzz.run`, in process (ASGI) and over loopback.
- **Generated client overhead** (`client_overhead.py`): time per call of the generated client
  against raw httpx doing the same request, on `httpx.MockTransport` and over loopback.

Every server is started on 127.0.0.1 in its own process group and killed by its pid when its part
ends, also on error; every command and every load has a time bound.

The throughput rows also give the server's CPU time per request (from /proc, warm-up included):
on a machine shared with other work, requests per second move with what else runs, the CPU a
request costs much less.

Options: `--only regen|serve|fuzz|client` (repeatable), `--runs N` (default 3), `--peer-runs N`,
`--serve-runs N` (default 5), `--duration S` (load seconds per run, default 3), `--cache DIR`
(peers), `--json FILE` (raw numbers), `--strict` (exit 1 when a target is missed).
"""
