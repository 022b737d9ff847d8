"""RSA password transport's cryptography (SPEC §13.2): key pairs, sealing at rest, opening a field.

Pure functions, no database: app/service/rsa_keys.py stores and picks the keys.
"""
from __future__ import annotations

import base64
import binascii
import os
import re

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

ALG = "RSA-OAEP-256"
KEY_BITS = 2048
PREFIX = "rsa:"
# What the password fields are called, in every route that takes one.
PASSWORD_FIELDS = ("password", "pwd", "old_password", "password_confirmation")
_OAEP = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
_KID = re.compile(r"^[0-9a-f]{16}$")
_B64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")


class FieldInvalid(Exception):
    """An encrypted field that does not open; its cause is deliberately not told apart."""


def new_pair() -> tuple[str, RSAPrivateKey]:
    """A fresh kid and a 2048-bit key pair (made in a worker thread: it takes tens of milliseconds)."""
    return os.urandom(8).hex(), rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)


def public_pem(key: RSAPrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def _sealing_key(secret: str) -> bytes:
    # A label of its own: the same JWT_SECRET signs tokens, and keys for two uses must differ.
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"login-api rsa-transport private keys v1").derive(secret.encode("utf-8"))


def seal(secret: str, kid: str, key: RSAPrivateKey) -> str:
    """The private key as base64 of nonce + AES-256-GCM ciphertext, bound to its kid."""
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    nonce = os.urandom(12)
    return base64.b64encode(nonce + AESGCM(_sealing_key(secret)).encrypt(nonce, der, kid.encode())).decode("ascii")


def unseal(secret: str, kid: str, sealed: str) -> RSAPrivateKey:
    """Raises cryptography's InvalidTag when the secret (or the row) is not the one it was sealed with."""
    raw = base64.b64decode(sealed)
    der = AESGCM(_sealing_key(secret)).decrypt(raw[:12], raw[12:], kid.encode())
    key = serialization.load_der_private_key(der, password=None)
    assert isinstance(key, RSAPrivateKey)
    return key


def parse(value: object) -> tuple[str, bytes] | None:
    """(kid, ciphertext) of `rsa:<kid>:<base64url>`, or None when it is not that shape."""
    if not isinstance(value, str) or not value.startswith(PREFIX):
        return None
    kid, sep, body = value[len(PREFIX):].partition(":")
    if not sep or not _KID.fullmatch(kid) or len(body) > 1024 or not _B64URL.fullmatch(body):
        return None
    try:
        return kid, base64.urlsafe_b64decode(body.rstrip("=") + "=" * (-len(body.rstrip("=")) % 4))
    except (binascii.Error, ValueError):
        return None


def decrypt(key: RSAPrivateKey, data: bytes) -> str:
    """The UTF-8 password inside `data`; FieldInvalid for any failure (OAEP's own check, UTF-8, a NUL)."""
    try:
        text = key.decrypt(data, _OAEP).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise FieldInvalid() from None
    return text


def encrypt_for(kid: str, public_key_pem: str, password: str) -> str:
    """The client's side, for tests and tools: `rsa:<kid>:<base64url>` of `password` under the key."""
    public = serialization.load_pem_public_key(public_key_pem.encode("ascii"))
    data = public.encrypt(password.encode("utf-8"), _OAEP)  # type: ignore[union-attr]
    return f"{PREFIX}{kid}:{base64.urlsafe_b64encode(data).rstrip(b'=').decode('ascii')}"
