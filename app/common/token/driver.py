"""The token driver seam: how a token is made from a session, and how its row key is read back."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from app.common.error import ApiException
from app.common.text import Text


@dataclass(frozen=True)
class IssuedToken:
    """A token as handed to the client, and the key its database row is stored under."""

    text: str
    key: str
    uid: int
    kind: str
    issued_at: int
    expire_at: int


@dataclass(frozen=True)
class ParsedToken:
    """What a driver reads from a token before the database is asked: its row key and claims."""

    key: str
    kind: str | None = None
    claims: dict[str, Any] = field(default_factory=dict)


def token_invalid(reason: Text) -> ApiException:
    """A wrong token: 60010 (v1) or 9908 认证失败：{reason} (v2)."""
    return ApiException("TOKEN_INVALID", reason=reason)


class TokenDriver(ABC):
    name: str

    @abstractmethod
    def issue(self, *, uid: int, sid: str, kind: str, ttl: int, rid: list[str], now: int) -> IssuedToken:
        """Make a new token for session `sid`."""

    @abstractmethod
    def parse(self, text: str) -> ParsedToken:
        """Read the row key from `text`, raising TOKEN_INVALID when the text cannot be one of ours."""

    @abstractmethod
    def looks_like(self, text: str) -> bool:
        """Whether `text` has this driver's shape (used to route a token to its driver)."""
