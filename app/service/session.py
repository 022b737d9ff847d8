"""Login sessions with a face (SPEC §11): platform, device, address, User-Agent, last seen; list and end them.

Ending a session revokes its token rows, and every request checks its token's row, so an ended
session fails at once in every worker and instance.
"""
from __future__ import annotations

import asyncio
import builtins  # for annotations in SessionService, whose method `list` hides the builtin there
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from peewee import fn

from app.common.clock import SYSTEM_CLOCK, Clock, format_time
from app.common.database import db_read, db_write, write_transaction
from app.common.error import ApiException
from app.model.session import Session
from app.model.token import Token
from app.service.audit import Audit
from config import Settings

log = logging.getLogger("login_api.session")

PLATFORMS = ("ios", "android", "web", "mini", "other")
# last_seen_at moves at most this often per session: a write per request would cost more than the request.
SEEN_EVERY = 60
# The in-process memory of recent touches is dropped whole past this size (it is only a first gate).
_SEEN_MEMORY = 10000


@dataclass(frozen=True)
class SessionMeta:
    """What a login records about the client it opens a session for."""

    platform: str = "other"
    device: str | None = None
    ip: str | None = None
    user_agent: str | None = None


def live_sessions(uid: int, now: int) -> Any:
    """The user's sessions that have not ended or expired at `now`."""
    return Session.select().where((Session.uid == uid) & Session.revoked_at.is_null()
                                  & (Session.expire_at > now))


def end_sessions_sync(uid: int, now: int, *, keep: str | None = None, platform: str | None = None,
                      only: str | None = None) -> int:
    """Inside or outside a transaction: end the user's live sessions (but `keep`; of `platform`; only `only`)."""
    query = Session.select(Session.id).where((Session.uid == uid) & Session.revoked_at.is_null()
                                             & (Session.expire_at > now))
    if keep is not None:
        query = query.where(Session.id != keep)
    if platform is not None:
        query = query.where(Session.platform == platform)
    if only is not None:
        query = query.where(Session.id == only)
    # In id order, so two transactions ending the same sessions lock them in the same order.
    sids = [row.id for row in query.order_by(Session.id)]
    for sid in sids:
        Token.end_session(sid, now)
    return len(sids)


def apply_policy_sync(policy: str, uid: int, platform: str, now: int) -> int:
    """SESSION_POLICY at a new login: `single` ends every other session, `per_platform` those of its platform."""
    if policy == "single":
        return end_sessions_sync(uid, now)
    if policy == "per_platform":
        return end_sessions_sync(uid, now, platform=platform)
    return 0


class SessionService:
    def __init__(self, settings: Settings, cache: Any, audit: Audit, clock: Clock = SYSTEM_CLOCK):
        self.settings = settings
        self.clock = clock
        self.cache = cache
        self.audit = audit
        self._seen: dict[str, float] = {}
        self._writes: set[asyncio.Task[None]] = set()

    def touch(self, sid: str) -> None:
        """Note that `sid` was used now: at most one write a minute per session, off the request's path.

        Gated first in this process (no I/O at all on most requests), then across workers by an
        atomic add in the shared cache; the write itself runs as a task the request does not wait for.
        """
        now = time.monotonic()
        last = self._seen.get(sid)
        if last is not None and now - last < SEEN_EVERY:
            return
        if len(self._seen) >= _SEEN_MEMORY:
            self._seen.clear()
        self._seen[sid] = now
        task = asyncio.get_running_loop().create_task(self._write_seen(sid))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def _write_seen(self, sid: str) -> None:
        try:
            if await self.cache.add(f"seen:{sid}", "1", SEEN_EVERY):
                when = self.clock.seconds()
                await db_write(lambda: Session.update(last_seen_at=when).where(Session.id == sid).execute())
        except Exception:  # noqa: BLE001 - a missed last-seen is not worth failing or logging loudly
            log.debug("could not record last_seen_at of a session", exc_info=True)

    async def list(self, uid: int, current: str) -> builtins.list[dict[str, Any]]:
        """The user's live sessions, newest first; `current` marks the one asking."""
        rows = await db_read(self._newest_first, uid, self.clock.seconds())
        zone = self.settings.APP_TIMEZONE
        return [{"sid": row.id, "current": row.id == current, "platform": row.platform, "device": row.device,
                 "ip": row.ip, "user_agent": row.user_agent, "created_at": format_time(row.created_at, zone),
                 "last_seen_at": format_time(row.last_seen_at or row.created_at, zone)} for row in rows]

    @staticmethod
    def _newest_first(uid: int, now: int) -> builtins.list[Session]:
        rows = list(live_sessions(uid, now))
        # Sessions opened within one second are ordered by their first token's row id (insertion order).
        first_token: dict[str, int] = {}
        if rows:
            # peewee's stubs give .tuples() the model query's type; it yields (sid, first id) pairs.
            pairs = cast("Iterable[tuple[str, int]]", Token.select(Token.sid, fn.MIN(Token.id))
                         .where(Token.sid.in_([r.id for r in rows])).group_by(Token.sid).tuples())
            first_token = dict(pairs)
        return sorted(rows, key=lambda r: (r.created_at, first_token.get(r.id, 0)), reverse=True)

    async def end(self, uid: int, current: str, sid: str | None, scope: str | None, ip: str) -> int:
        """End one of the user's sessions (`sid`), or `others`, or `all`; NOT_FOUND for a sid not theirs."""
        ended = await self._end(uid, current, sid, scope)
        await self.audit.record("session", "ended", uid=uid, ip=ip, detail=f"{scope or 'sid'}: {ended}")
        return ended

    async def _end(self, uid: int, current: str, sid: str | None, scope: str | None) -> int:
        now = self.clock.seconds()
        if sid is not None:
            def end_one() -> int:
                with write_transaction():
                    if not live_sessions(uid, now).where(Session.id == sid).exists():
                        return 0
                    return end_sessions_sync(uid, now, only=sid)
            ended = await db_write(end_one)
            if not ended:
                raise ApiException("NOT_FOUND")
            return ended

        def end_many() -> int:
            with write_transaction():
                return end_sessions_sync(uid, now, keep=current if scope == "others" else None)
        return await db_write(end_many)
