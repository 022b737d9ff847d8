"""The RSA password-transport key store (SPEC §13.2): keys in the database, shared by every instance.

A key is current for RSA_KEY_TTL from its creation; the first request after that makes the next
generation. A key decrypts until a day after its successor appeared. Rows are read on every
decryption (two indexed lookups), so a key made or retired by another instance counts at once;
the unsealed private keys are kept per process, by kid (a kid's key never changes).
"""
from __future__ import annotations

import logging
from typing import Any

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from peewee import IntegrityError

from app.common import rsa_transport as rt
from app.common.clock import SYSTEM_CLOCK, Clock
from app.common.database import db_write
from app.model.base import db
from app.model.rsa_key import RsaKey
from config import Settings

log = logging.getLogger("login_api.rsa_keys")

# A key keeps decrypting this long after the next one appears (clients holding the old key).
OVERLAP = 86400


class RsaKeyStore:
    def __init__(self, settings: Settings, audit: Any, clock: Clock = SYSTEM_CLOCK):
        self.clock = clock
        self.secret = settings.JWT_SECRET
        self.ttl = settings.RSA_KEY_TTL
        self.audit = audit
        self._unsealed: dict[str, RSAPrivateKey] = {}

    async def publish(self) -> dict[str, Any]:
        """The current key as /crypto/key answers it, made (or rotated) here when due."""
        row, made = await db_write(self._current_row)
        if made:
            await self.audit.record("crypto_key", "created", detail=f"kid {row.kid}, generation {row.generation}")
        return {"kid": row.kid, "alg": rt.ALG, "public_key": row.public_pem, "expires_at": row.created_at + self.ttl}

    async def open_fields(self, values: dict[str, Any]) -> dict[str, str]:
        """Each `rsa:` value decrypted, in a worker thread (RSA decryption costs about a millisecond)."""
        return await db_write(self._open_all, values)

    def _current_row(self) -> tuple[RsaKey, bool]:
        """(the current key's row, whether this call made it). Race-safe: one row per generation."""
        latest = RsaKey.select().order_by(RsaKey.generation.desc()).first()
        # A current key this process cannot unseal (JWT_SECRET changed) would never decrypt: replace it.
        if latest is not None and latest.created_at + self.ttl > self.clock.now() and self._unseal(latest) is not None:
            return latest, False
        generation = latest.generation + 1 if latest else 1
        kid, key = rt.new_pair()
        try:
            with db.atomic():
                row = RsaKey.create(generation=generation, kid=kid, public_pem=rt.public_pem(key),
                                    sealed_private=rt.seal(self.secret, kid, key), created_at=self.clock.seconds())
        except IntegrityError:  # another worker or instance made this generation first: use theirs
            return RsaKey.get(RsaKey.generation == generation), False
        self._unsealed[kid] = key
        log.info("made RSA password-transport key %s (generation %d)", kid, generation)
        return row, True

    def _open_all(self, values: dict[str, Any]) -> dict[str, str]:
        return {name: self._open(value) for name, value in values.items()}

    def _open(self, value: Any) -> str:
        """The password inside `value`, or FieldInvalid. Every failure decrypts once with some key,
        so an unknown kid or a malformed value takes about as long as a bad ciphertext."""
        parsed = rt.parse(value)
        key = self._decrypting_key(parsed[0]) if parsed else None
        stand_in = key or self._any_key()
        if stand_in is None:
            raise rt.FieldInvalid()
        try:
            text = rt.decrypt(stand_in, parsed[1] if parsed else bytes(256))
        except rt.FieldInvalid:
            raise rt.FieldInvalid() from None
        if key is None:
            raise rt.FieldInvalid()
        return text

    def _decrypting_key(self, kid: str) -> RSAPrivateKey | None:
        row = RsaKey.select().where(RsaKey.kid == kid).first()
        if row is None:
            return None
        successor = RsaKey.select(RsaKey.created_at).where(RsaKey.generation == row.generation + 1).first()
        if successor is not None and self.clock.now() >= successor.created_at + OVERLAP:
            return None
        return self._unseal(row)

    def _any_key(self) -> RSAPrivateKey | None:
        if self._unsealed:
            return next(iter(self._unsealed.values()))
        row = RsaKey.select().order_by(RsaKey.generation.desc()).first()
        return self._unseal(row) if row is not None else None

    def _unseal(self, row: RsaKey) -> RSAPrivateKey | None:
        key = self._unsealed.get(row.kid)
        if key is None:
            try:
                key = self._unsealed[row.kid] = rt.unseal(self.secret, row.kid, row.sealed_private)
            except Exception:  # noqa: BLE001 - sealed under another JWT_SECRET: it cannot decrypt here
                log.warning("RSA key %s does not unseal with this JWT_SECRET", row.kid)
                return None
        return key
