"""Account lockout and the login's no-oracle rule against live two-worker servers (SPEC §8, issue 5).

Failures are counted per account however it is spelled (case, account or phone), in shared
state, so failures spread over two workers or fired in parallel are all counted. After
LOGIN_LOCK_AFTER (5) failures the account is locked for the next of LOGIN_LOCK_STEPS; while
locked even the right password gets exactly the wrong password's answer. Unknown, wrong,
disabled and locked all answer alike.

Servers: `server` (short lock steps 2 s, 4 s), `burst` (50 parallel failures, lock at 50, address
limit 51), `ceiling` (the fixed 100 failures per account per hour), `window` (LOGIN_WINDOW=3).
The waits for a lock or a window to end run in-process on a ManualClock (`clocked`): the test moves
the clock past them (on the Redis leg, whose TTLs are Redis's own time, it also sleeps them).
"""
from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from app.common.clock import ManualClock
from tests.inprocess import InProcessServer
from tests.support import Client, LiveServer, expect_error, expect_ok, fire

ANSWER = "ABCD"                     # CAPTCHA_TEST_ANSWER of every server here
PASSWORD = "right_pass_1"
# Cheap password hashes keep hundreds of logins fast; nothing here depends on the hash's cost.
BASE = {"APP_DEBUG": 1, "CAPTCHA_TEST_ANSWER": ANSWER, "LOGIN_IP_LIMIT": 100000}
LOCK_STEPS = (2, 4)
VERSIONS = ("v1", "v2")
# /v1/login is the ThinkPHP document's, /v2/login/jwt/get the Hyperf document's; both are guarded.
PATHS = {"v1": "/v1/login", "v2": "/v2/login/jwt/get"}

# (v1, v2, HTTP): 60001/50006 fixed by the documents (SPEC §3), the others the catalog's own.
LOGIN_FAILED = (60001, 50006, 401)
CAPTCHA_REQUIRED = (60026, 50011, 400)
LOGIN_THROTTLED = (60017, 9913, 429)
_numbers = itertools.count(1)


def start(tmp_path_factory: pytest.TempPathFactory, **settings: Any) -> LiveServer:
    return LiveServer(tmp_path_factory.mktemp("runtime"), workers=2, **{**BASE, **settings})


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start(tmp_path_factory, LOGIN_LOCK_STEPS=",".join(map(str, LOCK_STEPS)))
    yield live
    live.stop()


@pytest.fixture(scope="module")
def clocked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    """`server`'s settings in-process, on a clock the tests move past a lock's end."""
    app = InProcessServer(tmp_path_factory.mktemp("runtime-clocked"), clock=ManualClock(),
                          **{**BASE, "LOGIN_LOCK_STEPS": ",".join(map(str, LOCK_STEPS))})
    yield app
    app.stop()


def new_user(server: LiveServer | InProcessServer) -> dict[str, Any]:
    n = next(_numbers)
    account, phone = f"Locky{n}", f"1370000{n:04d}"
    return {"uid": server.create_user(account, phone, PASSWORD), "account": account, "phone": phone}


def new_captcha(client: Client) -> str:
    return expect_ok(client.post("/v2/captcha"), "v2")["captcha_id"]


def login(client: Client, version: str, identity: str, password: str, captcha: bool = True,
          path: str | None = None, headers: dict[str, str] | None = None) -> requests.Response:
    """One login; with `captcha`, a fresh captcha and its (known) answer go along, as an app sends them
    once asked (it is only checked when required)."""
    path = path or PATHS[version]
    params: dict[str, Any] = {"account": identity, "pwd": password} if path.endswith("/jwt/get") \
        else {"username": identity, "password": password}
    if captcha:
        params.update(captcha_id=new_captcha(client), captcha_code=ANSWER)
    return client.post(path, params, headers=headers)


def refused(response: requests.Response, version: str, identity: str) -> None:
    """The wrong-password answer (v2 names the account given, SPEC §3)."""
    message = expect_error(response, version, *LOGIN_FAILED)
    if version == "v2":
        assert message == f"用户 {identity} 未注册或者密码错误", message


def fail(client: Client, version: str, identity: str, times: int, password: str = "wrong_pass_1") -> requests.Response:
    response = None
    for _ in range(times):
        response = login(client, version, identity, password)
        refused(response, version, identity)
    return response


