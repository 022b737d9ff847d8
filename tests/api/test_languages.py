"""Messages in Chinese and English: every catalog entry has both, and a live server answers in the
language the client asks for (Accept-Language, or a `lang` parameter as ThinkPHP does); Chinese by default."""
from __future__ import annotations

import re
import string

import pytest

from app.common.error import CATALOG
from tests.conftest import Server
from tests.support import Client, expect_error

_FORMATTER = string.Formatter()


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in _FORMATTER.parse(text) if name}


@pytest.mark.parametrize("entry", CATALOG, ids=lambda a: a.name)
def test_every_catalog_entry_has_zh_and_en(entry) -> None:  # type: ignore[no-untyped-def]
    assert entry.zh.strip() and entry.en.strip()
    assert (entry.v2_zh is None) == (entry.v2_en is None)
    if entry.v2_zh is not None:
        assert entry.v2_zh.strip() and entry.v2_en.strip()
        assert _placeholders(entry.v2_zh) <= _placeholders(entry.v2_en)
    # what the Chinese fills in, the English fills in too (the English may say more: 参数获取失败 is fixed by the seed)
    assert _placeholders(entry.zh) <= _placeholders(entry.en)
    # the English text is English: no CJK characters in it
    for text in (entry.en, entry.v2_en or ""):
        assert not re.search(r"[\u4e00-\u9fff]", text), text


@pytest.mark.parametrize("version", ["v1", "v2"])
@pytest.mark.parametrize("headers, params, expected", [
    ({}, {}, "签名错误"),
    ({"Accept-Language": "en"}, {}, "Wrong signature"),
    ({"Accept-Language": "en-US,en;q=0.9"}, {}, "Wrong signature"),
    ({"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}, {}, "签名错误"),
    ({}, {"lang": "en"}, "Wrong signature"),
    ({}, {"lang": "en-us"}, "Wrong signature"),
    ({"Accept-Language": "en"}, {"lang": "zh-cn"}, "签名错误"),
])
def test_live_answer_in_the_asked_language(client: Client, version: str, headers: dict, params: dict,
                                           expected: str) -> None:
    response = client.post(f"/{version}/login", {"username": "Foo", "password": "x", **params},
                           headers={**headers, "sign": "0" * 32})
    assert expect_error(response, version, 60007, 9907, 401) == expected


@pytest.mark.parametrize("version, expected", [
    ("v1", "phone is not a valid mobile number"),
    ("v2", "Data validation failed: phone is not a valid mobile number"),
])
def test_validation_reasons_in_english(server: Server, version: str, expected: str) -> None:
    response = Client(server.url).post(f"/{version}/login/send/sms", {"phone": "12", "lang": "en"})
    assert expect_error(response, version, 60000, 9906, 400) == expected
    chinese = Client(server.url).post(f"/{version}/login/send/sms", {"phone": "12"})
    assert re.search(r"[\u4e00-\u9fff]", expect_error(chinese, version, 60000, 9906, 400))
