"""Health pages (SPEC §14): unsigned and unversioned, for load balancers and orchestrators.

    GET /health   200 {"status": "ok"} while the process serves (liveness: nothing else is asked)
    GET /ready    200 {"status": "ready"} when the database and the cache answer; 503 in the
                  default version's envelope (SERVICE_UNAVAILABLE) otherwise (readiness)
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from starlette.responses import Response

from app.common.database import db_write
from app.common.error import ApiException
from app.model.schema_version import SchemaVersion
from app.request import ApiRequest

log = logging.getLogger("login_api.health")
_NO_STORE = {"Cache-Control": "no-store"}


def _ask_database() -> None:
    # A table of ours, not `SELECT 1`: a server whose database was dropped still answers that.
    SchemaVersion.select(SchemaVersion.version).order_by(SchemaVersion.version.desc()).limit(1).scalar()


class Health:
    """Not a Common controller: probes are neither signed nor enveloped (but a 503 is)."""

    def __init__(self, app: Any, request: ApiRequest):
        self.app = app
        self.request = request

    async def initialize(self) -> None:
        """Nothing to check: probes are public and say nothing about users."""

    async def health(self) -> Response:
        """Liveness: this process runs its event loop."""
        return Response(b'{"status":"ok"}', media_type="application/json", headers=_NO_STORE)

    async def ready(self) -> Response:
        """Readiness: one query on the database and one read of the cache, within READY_TIMEOUT."""
        try:
            await asyncio.wait_for(self._ask(), self.app.settings.READY_TIMEOUT)
        except Exception as exc:  # noqa: BLE001 - whatever the failure, the answer is "not ready"
            log.warning("not ready: %s: %s", type(exc).__name__, exc)
            raise ApiException("SERVICE_UNAVAILABLE", headers={"Retry-After": "1"}) from None
        return Response(b'{"status":"ready"}', media_type="application/json", headers=_NO_STORE)

    async def _ask(self) -> None:
        await db_write(_ask_database)
        await self.app.cache.get("ready-probe")
