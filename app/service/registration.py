"""Registration with an SMS code (Hyperf doc: 用户注册): one user per account and per phone."""
from __future__ import annotations

import time
from typing import Any

from peewee import IntegrityError

from app.common.auth import Auth
from app.common.database import db_write, write_transaction
from app.common.error import ApiException
from app.common.rate_limit import HOUR, RateLimiter
from app.model.user import User, account_key
from app.service.sms_code import SmsCodeService


class Registration:
    def __init__(self, sms: SmsCodeService):
        self.sms = sms
        self.limits = RateLimiter(sms.cache)

    @staticmethod
    def _taken(account: str, phone: str) -> str | None:
        if User.select().where(User.account_key == account_key(account)).exists():
            return "ACCOUNT_TAKEN"
        if User.select().where(User.phone == phone).exists():
            return "PHONE_TAKEN"
        return None

    async def register(self, data: dict[str, Any], ip: str) -> User:
        """Create the user if `code` is the phone's live SMS code; the code is used up on success.

        The address's wrong-code counter is taken before anything else and given back unless the
        code turns out wrong, so parallel tries from one address cannot pass SMS_VERIFY_IP_LIMIT
        (a check first and a count afterwards let every try in flight through).
        """
        limit_key = f"smsverify:{ip}"
        await self.limits.take(limit_key, self.sms.settings.SMS_VERIFY_IP_LIMIT, HOUR, "SMS_VERIFY_LIMITED")
        outcome: User | str | None = None
        try:
            # Before the slow hash and before the code is touched: a taken account keeps the code usable.
            taken = await db_write(self._taken, data["account"], data["phone"])
            if taken:
                raise ApiException(taken)
            password_hash = await Auth.instance().passwords.hash(data["password"])
            outcome = await db_write(self._create, data, password_hash)
        finally:
            if outcome != "SMS_CODE_WRONG":  # only a wrong code keeps the slot it took
                await self.limits.give_back(limit_key, HOUR)
        if isinstance(outcome, str):
            raise ApiException(outcome)
        return outcome

    def _create(self, data: dict[str, Any], password_hash: str) -> User | str:
        now = int(time.time())
        try:
            with write_transaction():
                if not self.sms.consume_sync(data["phone"], data["code"], now):
                    return "SMS_CODE_WRONG"  # commits the counted wrong try
                return User.create(account=data["account"].strip(), account_key=account_key(data["account"]),
                                   phone=data["phone"], password_hash=password_hash,
                                   created_at=now, updated_at=now)
        except IntegrityError:
            # A concurrent registration won the account or phone; the rollback leaves the code live.
            return self._taken(data["account"], data["phone"]) or "ACCOUNT_TAKEN"
