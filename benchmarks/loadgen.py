"""A small closed-loop HTTP/1.1 load generator: N keep-alive connections, each sending its next
request as soon as the previous answer is in, for a fixed time. Loopback only.

`python -m benchmarks.loadgen --port P --path /x [--method POST --body '{"n": "{n}"}'] [-H K:V]`
prints one JSON line: requests per second, latency percentiles (ms), statuses. `{n}` in the path
or body becomes a number unique to the request, so that writes create distinct records.

Plain asyncio protocols, not an HTTP client library, so that the generator costs little CPU next to
the server it measures (both share this machine's cores).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import time
from collections import Counter

HOST = "127.0.0.1"


def _request(method: str, path: str, headers: list[tuple[str, str]], body: bytes) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}"]
    lines += [f"{k}: {v}" for k, v in headers]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class _Connection(asyncio.Protocol):
    """One keep-alive connection in a closed loop: the next request leaves when an answer is in."""

    def __init__(self, run: _Run) -> None:
        self.run = run
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.sent = 0.0
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self._send()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(exc)

    def _send(self) -> None:
        assert self.transport is not None
        if time.perf_counter() >= self.run.end:
            self.transport.close()
            return
        self.sent = time.perf_counter()
        self.transport.write(self.run.next_request())

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            parsed = _parse(self.buffer)
            if parsed is None:
                return
            status, keep, used = parsed
            self.buffer = self.buffer[used:]
            self.run.record(status, self.sent, time.perf_counter())
            if not keep:
                assert self.transport is not None
                self.transport.close()
                return
            self._send()
            if not self.buffer:
                return


def _parse(buffer: bytes) -> tuple[int, bool, int] | None:
    """(status, keep-alive, bytes used) of the first complete response in `buffer`, else None."""
    head_end = buffer.find(b"\r\n\r\n")
    if head_end < 0:
        return None
    head = buffer[:head_end].decode("latin-1")
    status_line, *header_lines = head.split("\r\n")
    status = int(status_line.split(" ", 2)[1])
    length, chunked, keep = 0, False, True
    for line in header_lines:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding":
            chunked = "chunked" in value.lower()
        elif name == "connection":
            keep = "close" not in value.lower()
    at = head_end + 4
    if not chunked:
        return (status, keep, at + length) if len(buffer) >= at + length else None
    while True:
        line_end = buffer.find(b"\r\n", at)
        if line_end < 0:
            return None
        size = int(buffer[at:line_end].split(b";")[0], 16)
        at = line_end + 2 + size + 2
        if len(buffer) < at:
            return None
        if size == 0:
            return status, keep, at


class _Run:
    def __init__(
        self,
        template: tuple[str, str, list[tuple[str, str]], str],
        first: int,
        warmup_end: float,
        end: float,
    ) -> None:
        method, path, headers, body = template
        self.template = template
        self.fixed = (
            None
            if "{n}" in path or "{n}" in body
            else _request(method, path, headers, body.encode())
        )
        self.counter = itertools.count(first)
        self.warmup_end = warmup_end
        self.end = end
        self.latencies: list[float] = []
        self.statuses: Counter[int] = Counter()
        self.errors: Counter[str] = Counter()
        self.answered = 0  # every answer, warm-up included: what the server did in this process

    def next_request(self) -> bytes:
        if self.fixed is not None:
            return self.fixed
        method, path, headers, body = self.template
        n = str(next(self.counter))
        return _request(method, path.replace("{n}", n), headers, body.replace("{n}", n).encode())

    def record(self, status: int, sent: float, done: float) -> None:
        self.answered += 1
        if sent >= self.warmup_end and done <= self.end:
            self.latencies.append(done - sent)
            self.statuses[status] += 1


async def _connection(port: int, run: _Run) -> None:
    loop = asyncio.get_running_loop()
    while time.perf_counter() < run.end:
        try:
            _, protocol = await loop.create_connection(lambda: _Connection(run), HOST, port)
            error = await protocol.closed
            if error is not None:
                raise error
        except (OSError, ValueError, IndexError) as exc:
            run.errors[type(exc).__name__] += 1
            await asyncio.sleep(0.01)


def _percentile(ordered: list[float], q: float) -> float:
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


async def measure(
    port: int,
    path: str,
    *,
    method: str = "GET",
    headers: list[tuple[str, str]] | None = None,
    body: str = "",
    connections: int = 16,
    duration: float = 4.0,
    warmup: float = 1.0,
    first: int = 1,
) -> dict[str, object]:
    start = time.perf_counter()
    run = _Run(
        (method, path, list(headers or []), body), first, start + warmup, start + warmup + duration
    )
    tasks = [_connection(port, run) for _ in range(connections)]
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=duration + warmup + 30)
    latencies, statuses, errors = run.latencies, run.statuses, run.errors
    ordered = sorted(latencies)
    ok = sum(count for status, count in statuses.items() if 200 <= status < 300)
    return {
        "requests": len(latencies),
        "answered": run.answered,
        "rps": len(latencies) / duration,
        "ok_rps": ok / duration,
        "p50_ms": _percentile(ordered, 0.50) * 1000,
        "p99_ms": _percentile(ordered, 0.99) * 1000,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "errors": dict(errors),
        "connections": connections,
        "seconds": duration,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--method", default="GET")
    parser.add_argument("--body", default="")
    parser.add_argument("-H", "--header", action="append", default=[], metavar="NAME:VALUE")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=float, default=4.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--first", type=int, default=1, help="first value of {n}")
    args = parser.parse_args()
    headers = [tuple(h.split(":", 1)) for h in args.header]
    result = asyncio.run(
        measure(
            args.port,
            args.path,
            method=args.method,
            headers=[(k.strip(), v.strip()) for k, v in headers],
            body=args.body,
            connections=args.connections,
            duration=args.duration,
            warmup=args.warmup,
            first=args.first,
        )
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
