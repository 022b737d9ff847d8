"""Phone numbers at rest (SPEC §13.3): AES-256-GCM ciphertexts and a keyed blind index.

Each app has its own keys (app/common/app_state.py), made by server.boot() before the migrations
run: peewee's field converters (db_value, python_value) are called with a bare value, so these
functions use the current app's.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
import re

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.common.app_state import current

PREFIX = "v1:"
_INDEX = re.compile(r"[0-9a-f]{32}")


class DataKeys:
    """The cipher and the index key derived from one DATA_KEY, under distinct labels."""

    def __init__(self, data_key: str):
        if not data_key:
            raise ValueError("DATA_KEY is empty")
        self.aead = AESGCM(_derive(data_key, b"login-api phone aes-256-gcm"))
        self.index_key = _derive(data_key, b"login-api phone blind index")
        # decrypt() for the token check's hot path: a ciphertext never changes its plain text, so
        # each is decrypted once per set of keys.
        self.cached_decrypt = functools.lru_cache(maxsize=65536)(self.decrypt)

    def encrypt(self, text: str) -> str:
        nonce = os.urandom(12)
        return PREFIX + base64.b64encode(nonce + self.aead.encrypt(nonce, text.encode("utf-8"), None)).decode("ascii")

    def decrypt(self, stored: str) -> str:
        if not stored.startswith(PREFIX):
            raise ValueError("not an encrypted value")
        raw = base64.b64decode(stored[len(PREFIX):])
        return self.aead.decrypt(raw[:12], raw[12:], None).decode("utf-8")

    def blind_index(self, phone: str) -> str:
        return hmac.new(self.index_key, phone.strip().encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def _derive(data_key: str, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(data_key.encode("utf-8"))


def keys() -> DataKeys:
    """The current app's keys."""
    data_keys = current().data_keys
    if data_keys is None:
        raise RuntimeError("no DATA_KEY here: call server.boot() first")
    return data_keys


def encrypt(text: str) -> str:
    return keys().encrypt(text)


def decrypt(stored: str) -> str:
    """The plain text; cryptography's InvalidTag when the value was altered or made under another key."""
    return keys().decrypt(stored)


def blind_index(phone: str) -> str:
    """32 lowercase hex (HMAC-SHA256 truncated to 128 bits): equal phones, equal indexes; no phone back."""
    return keys().blind_index(phone)


def is_index(value: str) -> bool:
    """Whether `value` is already an index: a phone is never 32 hex digits."""
    return _INDEX.fullmatch(value) is not None


def cached_decrypt(stored: str) -> str:
    """decrypt(), each ciphertext once per app's keys (the token check's hot path)."""
    return keys().cached_decrypt(stored)
