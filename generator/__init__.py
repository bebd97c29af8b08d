"""baas-openapi: hand-written OpenAPI specs in, models, clients, servers and docs out.

The pipeline reads as stages, one module each: `load` -> `validate` (+ `lint`) -> `build` (the IR in
`ir`) -> `models` -> `render` -> `format` -> `write`. `pipeline` chains them; `cli` is the
front door.
"""

__version__ = "0.1.0"
