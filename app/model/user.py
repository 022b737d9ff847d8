"""Users: an account name, a phone number (encrypted, found by its blind index) and a password hash."""
from __future__ import annotations

import unicodedata
from typing import Any

from peewee import AutoField, CharField, IntegerField, SmallIntegerField, TextField

from app.common import data_crypto
from app.model.base import BaseModel, now


class PhoneIndexField(CharField):
    """Holds a phone's keyed blind index (SPEC §13.3): compare it with a plain phone as before.

    Idempotent, so a value read back (already an index) can be written again unchanged."""

    def db_value(self, value: str | None) -> str | None:
        if value is None or data_crypto.is_index(value):
            return value
        return data_crypto.blind_index(value)


class EncryptedField(TextField):
    """Holds AES-256-GCM ciphertext; reads back the plain text."""

    def db_value(self, value: str | None) -> str | None:
        return None if value is None else data_crypto.encrypt(value)

    def python_value(self, value: str | None) -> str | None:
        return None if value is None else data_crypto.decrypt(value)


def account_key(account: str) -> str:
    """The spelling that makes accounts unique: `Foo`, `foo` and `ｆｏｏ` are one account (SPEC §10).

    NFKC, case folding, NFKC again: Unicode's NFKC_Casefold closure, since folding can undo
    a composition. Confusables across scripts (Cyrillic `а`) are not folded; see the validator.
    """
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", account.strip()).casefold()).strip()


class User(BaseModel):
    id = AutoField()
    account = CharField(max_length=64)
    # Unique index on the folded spelling; `account` keeps what the user typed.
    account_key = CharField(max_length=64, unique=True)
    # The column `phone` keeps its name and unique index but holds the blind index; the number
    # itself is in `phone_enc`, encrypted. save() keeps the two in step.
    phone_index = PhoneIndexField(column_name="phone", max_length=32, unique=True)
    phone = EncryptedField(column_name="phone_enc", null=True)
    password_hash = CharField(max_length=255)
    # 1 active, 0 disabled (a disabled user answers like a wrong password).
    status = SmallIntegerField(default=1)
    created_at = IntegerField(default=now)
    updated_at = IntegerField(default=now)

    class Meta:
        table_name = "users"

    def save(self, *args: Any, **kwargs: Any) -> int:
        if self.phone is not None:
            self.phone_index = self.phone
        return super().save(*args, **kwargs)

    @classmethod
    def find_by_identity(cls, identity: str) -> User | None:
        """The user whose account (any case or width) or phone is `identity`."""
        return cls.get_or_none((cls.account_key == account_key(identity)) | (cls.phone_index == identity.strip()))
