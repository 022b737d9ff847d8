"""Password hashing with argon2id, off the event loop, a bounded number at a time.

A hash costs tens of milliseconds of CPU. Run on the event loop it would stall every other
request; run in an unbounded pool, a burst of logins would take every core. So hashes go
through a small executor of their own (PASSWORD_HASH_WORKERS threads per process), whose
threads run at a lower scheduling priority (nice +HASH_NICENESS): when a core is wanted by
both, the event loops answering other requests go first, and hashing takes what is left.
"""
from __future__ import annotations

import asyncio
import logging
import os
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

log = logging.getLogger("login_api.password")
HASH_NICENESS = 10


def _lower_priority() -> None:
    """Run in each hashing thread as it starts: on Linux a thread has a niceness of its own."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASH_NICENESS)
    except (AttributeError, OSError) as exc:  # not Linux, or not allowed: hashing still works
        log.debug("hashing threads keep their priority: %s", exc)


class Passwords:
    """Hash and verify passwords; says when a stored hash should be upgraded to the current cost."""

    def __init__(self, time_cost: int, memory_cost: int, parallelism: int, workers: int):
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost,
                                      parallelism=parallelism, type=Type.ID)
        self._executor = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="argon2",
                                            initializer=_lower_priority)
        # Verified when the user does not exist, so an unknown account costs the same time.
        self._dummy_hash = self._hasher.hash(secrets.token_hex(16))

    def hash_sync(self, password: str) -> str:
        return self._hasher.hash(password)

    def _verify_sync(self, stored: str | None, password: str) -> tuple[bool, bool]:
        try:
            self._hasher.verify(stored or self._dummy_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False, False
        if stored is None:
            return False, False
        return True, self._hasher.check_needs_rehash(stored)

    async def hash(self, password: str) -> str:
        """A new argon2id hash of `password`."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._hasher.hash, password)

    async def verify(self, stored: str | None, password: str) -> tuple[bool, bool]:
        """(matches, needs_rehash); `stored=None` verifies a dummy hash and answers False."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._verify_sync, stored, password)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
