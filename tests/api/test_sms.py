"""Live-server tests of `login/send/sms` (Hyperf doc: 发送短信验证码), SPEC §6.

Servers: debug (the code is in the response), non-debug (it is not), a tight daily cap, and the
`webhook` driver against a real little HTTP server in a thread that records what it is sent.
"""
from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from app.common.clock import ManualClock
from tests.api import codes
from tests.inprocess import InProcessServer
from tests.support import Client, LiveServer, expect_error, expect_ok, fire, free_port, phone_index

DOC_PHONE = "13911119999"
STILL_VALID = {"code": 50017, "msg": "短信还在有效期内, 请勿重复发送", "status": False, "data": []}
# Per-address limits are not what this module tests (the daily per-phone cap is).
SERVER_SETTINGS = {"SMS_IP_LIMIT": 100000, "SMS_VERIFY_IP_LIMIT": 100000, "LOGIN_IP_LIMIT": 100000}
_phones = (f"1360000{n:04d}" for n in itertools.count(1))


def new_phone() -> str:
    return next(_phones)


def expect_catalog(response, code: tuple[int, int, int], version: str = "v2") -> str:
    """The error `code` (tests/api/codes.py) in `version`'s envelope; returns the message."""
    return expect_error(response, version, *code)


def codes_stored(server: LiveServer, phone: str) -> int:
    return server.query("SELECT COUNT(*) FROM sms_code WHERE phone = ?", phone_index(phone))[0][0]


def live_codes(server: LiveServer, phone: str) -> int:
    return server.query("SELECT COUNT(*) FROM sms_code WHERE phone = ? AND used_at IS NULL AND expire_at > ?",
                   phone_index(phone), int(time.time()))[0][0]


def send(client: Client, phone: Any, path: str = "/login/send/sms", **kwargs: Any):
    return client.post(path, {"phone": phone}, **kwargs)


def send_concurrently(server: LiveServer, phone: str, n: int = 50) -> list:
    barrier = threading.Barrier(n)

    def one(_: int):
        c = Client(server.url)
        try:
            barrier.wait(10)
            return send(c, phone)
        finally:
            c.http.close()

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(one, range(n)))


def make_server(tmp_path_factory: pytest.TempPathFactory, name: str, **settings: Any) -> LiveServer:
    return LiveServer(tmp_path_factory.mktemp(name), **{**SERVER_SETTINGS, **settings})


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = make_server(tmp_path_factory, "sms-debug", APP_DEBUG=1)
    yield live
    live.stop()


# -- the document's examples (debug mode) -----------------------------------------------------


def test_document_example_answers_the_code_in_debug(client: Client) -> None:
    response = send(client, DOC_PHONE)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == "application/json"
    body = response.json()
    assert set(body) == {"code", "msg", "status", "data"}
    assert (body["code"], body["msg"], body["status"]) == (200, "ok", True)
    assert set(body["data"]) == {"code"} and isinstance(body["data"]["code"], str)
    assert re.fullmatch(r"\d{6}", body["data"]["code"]), body


def test_second_send_is_the_documents_50017(server: LiveServer, client: Client) -> None:
    phone = new_phone()
    assert send(client, phone).status_code == 200
    again = send(client, phone)
    assert again.status_code == codes.SMS_STILL_VALID[2]
    assert again.json() == STILL_VALID
    # Every spelling and version of the path is the same endpoint over the same code.
    assert send(client, phone, "/v2/login/send/sms").json() == STILL_VALID
    assert send(client, phone, "/LOGIN/Send/SMS").json() == STILL_VALID
    message = expect_catalog(send(client, phone, "/v1/login/send/sms"), codes.SMS_STILL_VALID, "v1")
    assert message == "短信还在有效期内, 请勿重复发送"
    # Nothing was stored for the refused sends.
    assert codes_stored(server, phone) == 1


def test_second_send_in_english(client: Client) -> None:
    phone = new_phone()
    send(client, phone)
    message = expect_error(send(client, phone, headers={"Accept-Language": "en"}), "v2", 0, 50017, 400)
    assert not re.search(r"[\u4e00-\u9fff]", message), message


def test_codes_are_six_digits_and_differ(client: Client) -> None:
    codes = [send(client, new_phone()).json()["data"]["code"] for _ in range(5)]
    assert all(re.fullmatch(r"\d{6}", c) for c in codes), codes
    assert len(set(codes)) > 1, codes


def test_v1_envelope_in_debug(client: Client) -> None:
    data = expect_ok(send(client, new_phone(), "/v1/login/send/sms"), "v1")
    assert set(data) == {"code"} and re.fullmatch(r"\d{6}", data["code"])


