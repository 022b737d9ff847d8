"""Login protection: per-account lockout, per-address throttling, captcha after failures.

Counters live in the shared cache with atomic increments, so failures fired in parallel or
spread over many workers are all counted. Every refusal of a login — unknown account, wrong
password, locked, disabled — is the same answer after the same password work (SPEC §8).
"""
from __future__ import annotations

from typing import Any

from app.common import metrics
from app.common.auth import Auth
from app.common.cache import CacheUnavailable
from app.common.database import db_write
from app.common.error import ApiException
from app.common.keyed_lock import KeyedLock
from app.common.rate_limit import HOUR, RateLimiter
from app.model.user import User, account_key
from app.service import events
from app.service.audit import Audit, printable
from app.service.caller import Caller
from app.service.captcha import CaptchaService
from app.validate.base import BaseValidate
from config import Settings

DAY = 86400
# The ceiling no setting can lift (issue: never more than 100 failed attempts per account per hour).
HOURLY_CEILING = 100


class LoginGuard:
    def __init__(self, settings: Settings, cache: Any, captcha: CaptchaService, audit: Audit):
        self.settings = settings
        self.cache = cache
        self.limits = RateLimiter(cache)
        self.captcha = captcha
        self.audit = audit
        self._turns = KeyedLock()

    async def attempt(self, identity: str, password: str, caller: Caller) -> User:
        """The user whose account or phone is `identity`, if the password is right and nothing forbids it.

        Every counter is taken (incremented) before the password work and given back when the
        attempt turns out not to be a failure. Reading first and counting afterwards would let a
        burst fired in parallel pass every check before any of it is counted. Attempts on one
        account take turns within a process, so logins still in flight are rarely counted
        against a right password (at most one per other worker or instance is).
        """
        async with self._turns.hold(account_key(identity)):
            return await self._attempt(identity, password, caller)

    async def _attempt(self, identity: str, password: str, caller: Caller) -> User:
        ip = caller.ip
        ip_key = f"ipfail:{ip}"
        # Refused before any password work, a try is not a failure: take() gives its slot back.
        await self.limits.take(ip_key, self.settings.LOGIN_IP_LIMIT, HOUR, "LOGIN_THROTTLED")
        user = await db_write(User.find_by_identity, identity)
        # The lock follows the user however it is named; unknown names are counted alike (no oracle).
        key = f"u{user.id}" if user else "n" + account_key(identity)
        # The captcha follows the identity as typed (normalised), so typing a phone never tells
        # whether its account failed before (SPEC §10).
        typed = "i" + account_key(identity)
        # The captcha threshold counts attempts still in flight as failures (so a parallel burst
        # cannot pass it); the lock counts only failures that happened (so it never comes early).
        in_flight = await self.limits.count(f"try:{typed}", self.settings.LOGIN_WINDOW) - 1
        try:
            failed = int(await self.cache.get(f"fail:{typed}") or 0)
            this_hour = await self.limits.count(f"failh:{key}", HOUR)
            taken = {ip_key: HOUR, f"failh:{key}": HOUR}
            if failed + in_flight >= self.settings.LOGIN_CAPTCHA_AFTER:
                try:
                    await self.captcha.require(caller.captcha_id, caller.captcha_code)
                except (ApiException, CacheUnavailable):
                    await self._give_back(taken)
                    raise
            locked = this_hour > HOURLY_CEILING or await self.cache.get(f"lock:{key}") is not None
            try:
                # The password is verified even while locked, so a locked account answers in the same time.
                user = await Auth.instance().attempt(identity, password)
                if locked:
                    raise ApiException("LOGIN_FAILED", account=identity)
            except ApiException as refusal:
                if refusal.answer.name not in ("LOGIN_FAILED", "USER_NOT_FOUND"):
                    await self._give_back(taken)
                    raise
                await self.limits.count(f"fail:{typed}", self.settings.LOGIN_WINDOW)
                # A try while locked does not count towards the next lock.
                outcome = "locked" if locked else await self._count_failure(key)
                await self.audit.record("login", outcome, uid=user.id if user else None, account=identity, ip=ip)
                await events.publish("login.failed", {"uid": user.id if user else None, "ip": ip,
                                                      "identity": self._shown(identity), "outcome": outcome})
                raise
        finally:
            await self.limits.give_back(f"try:{typed}", self.settings.LOGIN_WINDOW)
        await self._give_back(taken)
        for cleared in {f"fail:{key}", f"fail:{typed}"}:
            await self.cache.delete(cleared)
        await self.audit.record("login", "ok", uid=user.id, account=identity, ip=ip)
        return user

    async def clear(self, uid: int) -> None:
        """Forget the user's failures and lock (a password reset by SMS proves who they are)."""
        for name in ("fail", "lock", "failh", "locks"):
            await self.cache.delete(f"{name}:u{uid}")

    @staticmethod
    def _shown(identity: str) -> str:
        """The identity as typed for an event: a phone number masked, an account name escaped."""
        if BaseValidate.mobile_pattern.fullmatch(identity):
            return events.mask_phone(identity) or ""
        return (printable(identity) or "")[:64]

    async def _give_back(self, taken: dict[str, int]) -> None:
        for key, window in taken.items():
            await self.limits.give_back(key, window)

    async def _count_failure(self, key: str) -> str:
        """Count a failure; lock the account when it reaches the threshold, longer with each lock."""
        failures = await self.limits.count(f"fail:{key}", self.settings.LOGIN_WINDOW)
        if failures < self.settings.LOGIN_LOCK_AFTER:
            return "failed"
        steps = self.settings.LOGIN_LOCK_STEPS
        # add, not set: of many parallel failures crossing the threshold, one takes the lock.
        if await self.cache.add(f"lock:{key}", "1", 1):
            level = await self.limits.count(f"locks:{key}", DAY)
            await self.cache.set(f"lock:{key}", "1", steps[min(level, len(steps)) - 1])
            await self.cache.delete(f"fail:{key}")
            metrics.LOCKOUTS.inc()
            if key.startswith("u"):  # a user's lock; names nobody has are counted alike but are no account
                await events.publish("account.locked",
                                     {"uid": int(key[1:]), "seconds": steps[min(level, len(steps)) - 1]})
        return "locked"
