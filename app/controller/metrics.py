"""The metrics page: `GET /metrics` in Prometheus' text format, summed over every worker.

Guarded, since it tells how the service is used: loopback and TRUSTED_PROXIES addresses read it
as they are; anyone else needs `Authorization: Bearer <METRICS_TOKEN>`, and without the right one
gets the same 404 as a path that does not exist, so the page's presence is not advertised.
"""
from __future__ import annotations

import hmac
import ipaddress
from typing import Any

import anyio.to_thread
from starlette.responses import Response

from app.common.client_ip import client_address
from app.common.error import ApiException
from app.common.metrics import CONTENT_TYPE_LATEST, RECENT, exposition
from app.request import ApiRequest


class Metrics:
    """Not a Common controller: scrapers do not sign."""

    def __init__(self, app: Any, request: ApiRequest):
        self.settings = app.settings
        self.request = request

    async def initialize(self) -> None:
        if not self.settings.METRICS_ENABLED or not (self._from_inside() or self._has_token()):
            raise ApiException("ROUTE_NOT_FOUND")

    def _from_inside(self) -> bool:
        """The client (behind trusted proxies, the one they forward for) is loopback or a trusted proxy."""
        proxies = self.settings.TRUSTED_PROXIES
        address = client_address(self.request.client_ip, self.request.header_lines(b"x-forwarded-for"), proxies)
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return ip.is_loopback or any(ip in network for network in proxies)

    def _has_token(self) -> bool:
        expected = self.settings.METRICS_TOKEN
        scheme, _, given = self.request.headers.get("authorization", "").partition(" ")
        if not expected or scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(given.strip().encode("utf-8"), expected.encode("utf-8"))

    async def page(self) -> Response:
        """Every metric of every worker (the files are read in a worker thread)."""
        RECENT.flush()  # this worker's counts of the last second; the others' are at most that late
        body = await anyio.to_thread.run_sync(exposition)
        return Response(body, media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})
