"""QrPage controller: GET /qrlogin, a tiny page that logs in by QR code (SPEC §12), unsigned like /docs.

It creates a ticket, shows its QR code, long-polls and shows "logged in as …". Its requests are
signed in the browser with the secret typed into the page (the docs page's sign.js and md5.js).
"""
from __future__ import annotations

from pathlib import Path

from starlette.responses import Response

from app.controller.docs import Docs

VIEW = Path(__file__).resolve().parent.parent / "view" / "qrlogin"
# Everything from this server, nothing inline: the page runs under a strict policy.
_HEADERS = {"Cache-Control": "no-cache", "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                                       "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"}


class QrPage(Docs):
    """Not a Common controller: the page and its script are neither signed nor enveloped."""

    async def page(self) -> Response:
        """The QR login demo page."""
        return Response((VIEW / "index.html").read_bytes(), media_type="text/html; charset=utf-8", headers=_HEADERS)

    async def script(self) -> Response:
        """The page's script."""
        return Response((VIEW / "qrlogin.js").read_bytes(), media_type="text/javascript; charset=utf-8",
                        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"})
