"""Helpers of the account lifecycle tests (SPEC §11): SMS codes by scene, logins, sessions."""
from __future__ import annotations

from itertools import count
from typing import Any

from tests.conftest import Server
from tests.support import Client, expect_ok

# Per-address limits and the password hash's cost are not what these tests are about.
FAST = {"SMS_IP_LIMIT": 100000, "SMS_VERIFY_IP_LIMIT": 100000, "LOGIN_IP_LIMIT": 100000,
        "SMS_DAILY_LIMIT": 1000, "APP_DEBUG": 1}
_numbers = count(1)

# (v1, v2, HTTP) of the answers these tests meet; SPEC §11 fixes OLD_PASSWORD_WRONG's.
TOKEN_INVALID = (60010, 9908, 401)
LOGIN_FAILED = (60001, 50006, 401)
OLD_PASSWORD_WRONG = (60001, 50019, 400)
SMS_CODE_WRONG = (60022, 50003, 400)
PHONE_TAKEN = (60021, 50002, 400)
NOT_FOUND = (60027, 50010, 404)
STILL_VALID = (60025, 50017, 400)


def new_phone(prefix: str = "1370") -> str:
    """A phone number no other test of the process uses."""
    return f"{prefix}{next(_numbers):07d}"


def code_for(client: Client, phone: str, scene: str, token: str | None = None) -> str:
    """Send a code of `scene` to `phone` (the debug server answers it) and return it."""
    data = expect_ok(client.post("/login/send/sms", {"phone": phone, "scene": scene}, token=token), "v2")
    return data["code"]


def sms_login(client: Client, phone: str, version: str = "v2", **extra: Any) -> dict[str, Any]:
    """Log in (or sign up) by SMS: {jwt, refresh_jwt, uid, registered}."""
    code = code_for(client, phone, "login")
    return expect_ok(client.post(f"/{version}/login/sms", {"phone": phone, "code": code, **extra}), version)


def password_user(server: Server, client: Client, password: str = "pass_1234") -> dict[str, Any]:
    """A user with a password (made by the admin command) and a phone of its own."""
    phone = new_phone("1380")
    account = f"acct{phone[-7:]}"
    uid = server.create_user(account, phone, password)
    return {"uid": uid, "account": account, "phone": phone, "password": password}


def jwt_login(client: Client, account: str, password: str, **extra: Any) -> dict[str, str]:
    return expect_ok(client.post("/login/jwt/get", {"account": account, "pwd": password, **extra}), "v2")


def sessions(client: Client, token: str, version: str = "v2") -> list[dict[str, Any]]:
    return expect_ok(client.post(f"/{version}/session/list", token=token), version)["list"]
