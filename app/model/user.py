"""Users: an account name, a phone number and a password hash."""
from __future__ import annotations

import unicodedata

from peewee import AutoField, CharField, IntegerField, SmallIntegerField

from app.model.base import BaseModel, now


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
    phone = CharField(max_length=32, unique=True)
    password_hash = CharField(max_length=255)
    # 1 active, 0 disabled (a disabled user answers like a wrong password).
    status = SmallIntegerField(default=1)
    created_at = IntegerField(default=now)
    updated_at = IntegerField(default=now)

    class Meta:
        table_name = "users"

    @classmethod
    def find_by_identity(cls, identity: str) -> "User | None":
        """The user whose account (any case or width) or phone is `identity`."""
        return cls.get_or_none((cls.account_key == account_key(identity)) | (cls.phone == identity.strip()))
