"""Login sessions: one per login, holding its tokens, so ending it ends them all."""
from __future__ import annotations

from peewee import CharField, IntegerField

from app.model.base import BaseModel, now


class Session(BaseModel):
    # 32 random hex digits; travels in JWTs as `sid`.
    id = CharField(max_length=32, primary_key=True)
    uid = IntegerField(index=True)
    created_at = IntegerField(default=now)
    expire_at = IntegerField(index=True)
    revoked_at = IntegerField(null=True)

    class Meta:
        table_name = "auth_session"
