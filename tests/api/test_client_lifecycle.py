"""The Python client's account lifecycle calls (client/lifecycle.py) against a live server."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from client import ApiError, LoginApiClient, Tokens
from tests.api.lifecycle import FAST, new_phone
from tests.conftest import serving
from tests.support import SIGN_SECRET, LiveServer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with serving(tmp_path_factory, "client-lifecycle", live=True, **FAST) as live:
        yield live


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_the_whole_life_of_an_account(server: LiveServer, version: str) -> None:
    api = LoginApiClient(server.url, SIGN_SECRET, version=version)
    phone = new_phone()
    data = api.login_sms(phone, api.send_code(phone, "login")["code"], platform="ios")
    assert data["registered"] is True and api.tokens.access == data["jwt"]
    api.change_password("client_pass_1")
    other = LoginApiClient(server.url, SIGN_SECRET, version=version)
    other.login(phone, "client_pass_1", platform="web")
    listed = api.sessions()
    assert [(s["platform"], s["current"]) for s in listed] == [("web", False), ("ios", True)]
    assert api.end_session(scope="others") == 1
    with pytest.raises(ApiError) as caught:
        other.me()
    assert caught.value.status == 401
    api.reset_password(phone, api.send_code(phone, "reset")["code"], "client_pass_2")
    api.login(phone, "client_pass_2")
    old = api.tokens.refresh
    assert api.rotate().refresh != old
    new = new_phone()
    assert api.change_phone(new, api.send_code(new, "change_phone")["code"], "client_pass_2")["phone"] == new
    api.delete_account(password="client_pass_2")
    assert api.tokens == Tokens()
