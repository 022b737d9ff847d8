"""The md5 driver: the ThinkPHP document's 32-hex token, but drawn from `secrets`, not md5(name.time.rand)."""
from __future__ import annotations

import hashlib
import re
import secrets

from app.common.text import Text
from app.common.token.driver import IssuedToken, ParsedToken, TokenDriver, token_invalid

_SHAPE = re.compile(r"[0-9a-fA-F]{32}")
_MALFORMED = Text("令牌格式不正确", "malformed token")


def token_key(text: str) -> str:
    """The row key: sha256 of the token, so a database leak does not leak usable tokens."""
    return hashlib.sha256(text.lower().encode("ascii")).hexdigest()


class Md5Driver(TokenDriver):
    name = "md5"

    def issue(self, *, uid: int, sid: str, kind: str, ttl: int, rid: list[str], now: int) -> IssuedToken:
        text = secrets.token_hex(16)
        return IssuedToken(text=text, key=token_key(text), uid=uid, kind="md5", issued_at=now, expire_at=now + ttl)

    def looks_like(self, text: str) -> bool:
        return _SHAPE.fullmatch(text) is not None

    def parse(self, text: str) -> ParsedToken:
        if not self.looks_like(text):
            raise token_invalid(_MALFORMED)
        return ParsedToken(key=token_key(text), kind="md5")
