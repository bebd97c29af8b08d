"""The ceiling: a bare FastAPI app answering the benchmarked paths with fixed, pre-encoded bodies
the size of the emulator's answers. No validation, no storage: what this stack (FastAPI on
uvicorn, as the emulators are served) costs by itself. `uvicorn benchmarks.bare_app:app`.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response

PROFILE = (
    b'{"status":200,"results":{"user":{"id":1,"email":"ann@example.com","username":"Ann",'
    b'"avatar_url":"","token":"6cb379cbb7285bb8948c"}}}'
)

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@app.get("/api/v2/rest/user_profile")
async def read() -> Response:
    return Response(PROFILE, media_type="application/json")


@app.post("/api/v2/rest/login_or_register")
async def write(request: Request) -> Response:
    await request.body()
    return Response(PROFILE, media_type="application/json")
