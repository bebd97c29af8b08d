"""Stage 5b, docs: the browsable HTML reference of one API, rendered from the IR and the bundled spec.

Returns `{path under docs/: text}`; touches no disk. The site-wide index of every vendor is built by
`site()`, which `nox -s docs` writes out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import ir
from .render import environment


def render_docs(api: ir.Api, data: dict[str, Any], templates: Path, header: str) -> dict[str, str]:
    """The files of `generated/<vendor>/docs/`."""
    html = environment(templates, html=True)
    page = html.get_template("docs/index.html.jinja").render(api=api, spec=data, header=f"<!-- {header} -->")
    return {"docs/index.html": page}
