"""The `log` SMS driver: writes the message to the service log instead of sending it (development)."""
from __future__ import annotations

import logging

from app.common.sms.driver import SmsDriver

log = logging.getLogger("login_api.sms")


class LogSmsDriver(SmsDriver):
    async def send(self, phone: str, code: str, message: str) -> None:
        log.warning("SMS (log driver, not sent) to %s: %s", phone, message)
