"""Conformance: fuzz any implementation of a vendor's spec with Schemathesis; say where it departs.

Three ways in, one engine: `python -m generator fuzz <vendor> --url URL` against a live server,
`nox -s fuzz -- <vendor> --url URL` (the same, in its own environment), and `run(..., app=app)` in
process against an ASGI app. See `runner.run` for the options.
"""

from .report import Failure, Report
from .runner import Options, run

__all__ = ["Failure", "Options", "Report", "run"]
