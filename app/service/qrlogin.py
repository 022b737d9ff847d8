"""QR-code login (SPEC §12): a web page shows a ticket as a QR code, the logged-in app scans and confirms it.

A ticket lives in the shared cache as two keys: `qrlogin:info:<ticket>`, written once at create
(the page's platform, address, User-Agent, creation time, expiry, and the poll secret's hash),
and `qrlogin:state:<ticket>`, the state machine

    pending → scanned(uid) → confirmed(uid) | cancelled(uid)      confirmed → used (handed over)

Every transition is one Cache.swap from the exact state text read, so among racing requests from
any worker or instance exactly one moves a ticket on: two confirms, one session; a confirm racing
a cancel, one winner. Past QR_LOGIN_TTL a pending or scanned ticket answers `expired`; both keys
are kept _AFTERLIFE seconds longer so the page is told so, then forgotten (QR_TICKET_INVALID).

The tokens are not issued at confirm: the poll that sees `confirmed` claims the ticket (swap to
`used`) and only the winner opens the session and answers its tokens. So no token is ever stored,
in clear or otherwise, in the shared cache; a photographed QR code is useless without the poll
secret, which only the page has (the server keeps its SHA-256); and SESSION_POLICY applies to
the session when it is opened. A page that never polls again leaves no session behind.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import math
import secrets
from typing import Any

import anyio.to_thread

from app.common.auth import Auth
from app.common.cache.database import DatabaseCache
from app.common.clock import SYSTEM_CLOCK, Clock, format_time
from app.common.code_image import qr_png
from app.common.database import db_read
from app.common.error import ApiException
from app.model.user import User
from app.service.cache_watch import CacheWatch
from app.service.session import SessionMeta
from config import Settings

PENDING, SCANNED, CONFIRMED, CANCELLED, USED = "pending", "scanned", "confirmed", "cancelled", "used"
# Seconds a ticket is remembered after its TTL: polls say `expired` (or hand over a late confirm).
_AFTERLIFE = 60
# The poll interval suggested to a page that does not long-poll.
INTERVAL = 2
# The cache's value column holds 255 characters (DatabaseCache): the User-Agent gives way.
_INFO_MAX = 255
_SWAP_TRIES = 5


def _state(name: str, uid: int | None = None, account: str | None = None) -> str:
    fields: dict[str, Any] = {"s": name}
    if uid is not None:
        fields.update(uid=uid, a=account)
    return json.dumps(fields, separators=(",", ":"))


def mask_account(account: str) -> str:
    """First and last character only: `Foo` → `F***o` (the length is not told either)."""
    if len(account) < 3:
        return account[:1] + "***"
    return f"{account[0]}***{account[-1]}"


def _secret_hash(poll_secret: str) -> str:
    return hashlib.sha256(poll_secret.encode("utf-8")).hexdigest()


def _info_text(info: dict[str, Any]) -> str:
    text = json.dumps(info, separators=(",", ":"))
    while len(text) > _INFO_MAX and info["ua"]:
        info["ua"] = info["ua"][:max(0, len(info["ua"]) - (len(text) - _INFO_MAX) - 8)]
        text = json.dumps(info, separators=(",", ":"))
    return text


class QrLoginService:
    def __init__(self, settings: Settings, cache: Any, audit: Any, clock: Clock = SYSTEM_CLOCK):
        self.settings = settings
        self.clock = clock
        self.cache = cache
        self.audit = audit
        # A database cache costs a query per watched ticket per tick; Redis and LMDB cost microseconds.
        self.watch = CacheWatch(cache, tick=1.0 if isinstance(cache, DatabaseCache) else 0.25)

    # -- the web page --------------------------------------------------------------------------

    async def create(self, platform: str, ip: str | None, user_agent: str | None) -> dict[str, Any]:
        """A new ticket: {ticket, poll_secret, content, qrcode, expires_in, interval}."""
        ticket, poll_secret = await self.open_ticket(platform, ip, user_agent)
        ttl = self.settings.QR_LOGIN_TTL
        url = self.settings.QR_LOGIN_URL
        content = f"{url}{'&' if '?' in url else '?'}ticket={ticket}"
        qrcode = await anyio.to_thread.run_sync(qr_png, content)
        await self.audit.record("qrlogin", "created", ip=ip, detail=platform)
        return {"ticket": ticket, "poll_secret": poll_secret, "content": content, "qrcode": qrcode,
                "expires_in": ttl, "interval": INTERVAL}

    async def open_ticket(self, platform: str, ip: str | None, user_agent: str | None) -> tuple[str, str]:
        """Write a new pending ticket into the shared cache: (ticket, poll_secret)."""
        # Hex, not base64url: a ticket starting with '-' reads as an option on a command line (qr-confirm).
        ticket, poll_secret = secrets.token_hex(24), secrets.token_urlsafe(32)
        now, ttl = self.clock.now(), self.settings.QR_LOGIN_TTL
        info = {"p": platform, "ip": ip, "ua": (user_agent or "")[:255], "at": int(now), "exp": round(now + ttl, 3),
                "h": _secret_hash(poll_secret)}
        await self.cache.set(f"qrlogin:info:{ticket}", _info_text(info), ttl + _AFTERLIFE)
        await self.cache.set(f"qrlogin:state:{ticket}", _state(PENDING), ttl + _AFTERLIFE)
        return ticket, poll_secret

    async def poll(self, ticket: str, poll_secret: str, wait: int) -> dict[str, Any]:
        """{state, expires_in}, waiting up to `wait` seconds for a change; `confirmed` hands the tokens over once."""
        info = await self._info(ticket)
        if not hmac.compare_digest(info["h"], _secret_hash(poll_secret)):
            raise ApiException("QR_TICKET_INVALID")
        key = f"qrlogin:state:{ticket}"
        text = await self.cache.get(key)
        if text is not None and json.loads(text)["s"] in (PENDING, SCANNED):
            # Until the state changes, the wait runs out, or the ticket's life does (then: expired;
            # a timer may fire a little early, hence the margin).
            text = await self.watch.changed(key, text, min(wait, info["exp"] - self.clock.now() + 0.05))
        if text is None:
            raise ApiException("QR_TICKET_INVALID")
        return await self._answer(ticket, info, text)

    async def _answer(self, ticket: str, info: dict[str, Any], text: str) -> dict[str, Any]:
        state = json.loads(text)
        expires_in = max(0, math.ceil(info["exp"] - self.clock.now()))
        name = state["s"]
        if name in (PENDING, SCANNED) and expires_in == 0:
            return {"state": "expired", "expires_in": 0}
        if name == PENDING or name == CANCELLED:
            return {"state": name, "expires_in": expires_in}
        if name == SCANNED:
            return {"state": name, "expires_in": expires_in, "account": state["a"]}
        if name != CONFIRMED or not await self._move(ticket, info, text, _state(USED, state["uid"], state["a"])):
            raise ApiException("QR_TICKET_INVALID")  # used up, by this poll's rival or before
        user = await db_read(lambda: User.get_or_none(User.id == state["uid"]))
        if user is None or user.status != 1:
            raise ApiException("QR_TICKET_INVALID")  # deleted or disabled since confirming
        meta = SessionMeta(platform=info["p"], ip=info["ip"] or None, user_agent=info["ua"] or None)
        result = await Auth.instance().login(user, "jwt", meta)
        assert result.refresh is not None  # the jwt driver issues one with every access token
        await self.audit.record("token", "issued", uid=user.id, ip=info["ip"], detail="qrlogin")
        return {"state": CONFIRMED, "expires_in": expires_in, "jwt": result.access.text,
                "refresh_jwt": result.refresh.text, "uid": user.id}

    # -- the app -------------------------------------------------------------------------------

    async def scan(self, ticket: str, uid: int, account: str, ip: str | None) -> dict[str, Any]:
        """Bind the ticket to the user; the page's {platform, ip, user_agent, created_at}."""
        info = await self._info(ticket)
        for _ in range(_SWAP_TRIES):
            text, state = await self._live_state(ticket, info)
            if state["s"] == SCANNED and state["uid"] == uid:
                break  # the same user scanning again
            if state["s"] != PENDING:
                raise ApiException("QR_TICKET_STATE")
            if await self._move(ticket, info, text, _state(SCANNED, uid, mask_account(account))):
                await self.audit.record("qrlogin", "scanned", uid=uid, ip=ip)
                break
        else:
            raise ApiException("QR_TICKET_STATE")
        return {"platform": info["p"], "ip": info["ip"], "user_agent": info["ua"] or None,
                "created_at": format_time(info["at"], self.settings.APP_TIMEZONE)}

    async def confirm(self, ticket: str, uid: int, ip: str | None) -> None:
        """scanned(uid) → confirmed: the page's next poll gets a session of this user."""
        await self._decide(ticket, uid, ip, CONFIRMED)

    async def cancel(self, ticket: str, uid: int, ip: str | None) -> None:
        """scanned(uid) → cancelled: the page is told, and no session is opened."""
        await self._decide(ticket, uid, ip, CANCELLED)

    async def _decide(self, ticket: str, uid: int, ip: str | None, outcome: str) -> None:
        info = await self._info(ticket)
        text, state = await self._live_state(ticket, info)
        if outcome == CANCELLED and state["s"] == CANCELLED and state["uid"] == uid:
            return  # cancelling twice is harmless
        if state["s"] != SCANNED or state["uid"] != uid:
            raise ApiException("QR_TICKET_STATE")  # not scanned yet, another user's, or decided
        if not await self._move(ticket, info, text, _state(outcome, uid, state["a"])):
            raise ApiException("QR_TICKET_STATE")  # a racing confirm or cancel won
        await self.audit.record("qrlogin", outcome, uid=uid, ip=ip)

    # -- the shared state ----------------------------------------------------------------------

    async def _info(self, ticket: str) -> dict[str, Any]:
        text = await self.cache.get(f"qrlogin:info:{ticket}")
        if text is None:
            raise ApiException("QR_TICKET_INVALID")
        info: dict[str, Any] = json.loads(text)
        return info

    async def _live_state(self, ticket: str, info: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """The state text and its fields; QR_TICKET_INVALID when used up or past the TTL (but confirmed)."""
        text = await self.cache.get(f"qrlogin:state:{ticket}")
        state = json.loads(text) if text is not None else {"s": USED}
        if state["s"] == USED or (state["s"] in (PENDING, SCANNED) and self.clock.now() >= info["exp"]):
            raise ApiException("QR_TICKET_INVALID")
        return text, state

    async def _move(self, ticket: str, info: dict[str, Any], expected: str, new: str) -> bool:
        """One atomic transition; waiting polls in this process hear of it at once."""
        key = f"qrlogin:state:{ticket}"
        keep = max(1, int(info["exp"] + _AFTERLIFE - self.clock.now()))
        if not await self.cache.swap(key, expected, new, keep):
            return False
        self.watch.notify(key, new)
        return True
