"""Refresh rotation with reuse detection (SPEC §11).

A rotating refresh uses up the presented refresh token and answers a new {jwt, refresh_jwt}.
Exactly one caller wins a token: an atomic conditional UPDATE of its row (revoked 0 → 1).
The winner keeps the answer in the shared cache for REFRESH_REUSE_GRACE seconds, sealed with a
key derived from the old token itself (AES-256-GCM), under a hash of it: only someone holding the old token
can read the pair, and no token is stored in clear. A caller who lost the race, or a client
retrying after a lost answer, gets that same pair. After the grace a reuse is taken for theft:
the whole session ends.
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.common.auth import Auth, _claims_match
from app.common.clock import SYSTEM_CLOCK, Clock
from app.common.database import db_read, db_write, write_transaction
from app.common.error import ApiException
from app.common.text import Text
from app.common.token.driver import IssuedToken, token_invalid
from app.common.token.jwt import JwtDriver
from app.common.token.store import cap_access_tokens, lock_session, store_in_live_session
from app.model.session import Session
from app.model.token import Token
from app.service.audit import Audit
from config import Settings

_REFRESH_FAILED = Text("refresh jwt expred or others", "refresh jwt expred or others")
_REUSED = Text("refresh jwt reused, session ended", "refresh jwt reused, session ended")
# How long a caller that lost the race waits for the winner's answer to appear.
_WAIT, _POLL = 3.0, 0.05


def _derive(token: str, purpose: bytes) -> bytes:
    return hmac.new(hashlib.sha256(token.encode("utf-8")).digest(), purpose, hashlib.sha256).digest()


def cache_key(token: str) -> str:
    return "rot:" + _derive(token, b"refresh-rotation-id").hex()


def seal(token: str, plain: bytes) -> str:
    """AES-256-GCM under a key derived from `token`, with the cache key as associated data."""
    nonce = secrets.token_bytes(12)
    body = AESGCM(_derive(token, b"refresh-rotation-enc")).encrypt(nonce, plain, cache_key(token).encode())
    return base64.b64encode(nonce + body).decode("ascii")


def unseal(token: str, sealed: str) -> bytes | None:
    """The plaintext of `seal(token, …)`, or None when it was sealed under another token or altered."""
    try:
        raw = base64.b64decode(sealed, validate=True)
        return AESGCM(_derive(token, b"refresh-rotation-enc")).decrypt(raw[:12], raw[12:], cache_key(token).encode())
    except (InvalidTag, ValueError):
        return None


class RefreshRotation:
    def __init__(self, settings: Settings, cache: Any, audit: Audit, clock: Clock = SYSTEM_CLOCK):
        self.settings = settings
        self.clock = clock
        self.cache = cache
        self.audit = audit

    async def rotate(self, text: str, ip: str | None = None) -> dict[str, str]:
        """A refresh JWT → {jwt, refresh_jwt}; the presented one is used up (see the module's docstring)."""
        auth = Auth.instance()
        try:
            driver, parsed = auth.parse(text)
        except ApiException:
            raise token_invalid(_REFRESH_FAILED) from None
        if not isinstance(driver, JwtDriver) or parsed.kind != "refresh":
            raise token_invalid(_REFRESH_FAILED)
        row = await db_read(auth._lookup, parsed.key)
        if row is None or row[7] != 1 or not _claims_match(parsed, row) or row[2] <= self.clock.now():
            raise token_invalid(_REFRESH_FAILED)
        uid, sid, revoked = row[0], row[4], row[3]
        if revoked:
            return await self._presented_again(text, parsed.key, uid, sid, ip)
        now = self.clock.seconds()
        rid = await auth.role_ids(uid)
        access = driver.issue(uid=uid, sid=sid, kind="access", ttl=self.settings.JWT_TTL, rid=rid, now=now)
        refresh = driver.issue(uid=uid, sid=sid, kind="refresh", ttl=self.settings.REFRESH_TTL, rid=rid, now=now)
        outcome = await db_write(self._swap, parsed.key, sid, now, access, refresh)
        if outcome == "lost":
            return await self._presented_again(text, parsed.key, uid, sid, ip)
        if outcome == "ended":
            raise token_invalid(_REFRESH_FAILED)
        pair = {"jwt": access.text, "refresh_jwt": refresh.text}
        await self.cache.set(cache_key(text), seal(text, json.dumps(pair).encode("utf-8")),
                             self.settings.REFRESH_REUSE_GRACE + 5)
        await self.audit.record("token", "rotated", uid=uid, ip=ip)
        return pair

    def _swap(self, key: str, sid: str, now: int, access: IssuedToken, refresh: IssuedToken) -> str:
        """Use up the refresh token `key` and add the new pair to its session, atomically: won, lost or ended."""
        with write_transaction():
            lock_session(sid)  # before the token's row, in the order ending a session takes them
            used = (Token.update(revoked=1, rotated_at=now)
                    .where((Token.token_key == key) & (Token.revoked == 0)).execute())
            if used != 1:
                return "lost"
            if not store_in_live_session(sid, [access, refresh]):
                return "ended"
            Session.update(expire_at=refresh.expire_at).where(Session.id == sid).execute()
            cap_access_tokens(sid, self.settings.REFRESH_LIMIT)
            return "won"

    async def _presented_again(self, text: str, key: str, uid: int, sid: str, ip: str | None) -> dict[str, str]:
        """A used-up refresh token: the same pair within the grace, the session's end after it."""
        rotated_at = await db_read(lambda: Token.select(Token.rotated_at).where(Token.token_key == key).scalar())
        if rotated_at is None:  # revoked by the end of its session, not by rotation
            raise token_invalid(_REFRESH_FAILED)
        if self.clock.now() - rotated_at <= self.settings.REFRESH_REUSE_GRACE:
            deadline = time.monotonic() + _WAIT
            while True:
                sealed = await self.cache.get(cache_key(text))
                plain = unseal(text, sealed) if sealed else None
                if plain is not None:
                    pair: dict[str, str] = json.loads(plain)
                    return pair
                if time.monotonic() >= deadline:
                    raise ApiException("REFRESH_IN_PROGRESS")
                await asyncio.sleep(_POLL)
        await db_write(self._end, sid, self.clock.seconds())
        await self.audit.record("token", "reused", uid=uid, ip=ip, detail="refresh token reused: session ended")
        raise token_invalid(_REUSED)

    @staticmethod
    def _end(sid: str, now: int) -> None:
        with write_transaction():
            Token.end_session(sid, now)