def same_answer(a: requests.Response, b: requests.Response) -> None:
    """Exactly the same answer: status, body, and the same set of headers with the same type."""
    assert a.status_code == b.status_code, (a.status_code, b.status_code)
    assert a.json() == b.json(), (a.text, b.text)
    assert a.content == b.content
    assert sorted(a.headers) == sorted(b.headers), (a.headers, b.headers)
    assert a.headers["content-type"] == b.headers["content-type"]
    assert "Retry-After" not in a.headers and "Retry-After" not in b.headers


def locked_for(client: Client, version: str, identity: str) -> None:
    """The account refuses its right password exactly as a wrong one, right now."""
    wrong = login(client, version, identity, "wrong_pass_9")
    right = login(client, version, identity, PASSWORD)
    refused(right, version, identity)
    same_answer(right, wrong)


def logs_in(client: Client, version: str, identity: str, captcha: bool = True) -> None:
    expect_ok(login(client, version, identity, PASSWORD, captcha=captcha), version)


# -- the threshold ------------------------------------------------------------------------------

@pytest.mark.parametrize("version", VERSIONS)
def test_five_failures_lock_and_the_right_password_gets_the_wrong_password_answer(
        server: LiveServer, client: Client, version: str) -> None:
    user = new_user(server)
    fifth = fail(client, version, user["account"], 5)
    right = login(client, version, user["account"], PASSWORD)
    refused(right, version, user["account"])
    same_answer(right, fifth)
    locked_for(client, version, user["account"])
    # The lock is the account's, not the address's: another account logs in at once.
    other = new_user(server)
    logs_in(client, version, other["account"])


@pytest.mark.parametrize("version", VERSIONS)
def test_four_failures_do_not_lock(server: LiveServer, client: Client, version: str) -> None:
    user = new_user(server)
    fail(client, version, user["account"], 4)
    logs_in(client, version, user["account"])


def test_locked_answer_is_the_same_on_both_login_endpoints(server: LiveServer, client: Client) -> None:
    """The lock is the account's: locked through /v1/login, refused through jwt/get and v2 login too."""
    user = new_user(server)
    fail(client, "v1", user["account"], 5)
    for version, path in (("v2", "/v2/login/jwt/get"), ("v2", "/v2/login"), ("v1", "/v1/login/jwt/get")):
        wrong = login(client, version, user["account"], "wrong_pass_9", path=path)
        right = login(client, version, user["account"], PASSWORD, path=path)
        refused(right, version, user["account"])
        same_answer(right, wrong)


def test_the_lock_follows_the_user_the_captcha_the_identity_typed(server: LiveServer, client: Client) -> None:
    """`FOO`, `foo` and the phone are one user: their failures lock it together (SPEC §10). The captcha
    follows what is typed: `FOO`, `foo` and `ｆｏｏ` are one identity, the phone another."""
    user = new_user(server)
    upper, lower, phone = user["account"].upper(), user["account"].lower(), user["phone"]
    wide = "".join(chr(ord(ch) + 0xFEE0) for ch in lower)  # full-width: NFKC folds it to `lower`
    for identity in (upper, lower, wide):
        refused(login(client, "v2", identity, "wrong_pass_1", captcha=False), "v2", identity)
    # Three failures of the account in three spellings: a captcha now, in a fourth spelling as well...
    expect_error(login(client, "v2", user["account"], PASSWORD, captcha=False), "v2", *CAPTCHA_REQUIRED)
    # ...but the phone has not failed yet: its first try is answered, not asked for a captcha.
    refused(login(client, "v2", phone, "wrong_pass_1", captcha=False), "v2", phone)
    refused(login(client, "v2", f"  {lower}  ", "wrong_pass_1"), "v2", f"  {lower}  ")
    # Five failures of the user, whatever it was called: locked under every name.
    for identity in (user["account"], upper, lower, phone):
        locked_for(client, "v2", identity)
    locked_for(client, "v1", phone)


def test_a_phone_tells_nothing_of_its_accounts_failures(server: LiveServer, client: Client) -> None:
    """Issue 12 item 9: three wrong passwords for carol made her phone's first try ask for a captcha,
    while an unknown phone's first try was answered: the phone told that it was carol's."""
    carol = new_user(server)
    fail(client, "v2", carol["account"], 3)
    stranger = f"1370009{next(_numbers):04d}"
    for version in VERSIONS:
        answers = [login(client, version, phone, "wrong_pass_1", captcha=False)
                   for phone in (carol["phone"], stranger)]
        for phone, response in zip((carol["phone"], stranger), answers, strict=True):
            refused(response, version, phone)


