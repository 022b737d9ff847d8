"""v1 Crypto controller: the public key for RSA password transport (SPEC §13.2)."""
from __future__ import annotations

from app.common.action import action
from app.common.openapi import schemas
from app.common.response import JsonResponse
from app.controller.common import Common


class Crypto(Common):
    @action(data=schemas.CRYPTO_KEY)
    async def key(self) -> JsonResponse:
        """→ {kid, alg: "RSA-OAEP-256", public_key (PEM), expires_at}: encrypt password fields with it
        as `rsa:<kid>:<base64url ciphertext>` until expires_at, then fetch it again."""
        return self.success(await self.app.rsa_keys.publish())
