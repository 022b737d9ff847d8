"""Passwords (app/common/password.py): argon2id off the event loop, at a lower priority."""
from __future__ import annotations

import asyncio
import os
import sys
import threading

import pytest

from app.common.password import HASH_NICENESS, Passwords

FAST = dict(time_cost=1, memory_cost=8, parallelism=1)


def test_hash_verify_and_rehash_when_the_cost_rises() -> None:
    async def check() -> None:
        cheap = Passwords(**FAST, workers=1)
        stronger = Passwords(time_cost=2, memory_cost=8, parallelism=1, workers=1)
        try:
            stored = await cheap.hash("right_pass_1")
            assert stored.startswith("$argon2id$")
            assert await cheap.verify(stored, "right_pass_1") == (True, False)
            assert await cheap.verify(stored, "wrong_pass_1") == (False, False)
            assert await cheap.verify(None, "right_pass_1") == (False, False)
            assert await stronger.verify(stored, "right_pass_1") == (True, True), "a raised cost asks for a rehash"
        finally:
            cheap.close()
            stronger.close()

    asyncio.run(check())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread niceness is Linux's")
def test_hashing_threads_run_at_a_lower_priority_than_the_event_loop() -> None:
    passwords = Passwords(**FAST, workers=1)
    try:
        mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        theirs = passwords._executor.submit(
            lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id())).result(timeout=10)
        assert theirs == min(19, mine + HASH_NICENESS)
        assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == mine, "the caller's is unchanged"
    finally:
        passwords.close()
