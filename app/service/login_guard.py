"""Login protection: per-account lockout, per-address throttling, captcha after failures.

Counters live in the shared cache with atomic increments, so failures fired in parallel or
spread over many workers are all counted. Every refusal of a login — unknown account, wrong
password, locked, disabled — is the same answer after the same password work (SPEC §8).
"""
from __future__ import annotations

from typing import Any

from app.common.auth import Auth
from app.common.database import db_write
from app.common.error import ApiException
from app.common.rate_limit import RateLimiter
from app.model.user import User, account_key
from app.request import ApiRequest
from app.service.audit import Audit
from app.service.captcha import CaptchaService

HOUR = 3600
DAY = 86400
# The ceiling no setting can lift (issue: never more than 100 failed attempts per account per hour).
HOURLY_CEILING = 100


class LoginGuard:
    def __init__(self, settings: Any, cache: Any, captcha: CaptchaService, audit: Audit):
        self.settings = settings
        self.cache = cache
        self.limits = RateLimiter(cache)
        self.captcha = captcha
        self.audit = audit

    async def _at_ceiling(self, key: str) -> bool:
        count = await self.cache.get(f"failh:{key}")
        return count is not None and int(count) >= HOURLY_CEILING

    async def attempt(self, request: ApiRequest, identity: str, password: str) -> User:
        """The user whose account or phone is `identity`, if the password is right and nothing forbids it."""
        ip = request.client_ip
        await self.limits.check(f"ipfail:{ip}", self.settings.LOGIN_IP_LIMIT, "LOGIN_THROTTLED")
        user = await db_write(User.find_by_identity, identity)
        # One counter per account however it is spelled; unknown names are counted alike (no oracle).
        key = f"u{user.id}" if user else "n" + account_key(identity)
        failures = int(await self.cache.get(f"fail:{key}") or 0)
        if failures >= self.settings.LOGIN_CAPTCHA_AFTER:
            await self.captcha.require(request)
        locked = await self.cache.get(f"lock:{key}") is not None or await self._at_ceiling(key)
        try:
            # The password is verified even while locked, so a locked account answers in the same time.
            user = await Auth.instance().attempt(identity, password)
            if locked:
                raise ApiException("LOGIN_FAILED", account=identity)
        except ApiException as refusal:
            outcome = await self._failed(key, ip, locked)
            await self.audit.record("login", outcome, uid=user.id if user else None, account=identity, ip=ip)
            raise refusal
        await self.cache.delete(f"fail:{key}")
        await self.audit.record("login", "ok", uid=user.id, account=identity, ip=ip)
        return user

    async def _failed(self, key: str, ip: str, locked: bool) -> str:
        """Count a failure everywhere it counts; lock the account when it reaches the threshold."""
        await self.limits.count(f"ipfail:{ip}", HOUR)
        await self.limits.count(f"failh:{key}", HOUR)
        if locked:
            return "locked"
        failures = await self.limits.count(f"fail:{key}", self.settings.LOGIN_WINDOW)
        if failures < self.settings.LOGIN_LOCK_AFTER:
            return "failed"
        steps = self.settings.LOGIN_LOCK_STEPS
        level = await self.limits.count(f"locks:{key}", DAY)
        # add, not set: of many parallel failures crossing the threshold, one lock is taken.
        if await self.cache.add(f"lock:{key}", "1", steps[min(level, len(steps)) - 1]):
            await self.cache.delete(f"fail:{key}")
        return "locked"
