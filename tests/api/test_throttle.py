"""Per-address limits and SMS limits (SPEC §3, §6, §8; issue 5); the parallel bursts against live
two-worker servers, so a limit counted per worker, or overshot by a race, shows.

Each limit answers HTTP 429 with its own code, a `Retry-After` header in whole seconds, `data`
{} (v1) / [] (v2) and nothing about the account. The tests connect from 127.0.0.1, which is not
a trusted proxy unless TRUSTED_PROXIES says so: then a client's own X-Forwarded-For changes
nothing. Behind a trusted proxy each forwarded client is counted on its own.

Every test starts the server it needs (a limit, once tripped, stays tripped for an hour).
"""
from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import Server
from tests.inprocess import InProcessServer
from tests.support import Client, LiveServer, assert_live, expect_error, expect_ok, fire, phone_index

ANSWER = "ABCD"
PASSWORD = "right_pass_1"
# Every limit of this module is far away unless a test sets it.
BASE = {"APP_DEBUG": 1, "CAPTCHA_TEST_ANSWER": ANSWER, "LOGIN_CAPTCHA_AFTER": 100, "LOGIN_IP_LIMIT": 100000,
        "SMS_IP_LIMIT": 100000, "SMS_VERIFY_IP_LIMIT": 100000}

# (v1, v2, HTTP) from the catalog (app/common/error.py)
LOGIN_FAILED = (60001, 50006, 401)
LOGIN_THROTTLED = (60017, 9913, 429)
SMS_CLIENT_LIMITED = (60030, 50007, 429)
SMS_TOTAL_LIMITED = (60031, 50008, 429)
SMS_VERIFY_LIMITED = (60032, 50009, 429)
SMS_CODE_WRONG = (60022, 50003, 400)

SPOOFS = ["203.0.113.1", "198.51.100.7, 203.0.113.2", "10.0.0.1", "::1", "garbage", "127.0.0.2"]
_numbers = itertools.count(1)


def new_phone() -> str:
    return f"1380000{next(_numbers):04d}"


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """start(**settings): a server in this process; start(live=True, …): a two-worker `python server.py`,
    for the parallel bursts (requests truly in flight together, landing on both workers)."""
    started: list[Server] = []

    def _start(*, live: bool = False, **settings: Any) -> Server:
        runtime, settings = tmp_path / f"runtime{len(started)}", {**BASE, **settings}
        server = LiveServer(runtime, workers=2, **settings) if live else InProcessServer(runtime, **settings)
        started.append(server)
        return server

    yield _start
    for server in started:
        server.stop()


def xff(address: str | None) -> dict[str, str]:
    return {"X-Forwarded-For": address} if address else {}


def login(client: Client, version: str, identity: str, password: str, address: str | None = None) -> requests.Response:
    if version == "v1":
        return client.post("/v1/login", {"username": identity, "password": password}, headers=xff(address))
    return client.post("/v2/login/jwt/get", {"account": identity, "pwd": password}, headers=xff(address))


def send_sms(client: Client, version: str, phone: str, address: str | None = None) -> requests.Response:
    return client.post(f"/{version}/login/send/sms", {"phone": phone}, headers=xff(address))


def register(client: Client, version: str, account: str, phone: str, code: str,
             address: str | None = None) -> requests.Response:
    return client.post(f"/{version}/login/register",
                       {"account": account, "password": PASSWORD, "password_confirmation": PASSWORD,
                        "phone": phone, "code": code}, headers=xff(address))


def limited(response: requests.Response, version: str, error: tuple[int, int, int], *secrets: str) -> int:
    """A limit's answer: 429, its code, empty data, a positive whole Retry-After, and none of `secrets`
    (accounts, phones) anywhere in the answer. Returns Retry-After."""
    expect_error(response, version, *error)
    retry_after = response.headers.get("Retry-After", "")
    assert re.fullmatch(r"[1-9][0-9]*", retry_after), response.headers
    for secret in secrets:
        assert secret.lower() not in response.text.lower(), response.text
        assert all(secret.lower() not in value.lower() for value in response.headers.values()), response.headers
    return int(retry_after)




