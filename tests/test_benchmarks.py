"""The benchmark driver's own logic: the load generator's response parser, the table's verdicts.

(`nox -s bench` runs the benchmarks themselves; these only keep their arithmetic honest.)
"""

from __future__ import annotations

from benchmarks.common import Stat
from benchmarks.loadgen import _parse
from benchmarks.report import Row


def test_parse_waits_for_a_whole_response() -> None:
    head = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-type: application/json\r\n\r\n"
    assert _parse(head) is None
    assert _parse(head + b"abc") is None
    assert _parse(head + b"abcde") == (200, True, len(head) + 5)
    # a second response already in the buffer is left for the next call
    assert _parse(head + b"abcde" + head) == (200, True, len(head) + 5)


def test_parse_chunked_and_close() -> None:
    head = b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    body = b"3\r\nabc\r\n0\r\n\r\n"
    assert _parse(head + body[:-2]) is None
    assert _parse(head + body) == (404, False, len(head) + len(body))


def test_stat_and_ratio_verdicts() -> None:
    fast, slow = Stat([1.0, 2.0, 3.0]), Stat([10.0, 20.0, 30.0])
    assert (fast.median, fast.min, fast.max) == (2.0, 1.0, 3.0)
    row = Row("s", "w", fast, "peer", slow, "s", target="<= 0.20")
    assert row.ratio == 0.1 and row.holds
    assert not Row("s", "w", slow, "peer", fast, "s", target="<= 0.20").holds
    assert Row("s", "w", Stat([0.3]), "", None, "s", target="< 0.5 s").holds
    assert not Row("s", "w", Stat([]), "peer", slow, "s", target="< 1.00").holds  # failed: missed
