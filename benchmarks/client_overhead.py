"""Generated client overhead per call, against raw httpx doing the same request.

The call: Qiscus `get_user_profile(user_email=...)`: the generated `Client` builds the request
(credential headers, query), sends it, checks the status and parses the body into the response
model. Raw httpx: `client.get(path, params=..., headers=...)`, `raise_for_status()`, `.json()`.
Both on one `httpx.Client` configuration, against
- `httpx.MockTransport` answering a fixed body (no network: the client's own cost, isolated), and
- the bare FastAPI server over loopback (what a caller sees).

Rounds alternate raw and ours so drift hits both; each round's time per call is one sample.
`python -m benchmarks.client_overhead [--port P]` prints one JSON line (microseconds per call).
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from collections.abc import Callable
from typing import Any

import httpx

from .bare_app import PROFILE

HEADERS = {"QISCUS_SDK_SECRET": "qiscus-secret", "QISCUS_SDK_APP_ID": "qiscus-app"}
PATH = "/api/v2/rest/user_profile"


def _calls(base_url: str, transport: httpx.BaseTransport | None) -> dict[str, Callable[[], Any]]:
    from generated.qiscus.client import Client

    ours = Client(base_url, sdk_secret="qiscus-secret", app_id="qiscus-app", transport=transport)
    raw = httpx.Client(base_url=base_url, transport=transport)

    def raw_call() -> Any:
        response = raw.get(PATH, params={"user_email": "ann@example.com"}, headers=HEADERS)
        response.raise_for_status()
        return response.json()

    def ours_call() -> Any:
        return ours.get_user_profile(user_email="ann@example.com")

    return {"raw httpx": raw_call, "ours": ours_call}


def _rounds(
    calls: dict[str, Callable[[], Any]], rounds: int, per_round: int
) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for call in calls.values():  # warm up: imports, connection, caches
        for _ in range(min(200, per_round)):
            call()
    for _ in range(rounds):
        for name, call in calls.items():
            gc.collect()
            started = time.perf_counter()
            for _ in range(per_round):
                call()
            samples[name].append((time.perf_counter() - started) / per_round * 1e6)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, help="the bare FastAPI server, for the loopback rounds")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()

    def fixed(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=PROFILE, headers={"content-type": "application/json"})

    out: dict[str, dict[str, list[float]]] = {
        "mock transport": _rounds(
            _calls("http://qiscus.test", httpx.MockTransport(fixed)), args.rounds, args.calls
        )
    }
    if args.port:
        out["loopback"] = _rounds(
            _calls(f"http://127.0.0.1:{args.port}", None), args.rounds, max(1, args.calls // 4)
        )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
