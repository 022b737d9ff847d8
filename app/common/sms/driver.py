"""The SmsDriver interface and the choice of driver from SMS_DRIVER."""
from __future__ import annotations

from abc import ABC, abstractmethod

from config import Settings


class SmsSendError(Exception):
    """The message could not be handed to the gateway; no live code is kept."""


class SmsDriver(ABC):
    @abstractmethod
    async def send(self, phone: str, code: str, message: str) -> None:
        """Deliver `message` to `phone`, or raise SmsSendError."""


def make_sms_driver(settings: Settings) -> SmsDriver:
    """The driver SMS_DRIVER names."""
    if settings.SMS_DRIVER == "log":
        from app.common.sms.log import LogSmsDriver
        return LogSmsDriver()
    if settings.SMS_DRIVER == "webhook":
        from app.common.sms.webhook import WebhookSmsDriver
        if not settings.SMS_WEBHOOK_URL:
            raise ValueError("SMS_DRIVER=webhook needs SMS_WEBHOOK_URL")
        return WebhookSmsDriver(settings.SMS_WEBHOOK_URL, settings.SMS_WEBHOOK_TIMEOUT)
    raise ValueError(f"SMS_DRIVER {settings.SMS_DRIVER!r} is not log or webhook")
