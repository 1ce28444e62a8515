"""The ceiling: a bare Starlette endpoint answering ``POST /graphql`` with a fixed JSON body.

It shows what uvicorn, Starlette and the load generator can do on this machine with no GraphQL at all,
so the other rows can be read in context. ``BENCH_CEILING_BODY`` names a file holding the body (the
harness gives it the bare app's answer to the benchmark document, so both send the same bytes).
"""

from __future__ import annotations

import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

_body_file = os.environ.get("BENCH_CEILING_BODY", "")
BODY = Path(_body_file).read_bytes() if _body_file else b'{"data":{"hello":"world"}}'


async def graphql(request: Request) -> Response:
    await request.body()
    return Response(BODY, media_type="application/json")


app = Starlette(routes=[Route("/graphql", graphql, methods=["POST"])])
