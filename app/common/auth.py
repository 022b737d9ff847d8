"""The Auth service (ThinkPHP doc: Auth::getInstance()): passwords, sessions and tokens.

One per app, kept in its state (app/common/app_state.py); `Auth.instance()` is the current app's.

Every token is a database row; a token counts only while its row says it is live, so a
revocation or an expiry holds at once in every worker and every instance. The per-request
check is one fixed, indexed statement built once (building SQL per request costs more than
running it).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from peewee import PostgresqlDatabase

from app.common.app_state import current
from app.common.clock import SYSTEM_CLOCK, Clock, format_time
from app.common.data_crypto import cached_decrypt
from app.common.database import db_read, db_write, run_fixed, write_transaction
from app.common.error import ApiException
from app.common.password import Passwords
from app.common.text import Text
from app.common.token.driver import IssuedToken, ParsedToken, TokenDriver, token_invalid
from app.common.token.jwt import JwtDriver
from app.common.token.keyring import Keyring
from app.common.token.md5 import Md5Driver
from app.common.token.store import cap_access_tokens, store_in_live_session
from app.model.audit_log import AuditLog
from app.model.base import db
from app.model.session import Session
from app.model.token import Token
from app.model.user import User
from app.service import events
from app.service.session import SessionMeta, apply_policy_sync
from config import Settings

_REVOKED = Text("令牌无效或已失效", "token is not valid or has been revoked")
_EXPIRED = Text("登录过期", "login expired")
_NOT_ACCESS = Text("刷新令牌不能用于访问", "a refresh token is not an access token")
# The Hyperf document's one answer for every refresh that cannot be honoured.
_REFRESH_FAILED = Text("refresh jwt expred or others", "refresh jwt expred or others")


@dataclass
class Identity:
    """The logged-in user behind a token, as checkLogin leaves it on the request."""

    uid: int
    account: str
    phone: str | None  # users.phone_enc is nullable
    sid: str
    kind: str
    expire_at: int
    role_ids: list[str]


@dataclass(frozen=True)
class LoginResult:
    user: User
    access: IssuedToken
    refresh: IssuedToken | None = None


def _role_list(joined: str | bytes | None) -> list[str]:
    """The lookup's comma-joined role ids as the JWT's `rid` has them: strings, in numeric order."""
    if not joined:
        return []
    text = joined.decode("ascii") if isinstance(joined, bytes) else joined
    return [str(role_id) for role_id in sorted(int(part) for part in text.split(","))]


# A row of Auth._check_sql: uid, kind, expire_at, revoked, sid, account, phone_enc, status, and the
# user's role ids comma-joined (bytes from some MySQL drivers, None without roles).
_TokenRow = tuple[int, str, int, int, str, str, str | None, int, str | bytes | None]


def _claims_match(parsed: ParsedToken, row: _TokenRow) -> bool:
    """A JWT's claims must name the same user, session and kind as its row (md5 tokens have none)."""
    claims = parsed.claims
    return not claims or (claims["uid"] == row[0] and claims["type"] == row[1] and claims["sid"] == row[4])


def jwt_keyring(settings: Settings, clock: Clock = SYSTEM_CLOCK) -> Keyring | None:
    """The asymmetric signing keys of JWT_ALG, in runtime/secrets/jwt/ (None for HS256)."""
    if settings.JWT_ALG == "HS256":
        return None
    longest = max(settings.JWT_TTL, settings.REFRESH_TTL) + settings.JWT_LEEWAY
    return Keyring(Path(settings.RUNTIME_DIR) / "secrets" / "jwt", settings.JWT_ALG, longest, clock.now)


