"""RSA password-transport key pairs (SPEC §13.2), shared by every worker and instance of one database."""
from __future__ import annotations

from peewee import CharField, IntegerField, TextField

from app.model.base import BaseModel


class RsaKey(BaseModel):
    # 1, 2, 3…: unique, so two workers making the next key at once insert one row, not two.
    generation = IntegerField(unique=True)
    kid = CharField(max_length=32, unique=True)
    public_pem = TextField()
    # The PKCS#8 private key sealed with AES-256-GCM under a key derived from JWT_SECRET: a copy of
    # the database alone does not decrypt passwords.
    sealed_private = TextField()
    created_at = IntegerField()

    class Meta:
        table_name = "rsa_key"