def test_codes_are_stored_hashed(server: LiveServer, client: Client) -> None:
    phone = new_phone()
    code = send(client, phone).json()["data"]["code"]
    rows = server.query("SELECT * FROM sms_code WHERE phone = ?", phone_index(phone))
    assert len(rows) == 1
    assert not any(code in str(value) for value in rows[0] if value != phone), rows


def test_fifty_concurrent_sends_for_one_phone_store_one_code(server: LiveServer) -> None:
    phone = new_phone()
    responses = send_concurrently(server, phone)
    statuses = [r.status_code for r in responses]
    assert all(s < 500 for s in statuses), [r.text for r in responses if r.status_code >= 500][:3]
    assert statuses.count(200) == 1, statuses
    for r in responses:
        if r.status_code != 200:
            assert r.json() == STILL_VALID, r.text
    assert codes_stored(server, phone) == 1


@pytest.mark.parametrize("phone", ["12345", "23911119999", "1391111999a", "139111199990", "+8613911119999",
                                   "1391111999", "１３９１１１１９９９９",
                                   "13９１１１１９９９９"])
def test_invalid_phone_is_9906(server: LiveServer, client: Client, phone: str) -> None:
    message = expect_error(send(client, phone), "v2", 60000, 9906, 400)
    assert message.startswith("数据验证失败，原因如下：") and "手机号" in message, message
    # v1: the phone field's code (60000).
    expect_error(send(client, phone, "/v1/login/send/sms"), "v1", 60000, 9906, 400)
    assert codes_stored(server, phone) == 0


@pytest.mark.parametrize("params", [{}, {"phone": ""}, {"phone": None}])
def test_missing_phone_is_9906(client: Client, params: dict[str, Any]) -> None:
    response = client.post("/login/send/sms", params)
    assert response.status_code == 400
    assert response.json() == {"code": 9906, "msg": "数据验证失败，原因如下：手机号必填", "status": False, "data": []}


def test_phone_as_a_list_is_9906_not_500(client: Client) -> None:
    expect_error(send(client, ["13911112222"]), "v2", 60000, 9906, 400)


# -- outside debug mode ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def quiet_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = make_server(tmp_path_factory, "sms-nodebug", APP_DEBUG=0)
    yield live
    live.stop()


def test_code_is_not_in_the_response_outside_debug(quiet_server: LiveServer) -> None:
    client = Client(quiet_server.url)
    try:
        phone = new_phone()
        response = send(client, phone)
        assert response.status_code == 200
        assert response.json() == {"code": 200, "msg": "ok", "status": True, "data": []}
        # The log driver wrote the message (with the code) to the log instead.
        deadline = time.monotonic() + 5
        found: list[str] = []
        while not found and time.monotonic() < deadline:
            found = [m for line in quiet_server.log().splitlines() if phone in line
                     for m in re.findall(r"(?<!\d)\d{6}(?!\d)", line.split(phone, 1)[1])]
            time.sleep(0.05)
        assert found, quiet_server.log()
        code = found[-1]
        assert code not in response.text
        assert send(client, phone).json() == STILL_VALID
        # The code from the log is the live one: it registers.
        registered = client.post("/login/register", {"account": "Quiet", "password": "1234567",
                                                     "password_confirmation": "1234567", "phone": phone,
                                                     "code": code})
        assert registered.status_code == 201, registered.text
        # v1 outside debug: data is empty too.
        v1 = send(client, new_phone(), "/v1/login/send/sms")
        assert expect_ok(v1, "v1") == {}
    finally:
        client.http.close()


def test_log_driver_outside_debug_is_warned_about_at_start(quiet_server: LiveServer, server: LiveServer) -> None:
    """SPEC §10: with SMS_DRIVER=log and APP_DEBUG=0 the codes go to the log; the operator is told."""
    warning = "SMS_DRIVER=log"
    assert warning in quiet_server.log(), quiet_server.log()
    assert warning not in server.log()  # in debug mode the codes are in the responses anyway


# -- wrong codes under concurrency (SPEC §10) ----------------------------------------------------


@pytest.fixture(scope="module")
def guessed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path_factory.mktemp("sms-guessed"), workers=2,
                      **{**SERVER_SETTINGS, "APP_DEBUG": 1, "SMS_VERIFY_ATTEMPTS": 5,
                         # many password hashes at once, as a busy server runs them
                         "PASSWORD_HASH_WORKERS": 8})
    yield live
    live.stop()