def wrong_code(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def sent_code(client: Client, phone: str, address: str | None = None) -> str:
    data = expect_ok(send_sms(client, "v2", phone, address), "v2")
    assert re.fullmatch(r"\d{6}", data["code"]), data
    return data["code"]


# -- each limit trips at its threshold --------------------------------------------------------

def test_login_limit_trips_at_its_threshold(start) -> None:
    server = start(LOGIN_IP_LIMIT=3)
    server.create_user("Victim", "13900000001", PASSWORD)
    client = Client(server.url)
    # Three failures of three accounts (one real, two unknown): one address trying many accounts.
    for identity in ("Victim", "nobody1", "nobody2"):
        expect_error(login(client, "v1", identity, "wrong_pass_1"), "v1", *LOGIN_FAILED)
    for version in ("v1", "v2"):
        # Even the right password of the real account: the address is slowed down, for every account.
        right = login(client, version, "Victim", PASSWORD)
        other = login(client, version, "nobody3", "wrong_pass_1")
        by_phone = login(client, version, "13900000001", PASSWORD)
        for response in (right, other, by_phone):
            assert limited(response, version, LOGIN_THROTTLED, "Victim", "nobody3", "13900000001") <= 3600
        # The same answer whatever the account: it tells nothing about any of them.
        assert right.json() == other.json() == by_phone.json()
    # Three failures in the audit log, all under the connection's address; no token was issued.
    rows = server.query("SELECT account, outcome, ip FROM audit_log WHERE event = 'login' ORDER BY id")
    assert rows == [("Victim", "failed", "127.0.0.1"), ("nobody1", "failed", "127.0.0.1"),
                    ("nobody2", "failed", "127.0.0.1")]
    assert server.query("SELECT COUNT(*) FROM audit_log WHERE event = 'token'")[0][0] == 0


def test_login_limit_counts_failures_not_successes(start) -> None:
    server = start(LOGIN_IP_LIMIT=2)
    server.create_user("Regular", "13900000002", PASSWORD)
    client = Client(server.url)
    for _ in range(5):
        expect_ok(login(client, "v2", "Regular", PASSWORD), "v2")
    expect_error(login(client, "v2", "Regular", "wrong_pass_1"), "v2", *LOGIN_FAILED)
    expect_ok(login(client, "v2", "Regular", PASSWORD), "v2")
    expect_error(login(client, "v2", "Regular", "wrong_pass_1"), "v2", *LOGIN_FAILED)
    limited(login(client, "v2", "Regular", PASSWORD), "v2", LOGIN_THROTTLED, "Regular")


def test_sms_send_limit_trips_at_its_threshold(start) -> None:
    server = start(SMS_IP_LIMIT=2)
    client = Client(server.url)
    sent_code(client, new_phone())
    sent_code(client, new_phone())
    for version in ("v1", "v2"):
        phone = new_phone()
        assert limited(send_sms(client, version, phone), version, SMS_CLIENT_LIMITED, phone) <= 3600
        assert server.query("SELECT COUNT(*) FROM sms_code WHERE phone = ?", phone_index(phone))[0][0] == 0
    assert server.query("SELECT COUNT(*) FROM sms_code")[0][0] == 2
    refusals = server.query("SELECT outcome, detail, ip FROM audit_log WHERE event = 'sms' AND outcome = 'refused'")
    assert refusals == [("refused", "SMS_CLIENT_LIMITED", "127.0.0.1")] * 2


def test_sms_limit_counts_only_sends_that_happen(start) -> None:
    """A second request for a phone with a live code (50017) sends nothing and costs nothing."""
    server = start(SMS_IP_LIMIT=2)
    client = Client(server.url)
    phone = new_phone()
    sent_code(client, phone)
    for _ in range(4):
        expect_error(send_sms(client, "v2", phone), "v2", 60025, 50017, 400)
    sent_code(client, new_phone())
    limited(send_sms(client, "v2", new_phone()), "v2", SMS_CLIENT_LIMITED)


def test_sms_send_limit_is_not_overshot_by_a_parallel_burst(start) -> None:
    server = start(live=True, SMS_IP_LIMIT=2)
    jobs = [("/v2/login/send/sms", {"phone": new_phone()}) for _ in range(12)]
    answers = fire(server.url, jobs)
    assert sorted(r.status_code for r in answers) == [200] * 2 + [429] * 10, [r.text for r in answers]
    assert server.query("SELECT COUNT(*) FROM sms_code")[0][0] == 2


def test_sms_verify_limit_trips_and_then_refuses_the_right_code(start) -> None:
    server = start(SMS_VERIFY_IP_LIMIT=2)
    client = Client(server.url)
    phone = new_phone()
    code = sent_code(client, phone)
    expect_error(register(client, "v2", "newbie", phone, wrong_code(code)), "v2", *SMS_CODE_WRONG)
    expect_error(register(client, "v1", "newbie", phone, wrong_code(code)), "v1", *SMS_CODE_WRONG)
    for version in ("v1", "v2"):
        assert limited(register(client, version, "newbie", phone, code), version, SMS_VERIFY_LIMITED,
                       "newbie", phone) <= 3600
    assert server.query("SELECT COUNT(*) FROM users")[0][0] == 0
    # The limit stopped the tries before the code: it is still live (2 wrong tries, not burned).
    assert server.query("SELECT attempts, used_at FROM sms_code WHERE phone = ?", phone_index(phone)) == [(2, None)]


def test_sms_verify_limit_counts_wrong_codes_without_a_live_code(start) -> None:
    """Guessing against a phone that has no code is guessing too."""
    server = start(SMS_VERIFY_IP_LIMIT=2)
    client = Client(server.url)
    for _ in range(2):
        expect_error(register(client, "v2", "guesser", new_phone(), "123456"), "v2", *SMS_CODE_WRONG)
    limited(register(client, "v2", "guesser", new_phone(), "123456"), "v2", SMS_VERIFY_LIMITED, "guesser")


# -- a client's own X-Forwarded-For changes nothing ------------------------------------------------
# (uvicorn would trust X-Forwarded-For from 127.0.0.1 by itself unless `serve` turns proxy_headers off.)

class Limit:
    """One per-address limit: how to use it up once (a failure or a send), and what it answers."""

    def __init__(self, setting: str, error: tuple[int, int, int],
                 use: Callable[[Client, str | None], requests.Response], used: int):
        self.setting, self.error, self.use, self.used = setting, error, use, used


def _login_failure(client: Client, address: str | None) -> requests.Response:
    return login(client, "v2", f"nobody{next(_numbers)}", "wrong_pass_1", address)


def _sms_send(client: Client, address: str | None) -> requests.Response:
    return send_sms(client, "v2", new_phone(), address)


def _wrong_code(client: Client, address: str | None) -> requests.Response:
    return register(client, "v2", f"guesser{next(_numbers)}", new_phone(), "123456", address)


LIMITS = {
    "login": Limit("LOGIN_IP_LIMIT", LOGIN_THROTTLED, _login_failure, 401),
    "sms_send": Limit("SMS_IP_LIMIT", SMS_CLIENT_LIMITED, _sms_send, 200),
    "sms_verify": Limit("SMS_VERIFY_IP_LIMIT", SMS_VERIFY_LIMITED, _wrong_code, 400),
}


@pytest.mark.parametrize("name", list(LIMITS))
def test_forwarded_for_does_not_reset_a_tripped_limit(start, name: str) -> None:
    limit = LIMITS[name]
    server = start(**{limit.setting: 2})
    client = Client(server.url)
    for _ in range(2):
        assert limit.use(client, None).status_code == limit.used
    limited(limit.use(client, None), "v2", limit.error)
    for address in SPOOFS:
        limited(limit.use(client, address), "v2", limit.error)


@pytest.mark.parametrize("name", list(LIMITS))
def test_forwarded_for_does_not_change_the_address_counted(start, name: str) -> None:
    limit = LIMITS[name]
    server = start(**{limit.setting: 2})
    client = Client(server.url)
    for address in ("203.0.113.1", "198.51.100.7, 203.0.113.2"):
        assert limit.use(client, address).status_code == limit.used
    limited(limit.use(client, None), "v2", limit.error)
    ips = {ip for (ip,) in server.query("SELECT ip FROM audit_log")}
    assert ips <= {"127.0.0.1"}, ips


# -- parallel bursts -----------------------------------------------------------------------------

def test_login_limit_holds_against_a_parallel_burst(start) -> None:
    """30 parallel failures from one address against a limit of 3: only 3 passwords are checked, the
    rest are 429 (as the SMS limit does with its atomic count). Real password hashing cost here, as in
    production, so the requests really overlap."""
    server = start(live=True, LOGIN_IP_LIMIT=3, PASSWORD_TIME_COST=2, PASSWORD_MEMORY_COST=19456)
    jobs = [("/v1/login", {"username": f"nobody{i}", "password": "wrong_pass_1"}) for i in range(30)]
    answers = fire(server.url, jobs)
    codes = [r.status_code for r in answers]
    assert set(codes) <= {401, 429}, codes
    evaluated = server.query("SELECT COUNT(*) FROM audit_log WHERE event = 'login'")[0][0]
    assert (codes.count(401), evaluated) == (3, 3), codes
    for response in answers:
        if response.status_code == 429:
            limited(response, "v1", LOGIN_THROTTLED)


def test_sms_verify_limit_holds_against_a_parallel_burst(start) -> None:
    """30 parallel wrong codes from one address against a limit of 3: 3 are judged wrong, 27 refused
    before any work. Real password hashing (registration hashes before it looks at the code), so the
    tries overlap; counting after the verdict let every try in flight through."""
    server = start(live=True, SMS_VERIFY_IP_LIMIT=3, PASSWORD_TIME_COST=2, PASSWORD_MEMORY_COST=19456)
    jobs = [("/v2/login/register", {"account": f"burst{i}", "password": PASSWORD,
                                    "password_confirmation": PASSWORD, "phone": new_phone(), "code": "123456"})
            for i in range(30)]
    answers = fire(server.url, jobs)
    codes = sorted(r.status_code for r in answers)
    assert codes == [400] * 3 + [429] * 27, [r.text for r in answers]
    for response in answers:
        if response.status_code == 400:
            expect_error(response, "v2", *SMS_CODE_WRONG)
        else:
            limited(response, "v2", SMS_VERIFY_LIMITED)
    # The window is full: the next try from this address is refused too, with any code.
    limited(register(Client(server.url), "v2", "late", new_phone(), "123456"), "v2", SMS_VERIFY_LIMITED, "late")


# -- SMS per hour in total -------------------------------------------------------------------------

def test_sms_hourly_total_trips_across_addresses(start) -> None:
    server = start(SMS_HOURLY_LIMIT=3, SMS_IP_LIMIT=100, TRUSTED_PROXIES="127.0.0.1")
    client = Client(server.url)
    for n in range(3):
        sent_code(client, new_phone(), f"203.0.113.{n + 1}")
    for version, address in (("v2", "203.0.113.4"), ("v1", "198.51.100.1"), ("v2", None)):
        phone = new_phone()
        limited(send_sms(client, version, phone, address), version, SMS_TOTAL_LIMITED, phone)
    assert server.query("SELECT COUNT(*) FROM sms_code")[0][0] == 3
    assert server.query("SELECT COUNT(DISTINCT ip) FROM audit_log WHERE event = 'sms' AND outcome = 'sent'") \
        == [(3,)]


# -- behind a trusted proxy ----------------------------------------------------------------------

def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit(start) -> None:
    server = start(LOGIN_IP_LIMIT=2, TRUSTED_PROXIES="127.0.0.1")
    server.create_user("Shared", "13900000003", PASSWORD)
    client = Client(server.url)
    a, b = "198.51.100.1", "198.51.100.2"
    for _ in range(2):
        expect_error(login(client, "v1", "Shared", "wrong_pass_1", a), "v1", *LOGIN_FAILED)
    limited(login(client, "v1", "Shared", PASSWORD, a), "v1", LOGIN_THROTTLED, "Shared")
    # The last hop that is not a trusted proxy is the client: what a client prepends does not help ...
    limited(login(client, "v1", "Shared", PASSWORD, f"192.0.2.77, {a}"), "v1", LOGIN_THROTTLED)
    # ... and trusted hops are skipped from the right.
    limited(login(client, "v1", "Shared", PASSWORD, f"{a}, 127.0.0.1"), "v1", LOGIN_THROTTLED)
    # Another client behind the proxy is counted on its own.
    expect_error(login(client, "v2", "Shared", "wrong_pass_1", b), "v2", *LOGIN_FAILED)
    expect_ok(login(client, "v2", "Shared", PASSWORD, f"{a}, {b}"), "v2")
    expect_error(login(client, "v2", "Shared", "wrong_pass_1", f"{a}, {b}"), "v2", *LOGIN_FAILED)
    limited(login(client, "v2", "Shared", PASSWORD, b), "v2", LOGIN_THROTTLED)
    # The proxy itself, without a header, is a client of its own (nothing was counted for it).
    expect_ok(login(client, "v1", "Shared", PASSWORD), "v1")
    # The audit log names the forwarded clients.
    ips = [ip for (ip,) in server.query("SELECT ip FROM audit_log WHERE event = 'login' ORDER BY id")]
    assert ips == [a, a, b, b, b, "127.0.0.1"]


def test_a_garbled_forwarded_for_from_a_trusted_proxy_is_counted_under_the_proxy(start) -> None:
    server = start(TRUSTED_PROXIES="127.0.0.1")
    client = Client(server.url)
    for header in ("garbage", "203.0.113.7:4711", "unknown"):
        expect_error(login(client, "v2", "nobody", "wrong_pass_1", header), "v2", *LOGIN_FAILED)
    ips = [ip for (ip,) in server.query("SELECT ip FROM audit_log WHERE event = 'login' ORDER BY id")]
    assert ips == ["127.0.0.1"] * 3


def test_behind_a_trusted_proxy_sms_limits_are_per_forwarded_client(start) -> None:
    server = start(SMS_IP_LIMIT=1, TRUSTED_PROXIES="127.0.0.0/8")
    client = Client(server.url)
    sent_code(client, new_phone(), "203.0.113.1")
    limited(send_sms(client, "v2", new_phone(), "203.0.113.1"), "v2", SMS_CLIENT_LIMITED)
    limited(send_sms(client, "v2", new_phone(), "192.0.2.5, 203.0.113.1, 127.0.0.9"), "v2", SMS_CLIENT_LIMITED)
    sent_code(client, new_phone(), "203.0.113.2")
    sent_code(client, new_phone())          # the proxy itself


# -- SMS code burned after 5 wrong tries ------------------------------------------------------

def test_sms_code_is_burned_after_five_wrong_tries(start) -> None:
    server = start()
    client = Client(server.url)
    phone = new_phone()
    code = sent_code(client, phone)
    for version in ("v2", "v1", "v2", "v1", "v2"):
        expect_error(register(client, version, "burner", phone, wrong_code(code)), version, *SMS_CODE_WRONG)
    for version in ("v2", "v1"):
        expect_error(register(client, version, "burner", phone, code), version, *SMS_CODE_WRONG)
    assert server.query("SELECT COUNT(*) FROM users")[0][0] == 0
    # Burned, not merely locked: the phone may ask for a new code at once, and that one works.
    fresh = sent_code(client, phone)
    expect_ok(register(client, "v2", "burner", phone, fresh), "v2", 201)


def test_four_wrong_tries_leave_the_code_usable(start) -> None:
    server = start()
    client = Client(server.url)
    phone = new_phone()
    code = sent_code(client, phone)
    for _ in range(4):
        expect_error(register(client, "v1", "careful", phone, wrong_code(code)), "v1", *SMS_CODE_WRONG)
    expect_ok(register(client, "v1", "careful", phone, code), "v1", 201)
    assert server.query("SELECT account, phone FROM users") == [("careful", phone_index(phone))]


def test_parallel_wrong_tries_all_count_toward_burning_the_code(start) -> None:
    server = start(live=True)
    assert_live(server.url)
    phone = new_phone()
    code = sent_code(Client(server.url), phone)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda i: register(Client(server.url), "v2", f"racer{i}", phone,
                                                   f"{(int(code) + 1 + i) % 10**6:06d}"), range(8)))
    for response in answers:
        expect_error(response, "v2", *SMS_CODE_WRONG)
    expect_error(register(Client(server.url), "v2", "racer", phone, code), "v2", *SMS_CODE_WRONG)
    assert server.query("SELECT COUNT(*) FROM users")[0][0] == 0