def test_unknown_accounts_are_counted_and_locked_alike(server: LiveServer, client: Client) -> None:
    """An unknown name gets the same captcha demand and lock a real one gets (nothing to tell them apart)."""
    ghost = f"Ghost{next(_numbers)}"
    for _ in range(3):
        refused(login(client, "v1", ghost, "wrong_pass_1", captcha=False), "v1", ghost)
    expect_error(login(client, "v1", ghost.lower(), "wrong_pass_1", captcha=False), "v1",
                 *CAPTCHA_REQUIRED)
    fail(client, "v1", ghost.upper(), 2)
    # Locked now, as a real account would be; its answer is still the wrong password's.
    refused(login(client, "v1", ghost, "wrong_pass_2"), "v1", ghost)


# -- the wait -----------------------------------------------------------------------------------

def test_lock_ends_after_its_step_grows_and_is_capped_and_success_resets(clocked: InProcessServer) -> None:
    """LOGIN_LOCK_STEPS=2,4: the first lock lasts 2 s, the second 4 s, the third 4 s again (the last
    step repeats); a success in between resets the failure count."""
    client = Client(clocked.url)
    account = new_user(clocked)["account"]
    for step in (LOCK_STEPS[0], LOCK_STEPS[1], LOCK_STEPS[1]):
        fail(client, "v1", account, 5)
        locked_for(client, "v1", account)
        waited = 0.0
        if step > LOCK_STEPS[0]:
            # Still locked after the first step's time: the lock grew.
            waited = LOCK_STEPS[0] + 0.5
            clocked.pass_time(waited, in_cache=True)
            locked_for(client, "v1", account)
        clocked.pass_time(step + 0.4 - waited, in_cache=True)
        logs_in(client, "v1", account)
        # The success reset the count: no captcha is asked for, and four failures do not lock.
        refused(login(client, "v1", account, "wrong_pass_1", captcha=False), "v1", account)
        refused(login(client, "v1", account, "wrong_pass_1", captcha=False), "v1", account)
        fail(client, "v1", account, 2)
        logs_in(client, "v1", account)


def test_failures_while_locked_do_not_extend_the_lock(clocked: InProcessServer) -> None:
    client = Client(clocked.url)
    account = new_user(clocked)["account"]
    fail(client, "v2", account, 5)
    # A few tries spread over the lock (not a flood: those count towards the hourly ceiling of 100).
    for _ in range(5):
        clocked.pass_time(0.3, in_cache=True)
        fail(client, "v2", account, 1)
    clocked.pass_time(LOCK_STEPS[0] + 0.4 - 5 * 0.3, in_cache=True)
    logs_in(client, "v2", account)


# -- no oracle ----------------------------------------------------------------------------------

def set_status(server: LiveServer, uid: int, status: int) -> None:
    """users.status straight in the database, as an operator would disable a user."""
    server.query("UPDATE users SET status = ? WHERE id = ?", status, uid)
    assert server.query("SELECT status FROM users WHERE id = ?", uid) == [(status,)]


@pytest.mark.parametrize("version, path", [("v1", "/v1/login"), ("v2", "/v2/login"),
                                           ("v2", "/v2/login/jwt/get"), ("v1", "/v1/login/jwt/get")])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_unknown_wrong_and_disabled_answer_alike(server: LiveServer, client: Client, version: str, path: str,
                                                 lang: str) -> None:
    """Same code, status, headers and body; v2's message names the account given in every case."""
    known, disabled = new_user(server), new_user(server)
    set_status(server, disabled["uid"], 0)
    headers = {"Accept-Language": "en" if lang == "en" else "zh-CN"}
    name = f"Nobody{next(_numbers)}"
    # Unknown account, wrong password, disabled user with its right password, disabled with a wrong one.
    cases = [(name, "wrong_pass_1"), (known["account"], "wrong_pass_1"),
             (disabled["account"], PASSWORD), (disabled["account"], "wrong_pass_1")]
    answers = [login(client, version, identity, password, captcha=False, path=path, headers=headers)
               for identity, password in cases]
    bodies = []
    for (identity, _), response in zip(cases, answers, strict=True):
        expect_error(response, version, *LOGIN_FAILED)
        body = response.json()
        if version == "v2":
            assert identity in body["msg"], body
            body["msg"] = body["msg"].replace(identity, "{account}")
        bodies.append(body)
        assert sorted(response.headers) == sorted(answers[0].headers)
    assert all(body == bodies[0] for body in bodies), bodies
    if version == "v1":
        assert len({r.content for r in answers}) == 1
    expected = {("v2", "zh"): "用户 {account} 未注册或者密码错误",
                ("v2", "en"): "User {account} is not registered or the password is wrong",
                ("v1", "zh"): "密码不正确", ("v1", "en"): "Wrong password"}[(version, lang)]
    assert bodies[0][("msg" if version == "v2" else "message")] == expected
    set_status(server, disabled["uid"], 1)
    logs_in(client, version, disabled["account"], captcha=False)