def test_a_parallel_burst_of_wrong_codes_compares_at_most_five(guessed: LiveServer) -> None:
    """30 wrong codes at once: no more than SMS_VERIFY_ATTEMPTS are compared, then the code is burned."""
    client = Client(guessed.url)
    phone = new_phone()
    code = expect_ok(send(client, phone), "v2")["code"]
    wrong = [f"{(int(code) + n) % 10**6:06d}" for n in range(1, 31)]
    jobs = [("/login/register", {"account": f"guess{n}", "password": "1234567",
                                 "password_confirmation": "1234567", "phone": phone, "code": guess})
            for n, guess in enumerate(wrong)]
    for response in fire(guessed.url, jobs):
        expect_catalog(response, codes.SMS_CODE_WRONG)
    attempts, used_at = guessed.query("SELECT attempts, used_at FROM sms_code WHERE phone = ?", phone_index(phone))[0]
    assert attempts == 5 and used_at is not None, (attempts, used_at)
    # Burned: the right code no longer registers.
    late = client.post("/login/register", {"account": "late", "password": "1234567",
                                           "password_confirmation": "1234567", "phone": phone, "code": code})
    expect_catalog(late, codes.SMS_CODE_WRONG)
    assert guessed.query("SELECT COUNT(*) FROM users")[0][0] == 0


# -- daily cap ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def capped_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    """In-process on a clock the test moves past each code's SMS_TTL (kept in the database)."""
    app = InProcessServer(tmp_path_factory.mktemp("sms-cap"), clock=ManualClock(),
                          **{**SERVER_SETTINGS, "APP_DEBUG": 1, "SMS_DAILY_LIMIT": 2, "SMS_TTL": 1})
    yield app
    app.stop()


def test_daily_cap_answers_429_with_retry_after(capped_server: InProcessServer) -> None:
    client = Client(capped_server.url)
    try:
        phone = new_phone()
        assert send(client, phone).status_code == 200
        capped_server.pass_time(1.1)  # the first code (SMS_TTL=1) has expired
        assert send(client, phone).status_code == 200
        capped_server.pass_time(1.1)
        for _ in range(2):
            third = send(client, phone)
            expect_catalog(third, codes.SMS_LIMITED)
            assert third.status_code == 429
            retry_after = third.headers.get("Retry-After", "")
            assert retry_after.isdigit() and 1 <= int(retry_after) <= 86401, third.headers
        assert codes_stored(capped_server, phone) == 2
        # The cap is per phone: another phone is still served.
        assert send(client, new_phone()).status_code == 200
    finally:
        client.http.close()


# -- the webhook driver ------------------------------------------------------------------------