class Auth:
    def __init__(self, settings: Settings, clock: Clock = SYSTEM_CLOCK):
        self.settings = settings
        self.clock = clock
        self.passwords = Passwords(settings.PASSWORD_TIME_COST, settings.PASSWORD_MEMORY_COST,
                                   settings.PASSWORD_PARALLELISM, settings.PASSWORD_HASH_WORKERS)
        self.drivers: dict[str, TokenDriver] = {
            "md5": Md5Driver(),
            "jwt": JwtDriver(settings.JWT_SECRET, settings.JWT_LEEWAY, issuer=settings.JWT_ISSUER,
                             audience=settings.JWT_AUDIENCE, keyring=jwt_keyring(settings, clock), clock=clock),
        }
        if settings.AUTH_DRIVER not in self.drivers:
            raise ValueError(f"AUTH_DRIVER {settings.AUTH_DRIVER!r} is not one of {sorted(self.drivers)}")
        p = db.param
        # Every role of the user, comma-joined in one column (MySQL may hand it back as bytes).
        joined_roles = ("string_agg(CAST(ur.role_id AS TEXT), ',')" if isinstance(db.obj, PostgresqlDatabase)
                        else "group_concat(ur.role_id)")
        # The hot path's one statement: the token's row, its user and the user's roles, on the
        # unique key. One statement is one read (one lock or one round trip to a database server)
        # where a second query for the roles cost as much again.
        self._check_sql = (
            "SELECT t.uid, t.kind, t.expire_at, t.revoked, t.sid, u.account, u.phone_enc, u.status, "
            f"(SELECT {joined_roles} FROM user_role ur JOIN role r ON r.id = ur.role_id WHERE ur.uid = t.uid) "
            f"FROM auth_token t JOIN users u ON u.id = t.uid WHERE t.token_key = {p}")
        # Roles for a new token (built once too: the query builder costs ~100 µs a call).
        self._roles_sql = ("SELECT ur.role_id FROM user_role ur JOIN role r ON r.id = ur.role_id "
                           f"WHERE ur.uid = {p} ORDER BY ur.role_id")

    @classmethod
    def instance(cls) -> Auth:
        """The current app's Auth service, made by the app factory."""
        auth = current().auth
        if auth is None:
            raise RuntimeError("Auth is not initialised: build the app with create_app()")
        return auth

    @classmethod
    def install(cls, settings: Settings, clock: Clock = SYSTEM_CLOCK) -> Auth:
        """A new Auth for the current app (the process default outside every app's call)."""
        state = current()
        if state.auth is not None:
            state.auth.close()
        state.auth = cls(settings, clock)
        return state.auth

    def close(self) -> None:
        self.passwords.close()

    # -- passwords ---------------------------------------------------------------------------

    async def attempt(self, identity: str, password: str) -> User:
        """The user whose account or phone is `identity` and whose password is `password`.

        An unknown account verifies a dummy hash, so the answer takes as long as a wrong
        password, and answers the same unless LOGIN_REVEAL_UNKNOWN is set. Lockout and
        throttling wrap this in app/service/login_guard.py.
        """
        user = await db_write(User.find_by_identity, identity)
        matches = await self.verify_password(user, password)
        if user is None and self.settings.LOGIN_REVEAL_UNKNOWN:
            raise ApiException("USER_NOT_FOUND")
        if user is None or not matches or user.status != 1:
            raise ApiException("LOGIN_FAILED", account=identity)
        return user

    async def verify_password(self, user: User | None, password: str) -> bool:
        """Whether `password` is the user's; an unknown user verifies a dummy hash, taking as long.

        A hash made with lower costs than the current settings is upgraded on the way.
        """
        matches, needs_rehash = await self.passwords.verify(user.password_hash if user else None, password)
        # A user always: None verifies a dummy hash, which never matches (the test is for the type).
        if matches and needs_rehash and user is not None:
            new_hash = await self.passwords.hash(password)
            await db_write(self._store_hash, user.id, new_hash, self.clock.seconds())
        return matches

    @staticmethod
    def _store_hash(uid: int, password_hash: str, now: int) -> None:
        User.update(password_hash=password_hash, updated_at=now).where(User.id == uid).execute()

    # -- issuing -----------------------------------------------------------------------------

    def driver_for(self, text: str) -> TokenDriver:
        """The driver whose shape `text` has; anything else is read as a malformed JWT (Hyperf doc)."""
        md5 = self.drivers["md5"]
        return md5 if md5.looks_like(text) else self.drivers["jwt"]

    async def login(self, user: User, driver_name: str | None = None, meta: SessionMeta | None = None) -> LoginResult:
        """Open a session for `user` and issue its token(s) with the given (or configured) driver.

        `meta` is the session's face (platform, device, address, User-Agent); SESSION_POLICY
        decides, in the same transaction, which of the user's other sessions end.
        """
        driver = self.drivers[driver_name or self.settings.AUTH_DRIVER]
        now = self.clock.seconds()
        sid = secrets.token_hex(16)
        rid = await self.role_ids(user.id)
        if driver.name == "md5":
            access = driver.issue(uid=user.id, sid=sid, kind="md5", ttl=self.settings.TOKEN_TTL, rid=rid, now=now)
            refresh = None
        else:
            access = driver.issue(uid=user.id, sid=sid, kind="access", ttl=self.settings.JWT_TTL, rid=rid, now=now)
            refresh = driver.issue(uid=user.id, sid=sid, kind="refresh", ttl=self.settings.REFRESH_TTL, rid=rid,
                                   now=now)
        session_end = max(t.expire_at for t in (access, refresh) if t is not None)
        await db_write(self._store_session, user.id, sid, now, session_end, [access, refresh], meta or SessionMeta())
        return LoginResult(user=user, access=access, refresh=refresh)

    def _store_session(self, uid: int, sid: str, now: int, expire_at: int, tokens: list[IssuedToken | None],
                       meta: SessionMeta) -> None:
        with write_transaction():
            ended = apply_policy_sync(self.settings.SESSION_POLICY, uid, meta.platform, now)
            if ended:  # recorded in the same transaction as the sessions' end
                AuditLog.create(event="session", outcome="ended", uid=uid, ip=meta.ip,
                                detail=f"SESSION_POLICY={self.settings.SESSION_POLICY}: {ended}")
            Session.create(id=sid, uid=uid, created_at=now, expire_at=expire_at, platform=meta.platform,
                           device=meta.device, ip=meta.ip, user_agent=meta.user_agent, last_seen_at=now)
            events.emit("login.succeeded", {"uid": uid, "sid": sid})
            for token in tokens:
                if token is not None:
                    Token.create(token_key=token.key, kind=token.kind, uid=uid, sid=sid,
                                 issued_at=token.issued_at, expire_at=token.expire_at)

    # -- checking ----------------------------------------------------------------------------

    def parse(self, text: str, *, verify_exp: bool = True) -> tuple[TokenDriver, ParsedToken]:
        """The driver and row key of `text`; TOKEN_INVALID when it is no token of ours."""
        driver = self.driver_for(text)
        if isinstance(driver, JwtDriver):
            return driver, driver.parse(text, verify_exp=verify_exp)
        return driver, driver.parse(text)

    def _lookup(self, key: str) -> _TokenRow | None:
        row: _TokenRow | None = run_fixed(self._check_sql, (key,)).fetchone()
        return row

    async def _live_row(self, parsed: ParsedToken) -> _TokenRow:
        """The token's row joined to its user, if the row is live and agrees with the token's claims."""
        row = await db_read(self._lookup, parsed.key)
        if row is None:
            raise token_invalid(_REVOKED)
        uid, kind, expire_at, revoked, sid, account, phone, status, _ = row
        if revoked or status != 1 or not _claims_match(parsed, row):
            raise token_invalid(_REVOKED)
        if expire_at <= self.clock.now():
            raise ApiException("TOKEN_EXPIRED", reason=_EXPIRED)
        return row

    async def check(self, text: str) -> Identity:
        """The identity behind an access token, or TOKEN_INVALID / TOKEN_EXPIRED (checkLogin)."""
        _, parsed = self.parse(text)
        uid, kind, expire_at, _, sid, account, phone_enc, _, roles = await self._live_row(parsed)
        if kind == "refresh":
            raise token_invalid(_NOT_ACCESS)
        # The phone is stored encrypted (SPEC §13.3); a cached decrypt keeps AES off the hot path.
        phone = cached_decrypt(phone_enc) if phone_enc else phone_enc
        return Identity(uid=uid, account=account, phone=phone, sid=sid, kind=kind, expire_at=expire_at,
                        role_ids=_role_list(roles))

    async def role_ids(self, uid: int) -> list[str]:
        """The user's role ids as strings (the JWT's `rid`), as the database has them now."""
        return await db_read(self._role_ids, uid)

    def _role_ids(self, uid: int) -> list[str]:
        return [str(row[0]) for row in run_fixed(self._roles_sql, (uid,)).fetchall()]

    # -- refresh, deactivate, status (Hyperf doc) ------------------------------------------

    async def refresh(self, text: str) -> IssuedToken:
        """A new access JWT in the refresh token's session, carrying the user's current roles."""
        try:
            driver, parsed = self.parse(text)
            if not isinstance(driver, JwtDriver) or parsed.kind != "refresh":
                raise token_invalid(_REFRESH_FAILED)
            uid, _, _, _, sid, _, _, _, _ = await self._live_row(parsed)
        except ApiException as exc:
            if exc.answer.name in ("TOKEN_INVALID", "TOKEN_EXPIRED"):
                raise token_invalid(_REFRESH_FAILED) from None
            raise
        now = self.clock.seconds()
        access = driver.issue(uid=uid, sid=sid, kind="access", ttl=self.settings.JWT_TTL,
                              rid=await self.role_ids(uid), now=now)
        stored = await db_write(self._store_access, uid, sid, access)
        if not stored:  # the session ended between the check and the insert
            raise token_invalid(_REFRESH_FAILED)
        return access

    def _store_access(self, uid: int, sid: str, token: IssuedToken) -> bool:
        with write_transaction():
            live = store_in_live_session(sid, [token])
            if live:
                cap_access_tokens(sid, self.settings.REFRESH_LIMIT)
            return live

    async def deactivate(self, text: str) -> int:
        """End the session of `text` (either driver): its access and refresh tokens fail at once.

        An expired access token may still end its session, whose refresh token can be live.
        """
        _, parsed = self.parse(text, verify_exp=False)
        row = await db_read(self._lookup, parsed.key)
        if row is None or row[3] or not _claims_match(parsed, row):
            raise token_invalid(_REVOKED)
        await db_write(self._end_session, row[4], self.clock.seconds())
        return row[0]

    @staticmethod
    def _end_session(sid: str, now: int) -> None:
        with write_transaction():
            Token.end_session(sid, now)

    async def status(self, text: str) -> dict[str, Any]:
        """The Hyperf document's status: seconds left, uid, {uid, rid}, and the dates."""
        _, parsed = self.parse(text)
        uid, _, expire_at, _, _, _, _, _, roles = await self._live_row(parsed)
        # The JwtDriver requires iat, as it does rid: claims, when there are any, always hold it.
        issued_at = parsed.claims["iat"] if parsed.claims else await db_read(self._issued_at, parsed.key)
        rid = parsed.claims["rid"] if parsed.claims else _role_list(roles)
        zone = self.settings.APP_TIMEZONE
        return {
            "exp": max(0, expire_at - self.clock.seconds()),
            "uid": uid,
            "jwt_data": {"uid": uid, "rid": rid},
            "exp_date": format_time(expire_at, zone),
            "iat_date": format_time(issued_at, zone),
        }

    @staticmethod
    def _issued_at(key: str) -> int:
        issued_at: int = Token.select(Token.issued_at).where(Token.token_key == key).scalar()
        return issued_at
