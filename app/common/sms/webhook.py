"""The `webhook` SMS driver: POSTs `{phone, code, message}` as JSON to the gateway URL."""
from __future__ import annotations

import anyio.to_thread
import requests

from app.common.sms.driver import SmsDriver, SmsSendError


class WebhookSmsDriver(SmsDriver):
    def __init__(self, url: str, timeout: float):
        self._url = url
        self._timeout = timeout

    def _post(self, payload: dict[str, str]) -> None:
        try:
            response = requests.post(self._url, json=payload, timeout=self._timeout)
        except requests.RequestException as exc:
            raise SmsSendError(f"webhook unreachable: {type(exc).__name__}") from None
        if not 200 <= response.status_code < 300:
            raise SmsSendError(f"webhook answered HTTP {response.status_code}")

    async def send(self, phone: str, code: str, message: str) -> None:
        await anyio.to_thread.run_sync(self._post, {"phone": phone, "code": code, "message": message})
