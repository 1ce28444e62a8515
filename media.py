"""Which media type a GraphQL-over-HTTP response is written in, for every layer that answers one.

The view, the authentication middleware (401) and the outer middleware (413, 503) all answer GraphQL
clients; each negotiates the same way, so an ``application/graphql-response+json`` client gets that
media type from whichever layer ends its request.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLFormattedError
from starlette.responses import JSONResponse, Response

from errors import ErrorCode

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"

#: What each supported ``Accept`` media range is answered with.
OFFERED = {GRAPHQL_RESPONSE_JSON: GRAPHQL_RESPONSE_JSON, JSON: JSON, "application/*": JSON, "*/*": JSON}


def negotiate(accept: str | None) -> str:
    """The response media type for an ``Accept`` header: the supported type it ranks highest (an exact
    type before a wildcard of the same quality).

    ``application/json`` answers a missing header, ``*/*``, ``application/*`` and anything unsupported
    (the specification lets servers disregard an ``Accept`` they cannot meet).
    """
    best, best_rank = JSON, (-1.0, False)
    for item in (accept or "").split(","):
        media, _, parameters = item.partition(";")
        media = media.strip().lower()
        offered = OFFERED.get(media)
        if offered is None:
            continue
        quality = 1.0
        for parameter in parameters.split(";"):
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        rank = (quality, media == offered)
        if quality > 0 and rank > best_rank:
            best, best_rank = offered, rank
    return best


def media_type_header(media_type: str) -> str:
    return f"{media_type}; charset=utf-8" if media_type == GRAPHQL_RESPONSE_JSON else media_type


def error_response(
    status: int, message: str, code: ErrorCode | str, media_type: str, headers: dict[str, str] | None = None
) -> Response:
    """A request-level error in GraphQL's shape: ``errors`` only (the operation never ran)."""
    body = {"errors": [{"message": message, "extensions": {"code": str(code)}}]}
    response = JSONResponse(body, status, headers)
    response.headers["content-type"] = media_type_header(media_type)
    return response


def refusal_response(
    accept: str | None, status: int, error: GraphQLFormattedError, headers: dict[str, str]
) -> Response:
    """A GraphQL error that ends a request before the view runs (401, 503), in the negotiated media type.

    ``application/json`` clients keep the ``"data": null`` they have always been sent; a
    ``application/graphql-response+json`` response to a request that never ran has no ``data`` entry.
    """
    media_type = negotiate(accept)
    body: dict[str, Any] = {"errors": [error]}
    if media_type == JSON:
        body = {"data": None, **body}
    response = JSONResponse(body, status, headers)
    response.headers["content-type"] = media_type_header(media_type)
    return response
