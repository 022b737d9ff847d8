"""Issued tokens, keyed by a hash (md5 driver) or a `jti` (JWT driver), never stored in the clear."""
from __future__ import annotations

from peewee import AutoField, CharField, IntegerField, SmallIntegerField

from app.model.base import BaseModel, now


class Token(BaseModel):
    id = AutoField()
    # sha256 hex of an md5-driver token, or a JWT's jti: the unique key the hot path looks up.
    token_key = CharField(max_length=64, unique=True)
    # md5, access or refresh
    kind = CharField(max_length=8)
    uid = IntegerField(index=True)
    sid = CharField(max_length=32, index=True)
    issued_at = IntegerField(default=now)
    expire_at = IntegerField(index=True)
    revoked = SmallIntegerField(default=0)
    # Set when a refresh token was used up by rotation: presenting it again is then a reuse (SPEC §11).
    rotated_at = IntegerField(null=True)

    class Meta:
        table_name = "auth_token"

    @classmethod
    def end_session(cls, sid: str, when: int) -> int:
        """Revoke every token of session `sid`; the session row records when it ended."""
        from app.model.session import Session
        from app.service import events

        ended = Session.update(revoked_at=when).where((Session.id == sid) & Session.revoked_at.is_null()).execute()
        if ended and events.enabled():  # in the caller's transaction, as events.emit asks
            events.emit("session.ended", {"uid": Session.get_by_id(sid).uid, "sid": sid})
        revoked: int = cls.update(revoked=1).where((cls.sid == sid) & (cls.revoked == 0)).execute()  # rows changed
        return revoked
