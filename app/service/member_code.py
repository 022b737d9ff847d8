"""The member code (会员码, SPEC §12): a short-lived one-time code the app shows, a counter's scanner reads.

A code is 18 digits from `secrets` (60 bits: not guessable within its minute). The shared cache
keeps only its keyed hash, `member:code:<hash>` → uid, and the user's current hash under
`member:user:<uid>`; a new code swaps that pointer and deletes the code it replaced, so a user has
at most one live code. Verifying deletes the code's key: of racing verifies exactly one deletes
it, and only that one answers the user.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

import anyio.to_thread

from app.common.code_image import barcode_png, qr_png
from app.common.database import db_read
from app.common.error import ApiException
from app.model.user import User
from config import Settings

DIGITS = 18
_SWAP_TRIES = 10


def mask_phone(phone: str) -> str:
    """`13800000000` → `138****0000`."""
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 8 else "****"


class MemberCodeService:
    def __init__(self, settings: Settings, cache: Any, audit: Any):
        self.settings = settings
        self.cache = cache
        self.audit = audit
        # Its own key, derived so that a stored hash is useless for anything but this check.
        self._key = hashlib.sha256(b"member-code:" + settings.JWT_SECRET.encode("utf-8")).digest()

    def _hash(self, code: str) -> str:
        return hmac.new(self._key, code.encode("ascii"), hashlib.sha256).hexdigest()

    async def issue(self, uid: int, ip: str | None) -> dict[str, Any]:
        """A new code for `uid`, ending the previous one: {code, qrcode, barcode, expires_in}."""
        ttl = self.settings.MEMBER_CODE_TTL
        code = f"{secrets.randbelow(10 ** DIGITS):0{DIGITS}d}"
        digest = self._hash(code)
        if not await self.cache.add(f"member:code:{digest}", str(uid), ttl):
            raise ApiException("SERVICE_UNAVAILABLE")  # 2^-60: a collision means a broken random source
        pointer = f"member:user:{uid}"
        for _ in range(_SWAP_TRIES):
            previous = await self.cache.get(pointer)
            if previous is None:
                if await self.cache.add(pointer, digest, ttl):
                    break
            elif await self.cache.swap(pointer, previous, digest, ttl):
                await self.cache.delete(f"member:code:{previous}")
                break
        else:
            await self.cache.delete(f"member:code:{digest}")
            raise ApiException("SERVICE_UNAVAILABLE")
        qrcode, barcode = await anyio.to_thread.run_sync(lambda: (qr_png(code), barcode_png(code)))
        await self.audit.record("member", "issued", uid=uid, ip=ip)
        return {"code": code, "qrcode": qrcode, "barcode": barcode, "expires_in": ttl}

    async def verify(self, code: str, verifier: int, ip: str | None) -> dict[str, Any]:
        """The code's user {uid, account, phone (masked)}; the code is used up."""
        key = f"member:code:{self._hash(code)}"
        uid = await self.cache.get(key)
        if uid is None or not await self.cache.delete(key):
            raise ApiException("MEMBER_CODE_INVALID")
        user = await db_read(lambda: User.get_or_none(User.id == int(uid)))
        if user is None or user.status != 1:
            raise ApiException("MEMBER_CODE_INVALID")
        await self.audit.record("member", "verified", uid=user.id, ip=ip, detail=f"by uid {verifier}")
        return {"uid": user.id, "account": user.account, "phone": mask_phone(user.phone)}
