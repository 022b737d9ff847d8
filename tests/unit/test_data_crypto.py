"""Phones at rest (SPEC §13.3): the cipher and the blind index under DATA_KEY."""
from __future__ import annotations

import base64

import pytest
from cryptography.exceptions import InvalidTag

from app.common.data_crypto import DataKeys, is_index

PHONE = "13912345678"


def test_a_phone_round_trips_and_never_shows() -> None:
    keys = DataKeys("key-one")
    first, second = keys.encrypt(PHONE), keys.encrypt(PHONE)
    assert first.startswith("v1:") and PHONE not in first
    assert first != second  # a fresh nonce each time: equal phones do not look equal
    assert keys.decrypt(first) == keys.decrypt(second) == PHONE


def test_a_tampered_value_or_another_key_is_refused() -> None:
    keys = DataKeys("key-one")
    raw = bytearray(base64.b64decode(keys.encrypt(PHONE)[3:]))
    raw[-1] ^= 1
    with pytest.raises(InvalidTag):
        keys.decrypt("v1:" + base64.b64encode(bytes(raw)).decode())
    with pytest.raises(InvalidTag):
        DataKeys("key-two").decrypt(keys.encrypt(PHONE))
    with pytest.raises(ValueError):
        keys.decrypt(PHONE)


def test_the_index_is_deterministic_keyed_and_recognised() -> None:
    one, two = DataKeys("key-one"), DataKeys("key-two")
    index = one.blind_index(PHONE)
    assert index == one.blind_index(f" {PHONE} ") and is_index(index) and len(index) == 32
    assert index != two.blind_index(PHONE) and index != one.blind_index("13912345679")
    assert not is_index(PHONE) and not is_index(f"deleted:{12}")


def test_an_empty_key_is_refused() -> None:
    with pytest.raises(ValueError):
        DataKeys("")
