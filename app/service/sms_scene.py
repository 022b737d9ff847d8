"""SMS codes by scene (SPEC §11): sending for register, login, reset, change_phone, and logging in by SMS.

A code is good only for its own phone and scene. Sending a `reset` code to a phone without an
account (or a `login` code when login/sms may not sign up) answers exactly as a send does, the
same limits and the same "still valid" on a second try, and sends nothing: the answer tells a
stranger nothing about which phones have accounts.
"""
from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from peewee import IntegrityError

from app.common.data_crypto import blind_index
from app.common.database import db_read, db_write, write_transaction
from app.common.error import ApiException
from app.common.rate_limit import HOUR, RateLimiter
from app.model.user import User, account_key
from app.service.audit import Audit
from app.service.sms_code import SmsCodeService
from config import Settings

SCENES = ("register", "login", "reset", "change_phone")
WRONG = "SMS_CODE_WRONG"
_T = TypeVar("_T")


def generated_account() -> str:
    """A unique-enough account name for an SMS sign-up: never all digits, so never phone-shaped."""
    return "u_" + secrets.token_hex(6)


class SmsScenes:
    def __init__(self, settings: Settings, cache: Any, sms: SmsCodeService, audit: Audit):
        self.settings = settings
        self.cache = cache
        self.sms = sms
        self.audit = audit
        self.limits = RateLimiter(cache)

    async def send(self, phone: str, ip: str, scene: str) -> str | None:
        """Send a code of `scene` to `phone`; None when the send was only pretended (no account)."""
        if scene in ("reset", "login"):
            needs_account = scene == "reset" or not self.settings.SMS_LOGIN_REGISTER
            if needs_account and not await db_read(lambda: User.select().where(User.phone_index == phone).exists()):
                await self._pretend(phone, ip, scene)
                return None
        return await self.sms.send(phone, ip, scene)

    async def _pretend(self, phone: str, ip: str, scene: str) -> None:
        """The answers of a send, with its limits, for a phone that gets no SMS."""
        await self.limits.check(f"smsip:{ip}", self.settings.SMS_IP_LIMIT, "SMS_CLIENT_LIMITED")
        if not await self.cache.add(f"sms:pretend:{scene}:{blind_index(phone)}", "1", self.settings.SMS_TTL):
            await self.audit.record("sms", "refused", account=phone, ip=ip, detail="SMS_STILL_VALID")
            raise ApiException("SMS_STILL_VALID")
        await self.limits.hit(f"smsip:{ip}", self.settings.SMS_IP_LIMIT, HOUR, "SMS_CLIENT_LIMITED")
        await self.audit.record("sms", "skipped", account=phone, ip=ip, detail=f"{scene}: no account")
        return None

    async def attempt(self, ip: str, work: Callable[[], Awaitable[_T | str]], what: str = "sms") -> _T:
        """Run `work`, which checks a code, under the address's wrong-code limit (SMS_VERIFY_IP_LIMIT).

        As in registration, the slot is taken first and given back unless the code was wrong, so
        parallel tries cannot pass the limit. `work` answers a catalog name to refuse with.
        """
        key = f"smsverify:{ip}"
        await self.limits.take(key, self.settings.SMS_VERIFY_IP_LIMIT, HOUR, "SMS_VERIFY_LIMITED")
        wrong = False  # also when `work` raises: the slot is given back then too
        try:
            result = await work()
            wrong = result == WRONG
        finally:
            if not wrong:
                await self.limits.give_back(key, HOUR)
        if isinstance(result, str):
            await self.audit.record(what, "refused", ip=ip, detail=result)
            raise ApiException(result)
        return result

    async def login(self, phone: str, code: str, ip: str) -> tuple[User, bool]:
        """The user of `phone` if `code` is its live `login` code (signing the phone up when allowed)."""
        user, registered = await self.attempt(ip, lambda: db_write(self._login_sync, phone, code), "login/sms")
        if registered:
            await self.audit.record("register", "ok", uid=user.id, account=user.account, ip=ip, detail="login/sms")
        await self.audit.record("login", "ok", uid=user.id, ip=ip, detail="login/sms")
        return user, registered

    def _login_sync(self, phone: str, code: str) -> tuple[User, bool] | str:
        for _ in range(3):
            now = self.sms.clock.seconds()
            try:
                with write_transaction():
                    user = User.get_or_none(User.phone_index == phone)
                    if user is None and not self.settings.SMS_LOGIN_REGISTER:
                        return WRONG
                    if not self.sms.consume_sync(phone, code, now, "login"):
                        return WRONG  # commits the counted wrong try
                    if user is not None:
                        return (user, False) if user.status == 1 else WRONG
                    name = generated_account()
                    # No password: one is set later with password/change (old_password omitted).
                    return User.create(account=name, account_key=account_key(name), phone=phone,
                                       password_hash="", created_at=now, updated_at=now), True
            except IntegrityError:
                # A concurrent sign-up took the phone (or, rarely, the name); the rollback left the
                # code live, so the next round logs into the account that won.
                continue
        return WRONG
