"""Events (SPEC §14): outbox + one webhook consumer; retried in order, never lost, one at a time."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.conftest import Server
from tests.inprocess import InProcessServer
from tests.ops.helpers import wait_for
from tests.ops.webhook_receiver import Receiver
from tests.support import Client, LiveServer, free_port

SECRET = "webhook-secret-for-tests-0123456789"
PASSWORD = "secret_123"
PHONE = "13911112222"
# Short timeouts, backoff and lease, so nothing here waits long.
FAST = dict(WEBHOOK_SECRET=SECRET, WEBHOOK_TIMEOUT=0.3, WEBHOOK_RETRY_MIN=0.05, WEBHOOK_RETRY_MAX=0.2,
            EVENTS_POLL=0.05, EVENTS_LEASE_TTL=1.0)


def start(runtime: Path, url: str, *, live: bool = False, **settings: Any) -> Server:
    """A server whose consumer posts to `url`: in this process, or `python server.py` (`live`) where
    the test kills it or runs two instances."""
    kind = LiveServer if live else InProcessServer
    return kind(runtime, WEBHOOK_URL=url, **{**FAST, **settings})


def login(server: Server, password: str = PASSWORD, username: str = "alice") -> int:
    return Client(server.url).post("/v2/login", {"username": username, "password": password}).json()["code"]


def shared_storage(server: Server) -> dict[str, str]:
    """The settings that put a second server on the first one's database (and Redis)."""
    return {k: server.env[k] for k in ("DATABASE_URL", "REDIS_URL", "REDIS_PREFIX") if k in server.env}


def test_events_are_signed_retried_and_delivered_in_order(tmp_runtime: Path) -> None:
    receiver = Receiver(SECRET)
    receiver.script = ["500", "slow", "close", "redirect"]  # the first event fails four ways, then gets through
    server = start(tmp_runtime, receiver.url)
    try:
        uid = server.create_user("alice", PHONE, PASSWORD)
        assert login(server) == 200
        assert login(server, "wrong_pass1", username=PHONE) == 50006
        assert login(server) == 200
        wait_for(lambda: len(receiver.accepted) == 3)
        assert [e["type"] for e in receiver.accepted] == ["login.succeeded", "login.failed", "login.succeeded"]
        ids = receiver.ids()
        assert ids == sorted(ids) and len(set(ids)) == 3
        assert receiver.attempts[:5] == [ids[0]] * 5  # 500, too slow, closed, redirected (not followed), accepted
        assert receiver.bad_signatures == 0 and receiver.gets == 0
        first, failed = receiver.accepted[0], receiver.accepted[1]
        assert first["data"]["uid"] == uid and re.fullmatch(r"[0-9a-f]{32}", first["data"]["sid"])
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first["at"])
        # The phone typed at login is masked; nothing of the password travels.
        assert failed["data"] == {"uid": uid, "identity": "139****2222", "ip": "127.0.0.1", "outcome": "failed"}
        assert PHONE not in str(receiver.accepted) and "wrong_pass1" not in str(receiver.accepted)
        wait_for(lambda: "0 event(s) pending" in server.command("events:list").stdout)
    finally:
        server.stop()
        receiver.stop()


def test_a_receiver_down_for_a_while_gets_everything_when_it_returns(tmp_runtime: Path) -> None:
    port = free_port()
    server = start(tmp_runtime, f"http://127.0.0.1:{port}/hook")
    receiver = None
    try:
        server.create_user("alice", PHONE, PASSWORD)
        for _ in range(3):
            assert login(server) == 200
        wait_for(lambda: "last error: URLError" in server.command("events:list").stdout)
        listed = server.command("events:list").stdout
        assert "3 event(s) pending" in listed and listed.count("login.succeeded") == 3, listed
        assert "consumer: " in listed and "holds the lease" in listed
        assert PASSWORD not in listed
        receiver = Receiver(SECRET, port=port)
        wait_for(lambda: len(receiver.accepted) == 3)
        assert receiver.ids() == sorted(receiver.ids())
    finally:
        server.stop()
        if receiver:
            receiver.stop()


def test_a_consumer_killed_mid_delivery_loses_nothing(tmp_runtime: Path) -> None:
    receiver = Receiver(SECRET)
    receiver.mode = "hang"  # every delivery stays in flight until the test releases it
    # A delivery may take 2 s here, so the kill surely falls inside the first one.
    slow = dict(WEBHOOK_TIMEOUT=2.0, EVENTS_LEASE_TTL=4.5)
    first = start(tmp_runtime, receiver.url, live=True, **slow)
    second = None
    try:
        first.create_user("alice", PHONE, PASSWORD)
        for _ in range(3):
            assert login(first) == 200
        assert receiver.hanging.wait(10)
        first.process.kill()  # kill -9 while the first event is in flight
        first.process.wait()
        receiver.mode = "ok"
        receiver.release()  # the hung request is answered 500, to nobody
        assert receiver.accepted == [] and len(receiver.attempts) == 1
        second = start(tmp_runtime, receiver.url, live=True, **slow, **shared_storage(first))
        wait_for(lambda: len(receiver.accepted) == 3)
        ids = receiver.ids()
        assert ids == sorted(ids) and len(set(ids)) == 3
        assert receiver.attempts == [ids[0], *ids]  # the one in flight again, then the rest, in order
    finally:
        if second:
            second.stop()
        first.stop()
        receiver.stop()


