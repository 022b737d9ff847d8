"""The cache interface: the few atomic operations the service needs from shared state."""
from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod

# The longest key a backend stores as it is, in UTF-8 bytes: within the database cache's
# VARCHAR(191) and LMDB's 511-byte keys. A longer key (an absurd account name, say) is stored
# by its SHA-256, so keys of any length work everywhere and still never meet each other.
LONGEST_KEY = 191


class CacheUnavailable(Exception):
    """The store behind the cache cannot answer (Redis away, the LMDB file full).

    A storage fact, not an answer: app/exception_handle.py renders it as the catalog's
    SERVICE_UNAVAILABLE, so a check that cannot run refuses the request, never skips.
    """


def stored_key(raw: bytes) -> bytes:
    """The name under which the backend stores the UTF-8 key `raw`: itself, or its digest when too long."""
    return raw if len(raw) <= LONGEST_KEY else b"sha256:" + hashlib.sha256(raw).hexdigest().encode("ascii")


class Cache(ABC):
    """Keys expire after `ttl` seconds; every operation is atomic across workers and instances.

    Every key is stored under the cache's `prefix` (built once at start from the database's
    identity), so two databases sharing a runtime folder or a Redis never see each other's state.
    """

    @abstractmethod
    async def add(self, key: str, value: str, ttl: int) -> bool:
        """Store `value` only if `key` is absent or expired; True if this call stored it."""

    @abstractmethod
    async def get(self, key: str) -> str | None:
        """The live value of `key`, or None."""

    @abstractmethod
    async def set(self, key: str, value: str, ttl: int) -> None:
        """Store `value` under `key`, replacing what was there."""

    @abstractmethod
    async def delete(self, key: str) -> bool:
        """Remove `key`; True if a live value was removed (so exactly one caller wins a take)."""

    @abstractmethod
    async def incr(self, key: str, ttl: int, amount: int = 1) -> int:
        """Add `amount` to the counter `key` (starting a new `ttl` window when absent) and return it."""

    @abstractmethod
    async def decr(self, key: str, amount: int = 1) -> int:
        """Take `amount` off the live counter `key`, never below zero, and return it (0 when absent).

        A counter whose window has ended stays ended: giving back never opens a new window.
        """

    @abstractmethod
    async def ttl(self, key: str) -> int:
        """Seconds until `key` expires, or 0 when it is absent."""

    @abstractmethod
    async def swap(self, key: str, expected: str, value: str, ttl: int) -> bool:
        """Replace the live value of `key` by `value` (with a new `ttl`) only if it is `expected`.

        True if this call replaced it: a compare-and-set, so of racing swaps from one state exactly
        one wins (a state machine's transition, e.g. a QR login ticket's).
        """

    async def close(self) -> None:  # noqa: B027 - a default: a backend without connections keeps it
        """Release connections."""
