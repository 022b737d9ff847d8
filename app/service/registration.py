"""Registration with an SMS code (Hyperf doc: 用户注册): one user per account and per phone."""
from __future__ import annotations

from typing import Any

from peewee import IntegrityError

from app.common.auth import Auth
from app.common.database import db_write, write_transaction
from app.common.error import ApiException
from app.common.rate_limit import HOUR, RateLimiter
from app.model.user import User, account_key
from app.service import events
from app.service.sms_code import SmsCodeService


class Registration:
    def __init__(self, sms: SmsCodeService):
        self.sms = sms
        self.audit = sms.audit  # the log the codes' sends are written to
        self.limits = RateLimiter(sms.cache)

    @staticmethod
    def _taken(account: str, phone: str) -> str | None:
        if User.select().where(User.account_key == account_key(account)).exists():
            return "ACCOUNT_TAKEN"
        if User.select().where(User.phone_index == phone).exists():
            return "PHONE_TAKEN"
        return None

    async def register(self, data: dict[str, Any], ip: str) -> User:
        """Create the user if `code` is the phone's live SMS code; the code is used up on success.

        The code is checked first (SPEC §10): before it is right, nothing is said about the account
        or the phone, so registration is no oracle of who is registered. A wrong code keeps the
        slot it took of the address's SMS_VERIFY_IP_LIMIT; the slot is taken before the check, so
        parallel guesses from one address cannot pass the limit. A right code with a taken account
        or phone stays usable.
        """
        limit_key = f"smsverify:{ip}"
        await self.limits.take(limit_key, self.sms.settings.SMS_VERIFY_IP_LIMIT, HOUR, "SMS_VERIFY_LIMITED")
        try:
            code_id = await db_write(self.sms.check_sync, data["phone"], data["code"], self.sms.clock.seconds())
        except BaseException:
            await self.limits.give_back(limit_key, HOUR)
            raise
        if code_id is None:
            raise ApiException("SMS_CODE_WRONG")
        await self.limits.give_back(limit_key, HOUR)
        # Before the slow hash: a taken account or phone costs no password work.
        taken = await db_write(self._taken, data["account"], data["phone"])
        if taken:
            raise ApiException(taken)
        password_hash = await Auth.instance().passwords.hash(data["password"])
        outcome = await db_write(self._create, data, code_id, password_hash)
        if isinstance(outcome, str):
            raise ApiException(outcome)
        await self.audit.record("register", "ok", uid=outcome.id, account=outcome.account, ip=ip)
        return outcome

    def _create(self, data: dict[str, Any], code_id: int, password_hash: str) -> User | str:
        now = self.sms.clock.seconds()
        try:
            with write_transaction():
                if not self.sms.use_sync(code_id, now):
                    return "SMS_CODE_WRONG"  # used by a concurrent registration, or expired meanwhile
                user = User.create(account=data["account"].strip(), account_key=account_key(data["account"]),
                                   phone=data["phone"], password_hash=password_hash,
                                   created_at=now, updated_at=now)
                events.emit("user.registered", {"uid": user.id, "account": user.account,
                                                "phone": events.mask_phone(user.phone)})
                return user
        except IntegrityError:
            # A concurrent registration won the account or phone; the rollback leaves the code live.
            return self._taken(data["account"], data["phone"]) or "ACCOUNT_TAKEN"
