"""SMS codes: send one per phone at a time, verify it, use it up (Hyperf doc: 短信并发量为 1).

The per-phone lock lives in the shared cache (an atomic add), so 50 concurrent sends for one
phone, spread over any number of workers, send exactly one SMS. The code itself is durable
user-facing state and lives in the database, keyed-hashed.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from app.common.cache import CacheUnavailable
from app.common.clock import SYSTEM_CLOCK, Clock
from app.common.data_crypto import blind_index
from app.common.database import db_write
from app.common.error import ApiException
from app.common.rate_limit import HOUR, RateLimiter
from app.common.sms import SmsDriver, SmsSendError
from app.model.sms_code import SmsCode
from app.service.audit import Audit
from config import Settings

MESSAGE = "您的验证码是 {code}，{minutes} 分钟内有效。请勿告诉他人。"


class SmsCodeService:
    def __init__(self, settings: Settings, cache: Any, driver: SmsDriver, audit: Audit, clock: Clock = SYSTEM_CLOCK):
        self.settings = settings
        self.clock = clock  # the app's: also read by the services built on this one
        self.cache = cache
        self.limits = RateLimiter(cache)
        self.driver = driver
        self.audit = audit
        # Its own key, derived so that a code hash is useless for anything but this check.
        self._key = hashlib.sha256(b"sms-code:" + settings.JWT_SECRET.encode("utf-8")).digest()

    def code_hash(self, phone: str, code: str) -> str:
        return hmac.new(self._key, f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()

    def _seconds_to_midnight(self, now: float) -> tuple[int, int]:
        """(start of today, seconds until tomorrow) in APP_TIMEZONE: the daily cap's window."""
        local = datetime.fromtimestamp(now, ZoneInfo(self.settings.APP_TIMEZONE))
        start = local.replace(hour=0, minute=0, second=0, microsecond=0)
        return int(start.timestamp()), int((start + timedelta(days=1)).timestamp() - now) + 1

    def _state(self, phone: str, since: int, now: int, scene: str = "register") -> tuple[bool, int]:
        # One live code at a time per phone and scene; the daily cap counts every scene.
        live = SmsCode.select().where((SmsCode.phone == phone) & (SmsCode.expire_at > now)
                                      & SmsCode.used_at.is_null() & (SmsCode.scene == scene)).exists()
        sent_today = SmsCode.select().where((SmsCode.phone == phone) & (SmsCode.created_at >= since)).count()
        return live, sent_today

    async def send(self, phone: str, ip: str, scene: str = "register") -> str:
        """Send a new code to `phone` and return it; 50017 while one is live, 429 past a limit.

        Every outcome goes to the audit log: sent, or refused with the catalog name of the reason.
        """
        try:
            code = await self._send(phone, ip, scene)
        except (ApiException, CacheUnavailable) as refusal:
            # A cache outage refuses the send as the exception handler will answer it.
            reason = refusal.answer.name if isinstance(refusal, ApiException) else "SERVICE_UNAVAILABLE"
            await self.audit.record("sms", "refused", account=phone, ip=ip, detail=reason)
            raise
        await self.audit.record("sms", "sent", account=phone, ip=ip)
        return code

    async def _send(self, phone: str, ip: str, scene: str = "register") -> str:
        await self.limits.check(f"smsip:{ip}", self.settings.SMS_IP_LIMIT, "SMS_CLIENT_LIMITED")
        lock = f"sms:lock:{blind_index(phone)}"  # the cache may be a database table
        if not await self.cache.add(lock, "1", self.settings.SMS_WEBHOOK_TIMEOUT + 30):
            raise ApiException("SMS_STILL_VALID")  # another request is sending to this phone right now
        try:
            now = self.clock.seconds()
            day_start, retry_after = self._seconds_to_midnight(now)
            live, sent_today = await db_write(self._state, phone, day_start, now, scene)
            if live:
                raise ApiException("SMS_STILL_VALID")
            if sent_today >= self.settings.SMS_DAILY_LIMIT:
                raise ApiException("SMS_LIMITED", headers={"Retry-After": str(retry_after)})
            # Counted only for a send that is really about to happen, and atomically, so no burst overshoots.
            await self.limits.hit(f"smsip:{ip}", self.settings.SMS_IP_LIMIT, HOUR, "SMS_CLIENT_LIMITED")
            await self.limits.hit("smstotal", self.settings.SMS_HOURLY_LIMIT, HOUR, "SMS_TOTAL_LIMITED")
            code = f"{secrets.randbelow(10**6):06d}"
            row = await db_write(lambda: SmsCode.create(phone=phone, scene=scene, code_hash=self.code_hash(phone, code),
                                                        created_at=now, expire_at=now + self.settings.SMS_TTL))
            message = MESSAGE.format(code=code, minutes=max(1, self.settings.SMS_TTL // 60))
            try:
                await self.driver.send(phone, code, message)
            except SmsSendError:
                # Not delivered: no live code may stay behind, or the phone would be blocked for SMS_TTL.
                await db_write(lambda: SmsCode.delete().where(SmsCode.id == row.id).execute())
                raise ApiException("SMS_SEND_FAILED") from None
            return code
        finally:
            await self.cache.delete(lock)

    def check_sync(self, phone: str, code: str, now: int, scene: str = "register") -> int | None:
        """The id of `phone`'s live code if `code` is it; a wrong code is counted, the last wrong try burns it.

        Each comparison first takes one of the code's SMS_VERIFY_ATTEMPTS tries in one conditional
        UPDATE whose row count says whether it got one, committed at once. Every database settles
        racing UPDATEs of one row one after another and re-checks the condition, so however many
        guesses arrive at once, on however many workers, no code is compared more often (reading
        the count and comparing first let every guess in flight through). A right code gives its
        try back, so it stays usable while the account or phone turns out taken.
        """
        live = ((SmsCode.phone == phone) & (SmsCode.expire_at > now) & SmsCode.used_at.is_null()
                & (SmsCode.scene == scene))
        row: SmsCode | None = (SmsCode.select(SmsCode.id, SmsCode.code_hash).where(live)
                               .order_by(SmsCode.id.desc()).first())
        if row is None:
            return None
        limit = self.settings.SMS_VERIFY_ATTEMPTS
        unburned = (SmsCode.id == row.id) & SmsCode.used_at.is_null()
        if SmsCode.update(attempts=SmsCode.attempts + 1).where(unburned & (SmsCode.attempts < limit)).execute() != 1:
            return None  # its tries are all taken: not compared at all
        if hmac.compare_digest(row.code_hash, self.code_hash(phone, code)):
            (SmsCode.update(attempts=SmsCode.attempts - 1)
             .where((SmsCode.id == row.id) & (SmsCode.attempts > 0)).execute())
            return row.id
        # The try that reached the limit burns the code, so a new one may be sent at once.
        SmsCode.update(used_at=now).where(unburned & (SmsCode.attempts >= limit)).execute()
        return None

    def consume_sync(self, phone: str, code: str, now: int, scene: str = "register") -> bool:
        """check_sync then use_sync: whether `code` was `phone`'s live code of `scene`, now used up.

        Inside the caller's write transaction the try's UPDATE holds the row until commit, so racing
        tries still take turns; a caller that rolls back gives back only a right code's use.
        """
        code_id = self.check_sync(phone, code, now, scene)
        return code_id is not None and self.use_sync(code_id, now)

    @staticmethod
    def use_sync(code_id: int, now: int) -> bool:
        """Use up a code that check_sync accepted; of two requests with it, exactly one does."""
        used: int = SmsCode.update(used_at=now).where((SmsCode.id == code_id) & SmsCode.used_at.is_null()
                                                      & (SmsCode.expire_at > now)).execute()  # rows changed
        return used == 1
