"""The app's clock: the system's reads the time of day; a ManualClock moves only when told."""
from __future__ import annotations

import time

import pytest

from app.common.clock import SYSTEM_CLOCK, Clock, ManualClock


def test_the_system_clock_reads_the_time_of_day() -> None:
    before = time.time()
    now, seconds, millis = SYSTEM_CLOCK.now(), SYSTEM_CLOCK.seconds(), SYSTEM_CLOCK.millis()
    after = time.time()
    assert before <= now <= after
    assert int(before) <= seconds <= int(after) and isinstance(seconds, int)
    assert int(before * 1000) <= millis <= int(after * 1000) and isinstance(millis, int)


def test_a_manual_clock_starts_now_and_stands_still() -> None:
    before = time.time()
    clock = ManualClock()
    assert isinstance(clock, Clock)
    assert before <= clock.now() <= time.time()
    first = clock.now()
    time.sleep(0.01)
    assert clock.now() == first


def test_advance_and_set_move_every_reading() -> None:
    clock = ManualClock(1_000.25)
    assert (clock.now(), clock.seconds(), clock.millis()) == (1_000.25, 1_000, 1_000_250)
    assert clock.advance(59.75) == 1_060.0
    assert (clock.now(), clock.seconds(), clock.millis()) == (1_060.0, 1_060, 1_060_000)
    clock.set(5)
    assert (clock.now(), clock.seconds(), clock.millis()) == (5.0, 5, 5_000)


def test_advance_refuses_to_go_back() -> None:
    clock = ManualClock(100)
    with pytest.raises(ValueError):
        clock.advance(-1)
    assert clock.now() == 100


def test_a_jwt_expires_by_the_apps_clock_not_the_systems() -> None:
    from app.common.error import ApiException
    from app.common.token.jwt import JwtDriver

    clock = ManualClock()
    driver = JwtDriver("test-jwt-secret-0123456789abcdef0123456789abcdef", clock=clock)
    text = driver.issue(uid=7, sid="s" * 32, kind="access", ttl=100, rid=[], now=clock.seconds()).text
    clock.advance(99)
    assert driver.parse(text).claims["uid"] == 7
    clock.advance(1)
    with pytest.raises(ApiException) as caught:
        driver.parse(text)
    assert caught.value.answer.name == "TOKEN_EXPIRED"


def test_a_jwt_issued_ahead_of_the_apps_clock_is_not_yet_valid() -> None:
    from app.common.error import ApiException
    from app.common.token.jwt import JwtDriver

    clock = ManualClock()
    driver = JwtDriver("test-jwt-secret-0123456789abcdef0123456789abcdef", clock=clock)
    text = driver.issue(uid=7, sid="s" * 32, kind="access", ttl=100, rid=[], now=clock.seconds() + 5).text
    with pytest.raises(ApiException) as caught:
        driver.parse(text)
    assert caught.value.answer.name == "TOKEN_INVALID"
    assert "The token is not yet valid (iat)" in str(caught.value.fields)
