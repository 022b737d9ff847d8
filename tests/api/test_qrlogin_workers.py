"""QR login across two worker processes: each transition happens once, whichever worker runs it."""
from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.api.lifecycle import FAST, sessions
from tests.api.qrlogin import act, app_user, create, poll
from tests.conftest import serving
from tests.support import Client, LiveServer, expect_ok, fire


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with serving(tmp_path_factory, "qrlogin-workers", live=True, workers=2, **FAST) as live:
        yield live


@pytest.fixture
def me(server: LiveServer, client: Client) -> dict[str, Any]:
    return app_user(server, client)


def codes(responses: list[Any]) -> list[int]:
    return sorted(r.json()["code"] for r in responses)


def web_sessions(client: Client, user: dict[str, Any]) -> int:
    return sum(s["platform"] == "web" for s in sessions(client, user["jwt"]))


def test_fifty_parallel_confirms_one_session(server: LiveServer, client: Client, me: dict[str, Any]) -> None:
    ticket = create(client)
    expect_ok(act(client, "scan", ticket, me), "v2")
    answers = fire(server.url, [("/v2/qrlogin/confirm", {"ticket": ticket["ticket"], "token": me["jwt"]})] * 50)
    assert codes(answers) == [200] + [50021] * 49, codes(answers)
    assert expect_ok(poll(client, ticket), "v2")["uid"] == me["uid"]
    assert web_sessions(client, me) == 1


def test_fifty_parallel_polls_of_a_confirmed_ticket_hand_over_once(server: LiveServer, client: Client,
                                                                   me: dict[str, Any]) -> None:
    ticket = create(client)
    expect_ok(act(client, "scan", ticket, me), "v2")
    expect_ok(act(client, "confirm", ticket, me), "v2")
    job = ("/v2/qrlogin/poll", {"ticket": ticket["ticket"], "poll_secret": ticket["poll_secret"]})
    answers = fire(server.url, [job] * 50)
    assert codes(answers) == [200] + [50020] * 49, codes(answers)
    assert web_sessions(client, me) == 1


def test_a_confirm_racing_a_cancel_one_wins(server: LiveServer, client: Client, me: dict[str, Any]) -> None:
    confirmed = 0
    for _ in range(6):
        ticket = create(client)
        expect_ok(act(client, "scan", ticket, me), "v2")
        jobs = [(f"/v2/qrlogin/{action}", {"ticket": ticket["ticket"], "token": me["jwt"]})
                for action in ("confirm", "cancel") * 5]
        answers = fire(server.url, jobs)
        winners = [path for (path, _), r in zip(jobs, answers, strict=True) if r.json()["code"] == 200]
        state = expect_ok(poll(client, ticket), "v2")["state"]
        # one winner, and what the page sees is what won (a cancel may also answer 200 again after
        # winning: cancelling twice is harmless, so count the distinct actions that succeeded)
        assert len(set(winners)) == 1, winners
        assert state == {"/v2/qrlogin/confirm": "confirmed", "/v2/qrlogin/cancel": "cancelled"}[winners[0]]
        if state == "confirmed":
            assert winners == ["/v2/qrlogin/confirm"]
            confirmed += 1
    # each confirmed ticket's poll above opened exactly one session; no cancelled one did
    assert web_sessions(client, me) == confirmed


def test_long_polls_on_every_worker_see_a_change(server: LiveServer, client: Client, me: dict[str, Any]) -> None:
    ticket = create(client)

    def wait() -> tuple[float, Any]:
        started = time.monotonic()
        response = poll(Client(server.url), ticket, wait=20)
        return time.monotonic() - started, response

    with ThreadPoolExecutor(8) as pool:
        waiting = [pool.submit(wait) for _ in range(8)]  # each on a connection of its own: both workers
        time.sleep(0.4)
        expect_ok(act(client, "scan", ticket, me), "v2")
        answers = [future.result(30) for future in waiting]
    for took, response in answers:
        assert expect_ok(response, "v2")["state"] == "scanned"
        assert took < 5, took
