"""Helpers of the QR login and member code tests (SPEC §12): tickets, scans, logins of the app."""
from __future__ import annotations

import base64
import io
from typing import Any

from tests.api.lifecycle import jwt_login, new_phone
from tests.conftest import Server
from tests.support import Client, expect_error, expect_ok

QR_TICKET_INVALID = (60034, 50020, 400)
QR_TICKET_STATE = (60035, 50021, 409)
MEMBER_CODE_INVALID = (60036, 50022, 400)
PERMISSION_DENIED = (60018, 9914, 403)


def app_user(server: Server, client: Client, admin: bool = False) -> dict[str, Any]:
    """A user logged in on the app (platform ios): its fields and `jwt`."""
    phone = new_phone("1390")
    user = {"account": f"qr{phone[-7:]}", "phone": phone, "password": "pass_1234"}
    user["uid"] = server.create_user(user["account"], phone, user["password"], admin=admin)
    user["jwt"] = jwt_login(client, user["account"], user["password"], platform="ios")["jwt"]
    return user


def create(client: Client, version: str = "v2", **params: Any) -> dict[str, Any]:
    return expect_ok(client.post(f"/{version}/qrlogin/create", params), version)


def poll(client: Client, ticket: dict[str, Any], version: str = "v2", **params: Any) -> Any:
    return client.post(f"/{version}/qrlogin/poll",
                       {"ticket": ticket["ticket"], "poll_secret": ticket["poll_secret"], **params})


def act(client: Client, action: str, ticket: dict[str, Any] | str, user: dict[str, Any], version: str = "v2") -> Any:
    """scan / confirm / cancel as the logged-in app of `user`."""
    value = ticket if isinstance(ticket, str) else ticket["ticket"]
    return client.post(f"/{version}/qrlogin/{action}", {"ticket": value}, token=user["jwt"])


def refused(response: Any, error: tuple[int, int, int], version: str | None = None) -> str:
    """The error `error` in the envelope of the version the request asked for."""
    asked = "v1" if "/v1/" in str(response.request.url) else "v2"  # requests: a str, httpx: a URL
    assert version in (None, asked), (version, asked)
    return expect_error(response, asked, *error)


def png_size(data_url: str) -> tuple[int, int]:
    """The pixel size of a PNG data URL (and that it is one)."""
    from PIL import Image

    prefix = "data:image/png;base64,"
    assert data_url.startswith(prefix), data_url[:40]
    with Image.open(io.BytesIO(base64.b64decode(data_url[len(prefix):]))) as image:
        assert image.format == "PNG"
        return image.size


def login_by_qr(client: Client, user: dict[str, Any]) -> dict[str, Any]:
    """The whole dance: create, scan, confirm, poll → the poll's data (with the tokens)."""
    ticket = create(client)
    expect_ok(act(client, "scan", ticket, user), "v2")
    expect_ok(act(client, "confirm", ticket, user), "v2")
    return expect_ok(poll(client, ticket), "v2")
