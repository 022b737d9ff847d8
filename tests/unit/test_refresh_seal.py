"""The sealed answer of a refresh rotation (app/service/refresh_rotation.py): only the old token opens it."""
from __future__ import annotations

import base64

from app.service.refresh_rotation import cache_key, seal, unseal

OLD = "eyJhbGciOiJIUzI1NiJ9.eyJ0eXBlIjoicmVmcmVzaCJ9.c2lnbmF0dXJl"
PAIR = b'{"jwt": "a.b.c", "refresh_jwt": "d.e.f"}' * 3


def test_the_old_token_opens_what_it_sealed() -> None:
    sealed = seal(OLD, PAIR)
    assert unseal(OLD, sealed) == PAIR
    assert b"a.b.c" not in base64.b64decode(sealed) and "a.b.c" not in sealed


def test_another_token_or_an_altered_seal_opens_nothing() -> None:
    sealed = seal(OLD, PAIR)
    assert unseal(OLD + "x", sealed) is None
    raw = bytearray(base64.b64decode(sealed))
    raw[20] ^= 1
    assert unseal(OLD, base64.b64encode(bytes(raw)).decode()) is None
    assert unseal(OLD, base64.b64encode(b"short").decode()) is None


def test_each_seal_is_fresh_and_the_key_names_no_token() -> None:
    assert seal(OLD, PAIR) != seal(OLD, PAIR)
    key = cache_key(OLD)
    assert key.startswith("rot:") and OLD not in key and key == cache_key(OLD) != cache_key(OLD + "x")