class Gateway:
    """A tiny SMS gateway in a thread: records each POSTed JSON; answers per phone as told."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.content_types: list[str] = []
        self.answers: dict[str, int] = {}   # phone → HTTP status to answer (default 200)
        self.slow: set[str] = set()          # phones answered only once `release` is set (or after 30 s)
        self.release = threading.Event()
        self.lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    payload = json.loads(raw)
                except ValueError:
                    payload = {"unreadable": raw.decode("latin-1")}
                phone = payload.get("phone") if isinstance(payload, dict) else None
                with gateway.lock:
                    gateway.received.append(payload)
                    gateway.content_types.append(self.headers.get("Content-Type", ""))
                    status = gateway.answers.get(phone, 200)
                    slow = phone in gateway.slow
                if slow:
                    gateway.release.wait(30)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(b'{"ok": true}' if status < 300 else b'{"ok": false}')
                except OSError:
                    pass  # the API gave up waiting (timeout test)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/sms"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def for_phone(self, phone: str) -> list[dict[str, Any]]:
        with self.lock:
            return [p for p in self.received if isinstance(p, dict) and p.get("phone") == phone]

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture(scope="module")
def gateway() -> Iterator[Gateway]:
    g = Gateway()
    yield g
    g.close()


@pytest.fixture(scope="module")
def webhook_server(tmp_path_factory: pytest.TempPathFactory, gateway: Gateway) -> Iterator[LiveServer]:
    live = make_server(tmp_path_factory, "sms-webhook", APP_DEBUG=1, SMS_DRIVER="webhook",
                       SMS_WEBHOOK_URL=gateway.url, SMS_WEBHOOK_TIMEOUT=1)
    yield live
    live.stop()


@pytest.fixture
def hook_client(webhook_server: LiveServer) -> Iterator[Client]:
    c = Client(webhook_server.url)
    yield c
    c.http.close()


def test_webhook_receives_the_code_of_the_response(gateway: Gateway, hook_client: Client) -> None:
    phone = new_phone()
    response = send(hook_client, phone)
    code = expect_ok(response, "v2")["code"]
    received = gateway.for_phone(phone)
    assert len(received) == 1, gateway.received
    assert set(received[0]) == {"phone", "code", "message"}, received
    assert received[0]["phone"] == phone and received[0]["code"] == code
    assert isinstance(received[0]["message"], str) and code in received[0]["message"]
    assert gateway.content_types[-1].split(";")[0] == "application/json"
    # Refused resends send nothing.
    assert send(hook_client, phone).json() == STILL_VALID
    assert len(gateway.for_phone(phone)) == 1


def test_webhook_500_is_sms_send_failed_and_keeps_no_live_code(webhook_server: LiveServer, gateway: Gateway,
                                                              hook_client: Client) -> None:
    phone = new_phone()
    gateway.answers[phone] = 500
    failed = send(hook_client, phone)
    assert expect_catalog(failed, codes.SMS_SEND_FAILED) == "短信发送失败，请稍后再试"
    assert len(gateway.for_phone(phone)) == 1
    assert live_codes(webhook_server, phone) == 0
    # Not refused with 50017: the gateway is asked again (and fails again).
    expect_catalog(send(hook_client, phone), codes.SMS_SEND_FAILED)
    assert len(gateway.for_phone(phone)) == 2
    # Once the gateway is back, the phone gets a code at once, and it is the one delivered.
    gateway.answers[phone] = 200
    code = expect_ok(send(hook_client, phone), "v2")["code"]
    assert gateway.for_phone(phone)[-1]["code"] == code


def test_webhook_4xx_is_sms_send_failed(gateway: Gateway, hook_client: Client) -> None:
    phone = new_phone()
    gateway.answers[phone] = 404
    expect_catalog(send(hook_client, phone), codes.SMS_SEND_FAILED)
    gateway.answers[phone] = 200
    assert send(hook_client, phone).status_code == 200


def test_slow_webhook_times_out_as_sms_send_failed(gateway: Gateway, hook_client: Client) -> None:
    phone = new_phone()
    gateway.slow.add(phone)
    try:
        # The gateway holds its answer until released (30 s at most): only the driver's timeout
        # (SMS_WEBHOOK_TIMEOUT=1) can end this request with a failure.
        started = time.monotonic()
        expect_catalog(send(hook_client, phone), codes.SMS_SEND_FAILED)
        assert time.monotonic() - started < 25
        assert len(gateway.for_phone(phone)) == 1
    finally:
        gateway.release.set()
        gateway.slow.discard(phone)
    # No live code was kept: once the gateway is quick again, the phone gets one at once.
    assert send(hook_client, phone).status_code == 200


def test_fifty_concurrent_sends_send_one_sms(webhook_server: LiveServer, gateway: Gateway) -> None:
    phone = new_phone()
    responses = send_concurrently(webhook_server, phone)
    statuses = [r.status_code for r in responses]
    assert all(s < 500 for s in statuses), [r.text for r in responses if r.status_code >= 500][:3]
    assert statuses.count(200) == 1, statuses
    winner = next(r for r in responses if r.status_code == 200)
    received = gateway.for_phone(phone)
    assert len(received) == 1, received
    assert received[0]["code"] == winner.json()["data"]["code"]
    assert codes_stored(webhook_server, phone) == 1


@pytest.fixture(scope="module")
def unreachable_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    url = f"http://127.0.0.1:{free_port()}/sms"  # nothing listens there
    live = make_server(tmp_path_factory, "sms-unreachable", APP_DEBUG=1, SMS_DRIVER="webhook",
                       SMS_WEBHOOK_URL=url, SMS_WEBHOOK_TIMEOUT=1)
    yield live
    live.stop()


def test_unreachable_webhook_is_sms_send_failed(unreachable_server: LiveServer) -> None:
    client = Client(unreachable_server.url)
    try:
        phone = new_phone()
        for _ in range(2):  # the second is not refused with 50017: no live code was kept
            response = send(client, phone)
            expect_catalog(response, codes.SMS_SEND_FAILED)
            assert "code" not in json.dumps(response.json()["data"])
        assert live_codes(unreachable_server, phone) == 0
        # v1 speaks the same failure with its own code.
        expect_catalog(send(client, phone, "/v1/login/send/sms"), codes.SMS_SEND_FAILED, "v1")
    finally:
        client.http.close()
