"""Adding tokens to a session that may be ending at the same moment, and capping its access tokens.

A refresh racing the end of its session (password change, session/end, deactivate) must never
leave a live token behind in an ended session. Both sides touch the session row first: the
ending side updates it (revoked_at), the adding side updates it too before it looks, so on
MySQL and PostgreSQL the row lock puts one strictly after the other, and SQLite's single
writer does the same. Whichever comes second sees the first's result.
"""
from __future__ import annotations

from app.common.token.driver import IssuedToken
from app.model.session import Session
from app.model.token import Token


def lock_session(sid: str) -> None:
    """Inside a write transaction: take session `sid`'s row lock with a no-op write (a SELECT takes none).

    Everything that changes a session's tokens takes this lock first, so no two of them deadlock.
    """
    Session.update(expire_at=Session.expire_at).where(Session.id == sid).execute()


def store_in_live_session(sid: str, tokens: list[IssuedToken]) -> bool:
    """Inside a write transaction: add `tokens` to session `sid` if it is still live; whether it was."""
    lock_session(sid)
    if not Session.select().where((Session.id == sid) & Session.revoked_at.is_null()).exists():
        return False
    for token in tokens:
        Token.create(token_key=token.key, kind=token.kind, uid=token.uid, sid=sid,
                     issued_at=token.issued_at, expire_at=token.expire_at)
    return True


def cap_access_tokens(sid: str, limit: int) -> int:
    """Revoke the oldest live access tokens of session `sid` beyond `limit` (REFRESH_LIMIT)."""
    live = [row.id for row in Token.select(Token.id)
            .where((Token.sid == sid) & (Token.kind == "access") & (Token.revoked == 0))
            .order_by(Token.id.desc())]
    surplus = live[limit:]
    if not surplus:
        return 0
    revoked: int = Token.update(revoked=1).where(Token.id.in_(surplus)).execute()  # rows changed
    return revoked