def test_two_instances_deliver_one_at_a_time_in_order(tmp_runtime: Path) -> None:
    receiver = Receiver(SECRET, delay=0.03)  # a slow receiver, so two senders would overlap
    first = start(tmp_runtime, receiver.url, live=True)
    second = start(tmp_runtime, receiver.url, live=True, **shared_storage(first))
    try:
        first.create_user("alice", PHONE, PASSWORD)
        for i in range(8):
            assert login(first if i % 2 else second) == 200
        wait_for(lambda: len(receiver.accepted) == 8)
        ids = receiver.ids()
        assert ids == sorted(ids) and len(set(ids)) == 8  # in order, none twice (no takeover happened)
        assert receiver.most_in_flight == 1
    finally:
        second.stop()
        first.stop()
        receiver.stop()


def test_each_change_reports_its_event_without_secrets(tmp_runtime: Path) -> None:
    receiver = Receiver(SECRET)
    server = start(tmp_runtime, receiver.url, APP_DEBUG=1, LOGIN_CAPTCHA_AFTER=10, LOGIN_LOCK_AFTER=2)
    client = Client(server.url)
    try:
        code = client.post("/v2/login/send/sms", {"phone": PHONE}).json()["data"]["code"]
        registered = client.post("/v2/login/register", {"account": "bob", "password": PASSWORD,
                                                       "password_confirmation": PASSWORD, "phone": PHONE,
                                                       "code": code})
        assert registered.status_code == 201
        jwt = client.post("/v2/login/jwt/get", {"account": "bob", "pwd": PASSWORD}).json()["data"]["jwt"]
        assert client.post("/v2/login/jwt/deactivate", {"jwt": jwt}).json()["code"] == 200
        assert server.command("role:grant", "--user", "bob", "--role", "admin").returncode == 0
        for _ in range(2):  # the second failure locks the account
            assert login(server, "wrong_pass1", username="bob") == 50006
        wait_for(lambda: len(receiver.accepted) == 7)
        by_type = {event["type"]: event["data"] for event in receiver.accepted}
        uid = by_type["user.registered"]["uid"]
        assert [event["type"] for event in receiver.accepted] == [
            "user.registered", "login.succeeded", "session.ended", "role.changed", "login.failed",
            "account.locked", "login.failed"]  # the lock is taken while the second failure is counted
        assert by_type["user.registered"] == {"uid": uid, "account": "bob", "phone": "139****2222"}
        assert by_type["session.ended"] == {"uid": uid, "sid": by_type["login.succeeded"]["sid"]}
        assert by_type["role.changed"] == {"action": "grant", "uid": uid, "role_id": 1, "by": None}
        assert by_type["account.locked"] == {"uid": uid, "seconds": 60}
        assert by_type["login.failed"] == {"uid": uid, "identity": "bob", "ip": "127.0.0.1", "outcome": "locked"}
        text = str(receiver.accepted)
        assert PHONE not in text and code not in text and PASSWORD not in text and jwt not in text
    finally:
        server.stop()
        receiver.stop()


def test_account_lifecycle_changes_are_events_too(tmp_runtime: Path) -> None:
    """password.changed, phone.changed and account.deleted, each in order after what caused it."""
    from tests.api.lifecycle import FAST as LIFECYCLE_FAST, code_for, new_phone, sms_login
    from tests.support import expect_ok

    receiver = Receiver(SECRET)
    server = start(tmp_runtime, receiver.url, **LIFECYCLE_FAST)
    try:
        client = Client(server.url)
        phone, new = new_phone("1330"), new_phone("1330")
        me = sms_login(client, phone)
        expect_ok(client.post("/password/change", {"password": "pass_5678", "password_confirmation": "pass_5678"},
                              token=me["jwt"]), "v2")
        code = code_for(client, new, "change_phone", token=me["jwt"])
        expect_ok(client.post("/phone/change", {"phone": new, "code": code, "password": "pass_5678"},
                              token=me["jwt"]), "v2")
        expect_ok(client.post("/account/delete", {"password": "pass_5678"}, token=me["jwt"]), "v2")
        wanted = ["password.changed", "phone.changed", "account.deleted"]
        wait_for(lambda: [e["type"] for e in receiver.accepted if e["type"] in wanted] == wanted)
        by_type = {e["type"]: e["data"] for e in receiver.accepted}
        assert by_type["password.changed"]["uid"] == me["uid"]
        assert by_type["phone.changed"] == {"uid": me["uid"], "phone": new[:3] + "****" + new[-4:]}
        assert by_type["account.deleted"] == {"uid": me["uid"]}
        assert phone not in str(receiver.accepted) and new not in str(receiver.accepted)
        assert receiver.ids() == sorted(receiver.ids())
    finally:
        server.stop()
        receiver.stop()
