"""The request signature (SPEC §4) against the shared worked examples and its own rules."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from app.common.sign import canonical_string, make_sign, sign_matches
from tests.support import ROOT

VECTORS_PATH: Path = ROOT / "tests" / "data" / "sign-vectors.json"


def _vectors() -> list[Any]:
    vectors = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))
    return [pytest.param(v, id=f"vector{i}") for i, v in enumerate(vectors)]


@pytest.mark.parametrize("vector", _vectors())
def test_vector_canonical_string(vector: dict[str, Any]) -> None:
    assert canonical_string(vector["params"], vector["secret"]) == vector["canonical"]


@pytest.mark.parametrize("vector", _vectors())
def test_vector_sign(vector: dict[str, Any]) -> None:
    # The file agrees with itself: its sign is the md5 of its canonical string's UTF-8 bytes.
    assert hashlib.md5(vector["canonical"].encode("utf-8")).hexdigest() == vector["sign"]
    assert make_sign(vector["params"], vector["secret"]) == vector["sign"]


@pytest.mark.parametrize("vector", _vectors())
def test_vector_sign_matches_in_any_case(vector: dict[str, Any]) -> None:
    params, secret, sign = vector["params"], vector["secret"], vector["sign"]
    assert sign_matches(params, secret, sign)
    assert sign_matches(params, secret, sign.upper())
    assert sign_matches(params, secret, f" {sign} ")
    assert not sign_matches(params, secret + "x", sign)
    assert not sign_matches(params, secret, sign[:-1] + ("0" if sign[-1] != "0" else "1"))


def test_sign_null_and_empty_values_are_left_out() -> None:
    bare = {"phone": "13911119999", "timestamp": 1700000000}
    noisy = {**bare, "sign": "anything", "empty": "", "nothing": None}
    assert canonical_string(noisy, "k") == canonical_string(bare, "k") == "phone=13911119999&timestamp=1700000000&key=k"
    assert make_sign(noisy, "k") == make_sign(bare, "k")


def test_zero_and_false_are_signed_not_dropped() -> None:
    assert canonical_string({"a": 0, "b": False, "c": "0"}, "k") == "a=0&b=false&c=0&key=k"


@pytest.mark.parametrize("value, text", [
    ("小明 & co", "小明 & co"),          # strings as they are, not URL-encoded
    ("a=b&c", "a=b&c"),
    (42, "42"),
    (-7, "-7"),
    (1.5, "1.5"),
    (True, "true"),
    (False, "false"),
    ([3, 1, {"z": 1, "y": "中"}], '[3,1,{"y":"中","z":1}]'),
    ({"b": [], "a": {}}, '{"a":{},"b":[]}'),
    ([None, ""], '[null,""]'),
])
def test_values_are_written_as_the_spec_says(value: Any, text: str) -> None:
    assert canonical_string({"v": value}, "s") == f"v={text}&key=s"


def test_names_sort_by_code_point() -> None:
    params = {"b": "1", "B": "2", "a_b": "3", "a": "4", "中": "5", "Z": "6"}
    assert canonical_string(params, "k") == "B=2&Z=6&a=4&a_b=3&b=1&中=5&key=k"


def test_sign_is_32_lowercase_hex_md5_of_utf8() -> None:
    sign = make_sign({"nick": "中文"}, "密钥")
    assert sign == hashlib.md5("nick=中文&key=密钥".encode()).hexdigest()
    assert len(sign) == 32 and sign == sign.lower()


@pytest.mark.parametrize("given", ["", "not-hex", "é" * 32, "0" * 31, "0" * 33])
def test_malformed_signs_do_not_match_and_do_not_raise(given: str) -> None:
    assert sign_matches({"a": "1"}, "k", given) is False


# -- the replay key (SPEC §10): read from the signed text, so a rearranged request shares it ---------

def test_rearranged_parameters_that_sign_alike_share_one_replay_key() -> None:
    from app.common.sign import replay_key, signed_text

    original = {"lang": "en", "nonce": "abcdefgh12", "timestamp": 1700000000, "appid": "ios"}
    folded = {"lang": "en&nonce=abcdefgh12", "timestamp": 1700000000, "appid": "ios"}
    sign = make_sign(original, "k")
    assert make_sign(folded, "k") == sign
    first, second = signed_text(original, "k", sign), signed_text(folded, "k", sign.upper())
    assert first is not None and first == second
    assert replay_key(*first) == replay_key(*second) == "nonce:ios:abcdefgh12"


def test_replay_key_without_a_nonce_is_the_lower_case_sign() -> None:
    from app.common.sign import replay_key, signed_text

    params = {"a": "1", "timestamp": 1700000000}
    signed = signed_text(params, "k", make_sign(params, "k").upper())
    assert signed is not None and replay_key(*signed) == f"sign:{make_sign(params, 'k')}"


@pytest.mark.parametrize("params, key", [
    ({"nonce": "A-b_0123", "t": 1}, "nonce::A-b_0123"),              # the first parameter
    ({"a": "1", "nonce": "x" * 64}, "nonce::" + "x" * 64),          # the last before &key=
    ({"a": "x&nonce=short", "t": 1}, None),                         # no nonce: too short to be one
    ({"appid": "", "nonce": "abcdefgh"}, "nonce::abcdefgh"),        # an empty appid is not signed
    ({"a": "1&appid=web", "appid": "ios", "nonce": "abcdefgh"}, "nonce:web:abcdefgh"),  # the text decides
])
def test_replay_key_reads_the_first_nonce_and_appid_of_the_text(params: dict[str, Any], key: str | None) -> None:
    from app.common.sign import replay_key, signed_text

    signed = signed_text(params, "k", make_sign(params, "k"))
    assert signed is not None
    assert replay_key(*signed) == (key or f"sign:{signed[1]}")


def test_signed_text_refuses_a_wrong_sign() -> None:
    from app.common.sign import signed_text

    assert signed_text({"a": "1"}, "k", "0" * 32) is None
    assert signed_text({"a": "1"}, "k", "中文") is None
