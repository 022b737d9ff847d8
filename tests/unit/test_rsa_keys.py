"""The RSA password-transport key store (SPEC §13.2): one key per generation however many workers race,
private keys sealed at rest, retirement a day after the successor, one failure for every bad value."""
from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest
from cryptography.exceptions import InvalidTag

from app.common import rsa_transport as rt
from app.model.base import db
from app.model.rsa_key import RsaKey
from app.service.rsa_keys import OVERLAP, RsaKeyStore
from tests.support import JWT_SECRET

# A fresh migrated database of TEST_BACKEND, as the account-key tests make it.
from tests.unit.test_account_key import database  # noqa: F401

TTL = 604800


def store(secret: str = JWT_SECRET) -> RsaKeyStore:
    return RsaKeyStore(SimpleNamespace(JWT_SECRET=secret, RSA_KEY_TTL=TTL), audit=None)


def test_racing_workers_make_one_key(database: None) -> None:
    stores = [store() for _ in range(4)]
    barrier = threading.Barrier(len(stores))
    results: list[tuple[str, bool]] = []

    def first_use(s: RsaKeyStore) -> None:
        barrier.wait(10)
        with db.connection_context():
            row, made = s._current_row()
        results.append((row.kid, made))

    threads = [threading.Thread(target=first_use, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len({kid for kid, _ in results}) == 1 and len(results) == 4
    assert sum(made for _, made in results) == 1
    assert RsaKey.select().count() == 1


def test_a_key_made_by_one_store_decrypts_in_another(database: None) -> None:
    row, _ = store()._current_row()
    value = rt.encrypt_for(row.kid, row.public_pem, "pässword_1")
    assert store()._open(value) == "pässword_1"


def test_the_private_key_is_sealed_and_bound_to_its_kid(database: None) -> None:
    row, _ = store()._current_row()
    with pytest.raises(InvalidTag):
        rt.unseal(JWT_SECRET, "0" * 16, row.sealed_private)
    with pytest.raises(InvalidTag):
        rt.unseal("another-secret-0123456789abcdef0123456789", row.kid, row.sealed_private)
    # A store with another JWT_SECRET cannot use the key: the field is invalid, not a crash.
    value = rt.encrypt_for(row.kid, row.public_pem, "secret_123")
    other = store("another-secret-0123456789abcdef0123456789")
    with pytest.raises(rt.FieldInvalid):
        other._open(value)
    # Asked for the key, that store makes one it can use rather than publish one it cannot.
    replacement, made = other._current_row()
    assert made and replacement.generation == row.generation + 1
    assert other._open(rt.encrypt_for(replacement.kid, replacement.public_pem, "secret_123")) == "secret_123"


def test_rotation_and_retirement(database: None) -> None:
    s = store()
    first, _ = s._current_row()
    assert s._current_row()[0].kid == first.kid  # still current: no new key
    old_value = rt.encrypt_for(first.kid, first.public_pem, "secret_123")
    RsaKey.update(created_at=RsaKey.created_at - TTL).execute()
    second, made = s._current_row()
    assert made and second.generation == first.generation + 1
    assert s._open(old_value) == "secret_123"
    RsaKey.update(created_at=RsaKey.created_at - OVERLAP).where(RsaKey.kid == second.kid).execute()
    with pytest.raises(rt.FieldInvalid):
        s._open(old_value)
    assert s._open(rt.encrypt_for(second.kid, second.public_pem, "secret_123")) == "secret_123"
    assert second.created_at - OVERLAP <= time.time()


@pytest.mark.parametrize("value", [
    "plain", "rsa:", "rsa:zz:AAAA", "rsa:0123456789abcdef", "rsa:0123456789ABCDEF:AAAA",
    "rsa:0123456789abcdef:AA AA", "rsa:0123456789abcdef:" + "A" * 2000, 12345,
])
def test_malformed_values_do_not_parse(value: object) -> None:
    assert rt.parse(value) is None


def test_every_bad_value_is_field_invalid(database: None) -> None:
    s = store()
    row, _ = s._current_row()
    good = rt.parse(rt.encrypt_for(row.kid, row.public_pem, "secret_123"))[1]
    import base64

    def value(kid: str, data: bytes) -> str:
        return f"rsa:{kid}:{base64.urlsafe_b64encode(data).decode()}"
    for bad in (value("0123456789abcdef", good), value(row.kid, good[:-1]), value(row.kid, good[:-1] + b"\0"),
                value(row.kid, bytes(256)), "rsa:nonsense"):
        with pytest.raises(rt.FieldInvalid):
            s._open(bad)