def test_locked_answers_like_unknown_account(server: LiveServer, client: Client) -> None:
    user = new_user(server)
    fail(client, "v1", user["account"], 5)
    locked = login(client, "v1", user["account"], PASSWORD)
    unknown = login(client, "v1", f"Nobody{next(_numbers)}", PASSWORD, captcha=False)
    same_answer(locked, unknown)


# -- 50 parallel failures over two workers -----------------------------------------------------

BURST = 50


@pytest.fixture(scope="module")
def burst(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """No captcha before 100 failures (so 50 can be fired at once honestly), the lock at exactly 50,
    and the per-address limit at 51 failures."""
    live = start(tmp_path_factory, LOGIN_CAPTCHA_AFTER=100, LOGIN_LOCK_AFTER=BURST, LOGIN_IP_LIMIT=BURST + 1,
                 LOGIN_LOCK_STEPS=600)
    yield live
    live.stop()




def test_fifty_parallel_failures_are_all_counted(burst: LiveServer) -> None:
    uid = burst.create_user("Target", "13911110000", PASSWORD)
    bystander = burst.create_user("Bystander", "13911110001", PASSWORD)
    jobs = [("/v1/login", {"username": "Target", "password": f"wrong_pass_{i}"}) for i in range(BURST)]
    answers = fire(burst.url, jobs)
    for response in answers:
        refused(response, "v1", "Target")
    assert len({r.content for r in answers}) == 1

    # Every one is in the audit log: 49 failures, and the 50th, which took the lock.
    rows = burst.query("SELECT outcome, ip FROM audit_log WHERE event = 'login' AND uid = ?", uid)
    assert Counter(outcome for outcome, _ in rows) == {"failed": BURST - 1, "locked": 1}, rows
    assert {ip for _, ip in rows} == {"127.0.0.1"}
    listed = burst.command("audit:list", "--user", "target", "--event", "login", "--limit", "100")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert len(lines) == BURST, listed.stdout
    assert all(f"uid={uid}" in line and ("failed" in line or "locked" in line) for line in lines), lines
    assert sum("locked" in line for line in lines) == 1

    client = Client(burst.url)
    # All 50 counted for the account: it is locked (LOGIN_LOCK_AFTER=50), its right password refused.
    right = client.post("/v1/login", {"username": "Target", "password": PASSWORD})
    refused(right, "v1", "Target")
    same_answer(right, answers[0])
    # That was the address's 51st failure (LOGIN_IP_LIMIT=51): all 50 counted there too, and now
    # the address is throttled, for every account.
    for identity in ("Target", "Bystander"):
        throttled = client.post("/v1/login", {"username": identity, "password": PASSWORD})
        expect_error(throttled, "v1", *LOGIN_THROTTLED)
    assert bystander != uid


def test_forty_nine_parallel_failures_do_not_lock(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The control: one failure fewer than the threshold, and the right password works."""
    live = start(tmp_path_factory, LOGIN_CAPTCHA_AFTER=100, LOGIN_LOCK_AFTER=BURST, LOGIN_LOCK_STEPS=600)
    try:
        live.create_user("Target", "13911110000", PASSWORD)
        answers = fire(live.url, [("/v2/login/jwt/get", {"account": "Target", "pwd": f"wrong_pass_{i}"})
                                  for i in range(BURST - 1)])
        for response in answers:
            refused(response, "v2", "Target")
        expect_ok(login(Client(live.url), "v2", "Target", PASSWORD, captcha=False), "v2")
    finally:
        live.stop()


# -- the hourly ceiling ---------------------------------------------------------------------------

def test_never_more_than_100_failures_per_account_per_hour(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Settings that never lock nor ask a captcha still stop an account at 100 failures in an hour."""
    live = start(tmp_path_factory, LOGIN_CAPTCHA_AFTER=1000, LOGIN_LOCK_AFTER=1000)
    try:
        live.create_user("Ceiling", "13911110002", PASSWORD)
        client = Client(live.url)
        jobs = [("/v1/login", {"username": "Ceiling", "password": f"wrong_pass_{i}"}) for i in range(99)]
        for chunk in (jobs[:50], jobs[50:]):
            for response in fire(live.url, chunk):
                refused(response, "v1", "Ceiling")
        logs_in(client, "v1", "Ceiling", captcha=False)          # 99 failures: not yet
        refused(login(client, "v1", "Ceiling", "wrong_pass_x", captcha=False), "v1", "Ceiling")  # the 100th
        wrong = login(client, "v1", "ceiling", "wrong_pass_y", captcha=False)
        right = login(client, "v1", "ceiling", PASSWORD, captcha=False)
        refused(right, "v1", "ceiling")
        same_answer(right, wrong)
    finally:
        live.stop()


# -- the window -----------------------------------------------------------------------------------

def test_failures_older_than_the_window_do_not_count(tmp_path_factory: pytest.TempPathFactory) -> None:
    app = InProcessServer(tmp_path_factory.mktemp("runtime-window"), clock=ManualClock(),
                          **{**BASE, "LOGIN_WINDOW": 3, "LOGIN_LOCK_STEPS": 600})
    try:
        app.create_user("Windowed", "13911110003", PASSWORD)
        app.create_user("Control", "13911110004", PASSWORD)
        client = Client(app.url)
        fail(client, "v1", "Windowed", 4)
        app.pass_time(3.5, in_cache=True)
        fail(client, "v1", "Windowed", 4)
        logs_in(client, "v1", "Windowed")
        # The control on the same server: five failures within the window lock.
        fail(client, "v1", "Control", 5)
        locked_for(client, "v1", "Control")
    finally:
        app.stop()


# -- parallel guesses and the thresholds ---------------------------------------------------------

REAL_HASH = {"PASSWORD_TIME_COST": 2, "PASSWORD_MEMORY_COST": 19456}   # production's cost: requests overlap

def test_parallel_guesses_get_no_more_verdicts_than_the_captcha_threshold(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    """Default thresholds (captcha after 3, lock after 5): 30 guesses fired at once at a fresh account
    without a captcha. Only 3 have their password checked; the others are asked for a captcha (each
    counter is taken before the password work, so a burst cannot pass a check before it is counted)."""
    live = start(tmp_path_factory, LOGIN_LOCK_STEPS=600, **REAL_HASH)
    try:
        uid = live.create_user("Guessed", "13911110005", PASSWORD)
        answers = fire(live.url, [("/v2/login/jwt/get", {"account": "Guessed", "pwd": f"wrong_pass_{i}"})
                                  for i in range(30)])
        codes = Counter(r.status_code for r in answers)
        assert codes == {401: 3, 400: 27}, codes
        for response in answers:
            if response.status_code == 400:
                expect_error(response, "v2", *CAPTCHA_REQUIRED)
        checked = live.query("SELECT outcome, COUNT(*) FROM audit_log WHERE event = 'login' AND uid = ? "
                             "GROUP BY outcome", uid)
        assert checked == [("failed", 3)], checked
        # The refused 27 were not counted as failures: three, so the account is not locked.
        expect_ok(login(Client(live.url), "v2", "Guessed", PASSWORD), "v2")
    finally:
        live.stop()


def test_parallel_guesses_never_pass_100_per_account_per_hour(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Settings that never lock nor ask for a captcha, 150 guesses fired at once: 100 are answered from
    their password ('failed' in the audit log), the other 50 get the lock's answer (the same answer)."""
    live = start(tmp_path_factory, LOGIN_CAPTCHA_AFTER=1000, LOGIN_LOCK_AFTER=1000, **REAL_HASH)
    try:
        uid = live.create_user("Flooded", "13911110006", PASSWORD)
        answers = fire(live.url, [("/v1/login", {"username": "Flooded", "password": f"wrong_pass_{i}"})
                                  for i in range(150)])
        for response in answers:
            refused(response, "v1", "Flooded")
        outcomes = dict(live.query("SELECT outcome, COUNT(*) FROM audit_log WHERE event = 'login' AND uid = ? "
                                   "GROUP BY outcome", uid))
        assert outcomes == {"failed": 100, "locked": 50}, outcomes
    finally:
        live.stop()
