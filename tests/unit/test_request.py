"""ApiRequest.identity: the logged-in user for actions behind checkLogin, or checkLogin's own answer."""
from __future__ import annotations

import pytest

from app.common.auth import Identity
from app.common.error import ApiException
from app.request import NO_TOKEN, ApiRequest


def test_identity_is_the_user_checklogin_set() -> None:
    request = ApiRequest({"type": "http", "headers": []}, "v1", "/v1/test")
    request.user = Identity(uid=7, account="alice", phone="13800000000", sid="s", kind="access",
                            expire_at=0, role_ids=[])
    assert request.identity is request.user


def test_identity_without_a_login_answers_as_checklogin_does() -> None:
    request = ApiRequest({"type": "http", "headers": []}, "v1", "/v1/test")
    with pytest.raises(ApiException) as caught:
        request.identity  # noqa: B018 - the property is what is tested
    assert caught.value.answer.name == "TOKEN_INVALID"
    assert caught.value.fields == {"reason": NO_TOKEN}
