"""The JWKS page: `GET /.well-known/jwks.json`, the public keys that verify this service's JWTs.

Unsigned and unversioned, like the docs pages, because other services (any JWT library with a
JWKS client) fetch it. With HS256 there is no public key, and the set is empty.
"""
from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

from app.common.auth import Auth
from app.request import ApiRequest

# Verifiers cache the set for this long; a rotated-in key signs for that long before every
# verifier has it, which is why verifiers also refetch on an unknown kid (jose, PyJWKClient do).
MAX_AGE = 300


class Jwks:
    """Not a Common controller: the page is public and read-only."""

    def __init__(self, app: Any, request: ApiRequest):
        self.app = app
        self.request = request

    async def initialize(self) -> None:
        """Nothing to check."""

    async def keys(self) -> Response:
        """Every public key that may still verify a token, newest first."""
        keyring = Auth.instance().drivers["jwt"].keyring  # type: ignore[attr-defined]
        keys = [key.jwk() for key in keyring.published()] if keyring is not None else []
        return Response(json.dumps({"keys": keys}, separators=(",", ":")), media_type="application/json",
                        headers={"Cache-Control": f"public, max-age={MAX_AGE}",
                                 "Access-Control-Allow-Origin": "*", "X-Content-Type-Options": "nosniff"})
