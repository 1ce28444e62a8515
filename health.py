"""Probes for orchestrators: ``/livez`` (the process answers) and ``/readyz`` (it can serve: the database
answers and has every migration this code knows). ``/healthz`` stays as it was (a public contract).

A readiness failure is 503 with a JSON reason, so a load balancer takes the instance out of rotation while
a deployment's migrations have not run yet or the database is away; liveness never touches the database,
so an outage does not get the process restarted for nothing.

Draining (``DRAIN_SECONDS``): from SIGTERM until the graceful shutdown begins, ``/readyz`` answers 503 while
every request is still served, so that a load balancer's health check takes the process out of rotation
before it stops accepting connections (``main.draining_on_sigterm``).
"""

from __future__ import annotations

import pkgutil

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

import models.migrations
from models.sql import fetch_one

#: The app label migrations are recorded under (``tortoise_migrations.app``).
MIGRATIONS_APP = "models"


class Readiness:
    """Whether this process is draining: set once, by SIGTERM, for the rest of its life."""

    draining = False


readiness = Readiness()


def latest_migration() -> str:
    """The name of the newest migration shipped with this code (``0007_...``)."""
    names = [m.name for m in pkgutil.iter_modules(models.migrations.__path__) if m.name[:4].isdigit()]
    return max(names)


LATEST_MIGRATION = latest_migration()


async def livez(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    if readiness.draining:
        return JSONResponse({"status": "unavailable", "reason": "draining: shutting down"}, status_code=503)
    try:
        row = await fetch_one(
            "SELECT 1 AS applied FROM tortoise_migrations WHERE app = ? AND name = ?", MIGRATIONS_APP, LATEST_MIGRATION
        )
    except Exception:
        return JSONResponse({"status": "unavailable", "reason": "database unreachable"}, status_code=503)
    if row is None:
        reason = f"migration {LATEST_MIGRATION} is not applied; run: integrations-graphql migrate"
        return JSONResponse({"status": "unavailable", "reason": reason}, status_code=503)
    return JSONResponse({"status": "ok"})
