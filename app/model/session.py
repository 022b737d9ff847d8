"""Login sessions: one per login, holding its tokens, so ending it ends them all."""
from __future__ import annotations

from peewee import SQL, CharField, IntegerField

from app.model.base import BaseModel, now


class Session(BaseModel):
    # 32 random hex digits; travels in JWTs as `sid`.
    id = CharField(max_length=32, primary_key=True)
    uid = IntegerField(index=True)
    created_at = IntegerField(default=now)
    expire_at = IntegerField(index=True)
    revoked_at = IntegerField(null=True)
    # The face of the session (SPEC §11), as its owner sees it in session/list.
    # A database default too: rows written by the previous version (no such column) during an upgrade.
    platform = CharField(max_length=8, default="other", constraints=[SQL("DEFAULT 'other'")])
    device = CharField(max_length=64, null=True)
    ip = CharField(max_length=64, null=True)
    user_agent = CharField(max_length=255, null=True)
    # Written at most once a minute per session (app/service/session.py), never on the hot path.
    last_seen_at = IntegerField(null=True)

    class Meta:
        table_name = "auth_session"
