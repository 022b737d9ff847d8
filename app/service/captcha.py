"""Image captchas (Hyperf sidebar: 验证码): a PNG data URL and an id; single use, stored keyed-hashed.

The answer's HMAC lives in the shared cache under the id: a plain hash of four letters from
a 25-letter alphabet is undone by trying all 390 625, so whoever reads the cache (a copy of
runtime/cache.lmdb, a Redis replica) would know every answer. The key is server-side.

Checking an answer deletes it first, and only the caller whose delete succeeded may compare,
so an id is good for one try, whoever and wherever tries it.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Any

import anyio.to_thread
from captcha.image import ImageCaptcha

from app.common.error import ApiException
from config import Settings

# No 0/O, 1/I/L, 2/Z, 5/S, 8/B: letters a person cannot tell apart on a noisy image.
ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
LENGTH = 4


class CaptchaService:
    def __init__(self, settings: Settings, cache: Any):
        self.settings = settings
        self.cache = cache
        self._image = ImageCaptcha(width=160, height=60)
        # Derived from the generated JWT_SECRET under a label of its own (as SMS codes' key is), so
        # every instance sharing the cache agrees on it and it opens nothing else.
        self._key = hmac.new(settings.JWT_SECRET.encode("utf-8"), b"captcha-answer", hashlib.sha256).digest()

    def _digest(self, captcha_id: str, answer: str) -> str:
        """HMAC of the id and the answer: one captcha's digest says nothing of another's."""
        message = f"{captcha_id}:{answer.strip().upper()}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    async def create(self) -> dict[str, str]:
        """A new captcha: {captcha_id, image} with the image as a PNG data URL."""
        answer = self.settings.CAPTCHA_TEST_ANSWER or "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        png = await anyio.to_thread.run_sync(lambda: self._image.generate(answer, format="png").getvalue())
        captcha_id = secrets.token_urlsafe(18)
        await self.cache.set(f"captcha:{captcha_id}", self._digest(captcha_id, answer),
                             self.settings.CAPTCHA_TTL)
        return {"captcha_id": captcha_id, "image": "data:image/png;base64," + base64.b64encode(png).decode("ascii")}

    async def verify(self, captcha_id: Any, code: Any) -> bool:
        """True once for the right answer (any case); the id is used up by any try."""
        if not isinstance(captcha_id, str) or not isinstance(code, str) or not captcha_id or len(captcha_id) > 64:
            return False
        key = f"captcha:{captcha_id}"
        stored = await self.cache.get(key)
        if stored is None or not await self.cache.delete(key):
            return False
        return hmac.compare_digest(stored, self._digest(captcha_id, code))

    async def require(self, captcha_id: Any, code: Any) -> None:
        """Refuse unless the answer sent (`captcha_id`, `captcha_code`) is right: CAPTCHA_REQUIRED when
        absent, 60002 when wrong."""
        if captcha_id in (None, "") or code in (None, ""):
            raise ApiException("CAPTCHA_REQUIRED")
        if not await self.verify(captcha_id, code if isinstance(code, str) else str(code)):
            raise ApiException("CAPTCHA_WRONG")
