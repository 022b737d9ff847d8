"""SMS codes: stored as a keyed hash, with their expiry and the wrong tries they have had."""
from __future__ import annotations

from peewee import SQL, AutoField, CharField, IntegerField, SmallIntegerField

from app.model.base import BaseModel, now
from app.model.user import PhoneIndexField


class SmsCode(BaseModel):
    id = AutoField()
    # The phone's blind index (SPEC §13.3): lookups and inserts pass the plain phone, hashed on the way.
    phone = PhoneIndexField(max_length=32)
    # register, login, reset or change_phone: a code is good only for its own scene (SPEC §11).
    scene = CharField(max_length=16, default="register", constraints=[SQL("DEFAULT 'register'")])
    # HMAC-SHA256 of phone and code under a server key: a leaked table does not give the codes.
    code_hash = CharField(max_length=64)
    created_at = IntegerField(default=now, index=True)
    expire_at = IntegerField(index=True)
    attempts = SmallIntegerField(default=0)
    # Set when the code registered a user, or was burned by too many wrong tries.
    used_at = IntegerField(null=True)

    class Meta:
        table_name = "sms_code"
        indexes = ((("phone", "expire_at"), False),)
