"""The outbox and the lease, in-process on SQLite: an event exists only with its change; one holder."""
from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

import server
from app.common.app_state import current
from app.common.clock import ManualClock
from app.common.database import write_transaction
from app.model.base import db
from app.model.event_outbox import EventOutbox
from app.service import events
from app.service.event_consumer import EventConsumer, release_lease, take_lease
from tests.support import JWT_SECRET, SIGN_SECRET


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[None]:
    server.boot({"RUNTIME_DIR": str(tmp_path / "runtime"), "SIGN_SECRET": SIGN_SECRET, "JWT_SECRET": JWT_SECRET,
                 "WEBHOOK_URL": "http://127.0.0.1:9/hook", "LOG_LEVEL": "critical"})
    yield
    db.close()


def test_an_event_is_recorded_only_with_its_change(outbox: None) -> None:
    with pytest.raises(RuntimeError), write_transaction():
        events.emit("role.changed", {"action": "delete", "role_id": 7, "by": 1})
        raise RuntimeError("the change fails: its event goes with it")
    assert EventOutbox.select().count() == 0
    with write_transaction():
        events.emit("role.changed", {"action": "delete", "role_id": 7, "by": 1})
    assert [(e.type, e.data) for e in EventOutbox.select()] == [
        ("role.changed", '{"action":"delete","by":1,"role_id":7}')]
    with pytest.raises(ValueError):
        events.emit("user.renamed", {})


def test_nothing_is_recorded_without_a_webhook(outbox: None) -> None:
    current().events_enabled = False  # as booted without WEBHOOK_URL
    with write_transaction():
        events.emit("login.succeeded", {"uid": 1, "sid": "x"})
    assert EventOutbox.select().count() == 0


def test_one_holder_at_a_time_and_a_dead_ones_lease_is_taken_over(outbox: None) -> None:
    clock = ManualClock()
    take = lambda holder: take_lease(holder, 10_000, clock.millis())  # noqa: E731
    assert take("a")
    assert not take("b")  # a holds it
    clock.advance(9)
    assert take("a")      # a renews
    clock.advance(9)
    assert not take("b")  # a's renewal holds 10 s from then
    clock.advance(2)      # a stopped renewing: its lease ran out
    assert take("b")
    assert not take("a")  # a, back, does not get it back while b renews
    release_lease("a")    # a no longer holds it: b keeps it
    assert not take("a")
    release_lease("b")    # b shuts down: a takes over at once
    assert take("a")


class SwallowingConsumer(EventConsumer):
    """Its delivery turns the first cancellation into a success, as Python 3.11's asyncio.wait_for could
    when the future it waited on finished at the same moment (what hung an app's shutdown in tests)."""

    def __init__(self, *args: object) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.delivering = asyncio.Event()
        self.swallowed = 0

    async def deliver(self, event: EventOutbox) -> str | None:
        self.delivering.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            if self.swallowed:
                raise
            self.swallowed += 1
        return None


def test_stop_ends_the_consumer_even_when_a_step_swallows_its_cancellation(outbox: None) -> None:
    with write_transaction():
        events.emit("role.changed", {"action": "delete", "role_id": 7, "by": 1})

    async def start_then_stop() -> tuple[bool, int]:
        consumer = SwallowingConsumer(current().settings)
        consumer.start()
        await asyncio.wait_for(consumer.delivering.wait(), 10)
        stopping = asyncio.ensure_future(consumer.stop())
        done, _ = await asyncio.wait({stopping}, timeout=10)  # not wait_for: it would cancel stop() itself
        if stopping not in done:  # the loop went on after the swallowed cancellation: end it, then fail
            assert consumer._task is not None
            consumer._task.cancel()
            await asyncio.wait({stopping}, timeout=10)
        return stopping in done, consumer.swallowed

    assert asyncio.run(start_then_stop()) == (True, 1), "stop() did not end the consumer"


@pytest.mark.parametrize("phone, masked", [("13911112222", "139****2222"), ("", ""), (None, None), ("12345", "****")])
def test_mask_phone(phone: str | None, masked: str | None) -> None:
    assert events.mask_phone(phone) == masked
