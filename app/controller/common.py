"""The Common base controller (ThinkPHP doc: 继承Common控制器 实现时间戳和签名的认证).

`initialize()` runs before every action and before route middleware, so an unsigned or
replayed request is refused before any token or database work is spent on it.
"""
from __future__ import annotations

from typing import Any

from app.common.error import ApiException, answer
from app.common.response import JsonResponse, render
from app.common.sign import replay_key, signed_text
from app.common.sign_hmac import canonical_request, hmac_sign_matches, make_hmac_sign
from app.common.text import Text
from app.request import ApiRequest
from app.service.caller import Caller
from app.service.password_transport import open_password_fields
from app.service.session import SessionMeta
from app.validate.base import BaseValidate
from config import Settings

_NONCE_BAD = Text("nonce 必须是 8-64 位字母、数字、_ 或 -", "nonce must be 8-64 characters of letters, digits, _ or -")
_APPID_BAD = Text("appid 不存在", "unknown appid")
_NONCE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def parse_timestamp(value: Any) -> int | None:
    """Unix seconds from an integer or digit string; 13-digit milliseconds are accepted too."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        if not value.isascii() or not value.isdigit() or len(value) > 13:
            return None
        value = int(value)
    # Past 13 digits it is no timestamp (and a 400-digit integer must not reach float arithmetic).
    if not isinstance(value, int) or value <= 0 or value >= 10**13:
        return None
    return value // 1000 if value >= 10**12 else value


class Common:
    """Base of every API controller: request checks, validation and the success envelope."""

    _validators: dict[type, BaseValidate] = {}

    def __init__(self, app: Any, request: ApiRequest):
        self.app = app
        self.settings: Settings = app.settings
        self.request = request

    async def initialize(self) -> None:
        """The request's checks (SPEC §4, §10), then its RSA-encrypted passwords opened (§13.2)."""
        if self.settings.SIGN_REQUIRED:
            await self._check_sign()
        # After the sign, which covers the values as sent; before any validator sees them.
        await open_password_fields(self.app, self.request.params)

    async def _check_sign(self) -> None:
        """Timestamp, nonce, the md5 or HMAC sign, and replay of the nonce or the signature."""
        params = self.request.params
        timestamp = parse_timestamp(params.get("timestamp"))
        if timestamp is None:
            raise ApiException("TIMESTAMP_INVALID")
        if abs(self.app.clock.now() - timestamp) > self.settings.SIGN_WINDOW:
            raise ApiException("REQUEST_EXPIRED")
        nonce = params.get("nonce")
        if nonce is not None and not (isinstance(nonce, str) and 8 <= len(nonce) <= 64
                                      and _NONCE_CHARS.issuperset(nonce)):
            raise ApiException("PARAM_INVALID", field="nonce", reason=_NONCE_BAD)
        appid = params.get("appid")
        secret = self._secret_of(appid)
        given = self.request.headers.get("sign") or params.get("sign")
        if not isinstance(given, str) or not given:
            raise ApiException("SIGN_INVALID")
        method = self._sign_method(appid)
        if method == "md5":
            signed = signed_text(params, secret, given)
            if signed is None:
                raise ApiException("SIGN_INVALID")
            key = replay_key(*signed)
        else:
            key = self._check_hmac(secret, timestamp, appid or "", nonce, given)
        # One cache write marks both the nonce and the signature as used (see replay_key), for
        # the whole span in which its timestamp is acceptable: window either side.
        if not await self.app.cache.add(key, "1", 2 * self.settings.SIGN_WINDOW):
            raise ApiException("REQUEST_REPLAYED")

    def _sign_method(self, appid: Any) -> str:
        """`md5` without a `sign-method` header; a method the settings or the app do not accept is a wrong sign."""
        asked = self.request.headers.get("sign-method")
        method = "md5" if asked is None else asked.strip().lower()
        pinned = self.settings.SIGN_APP_METHODS.get(appid) if isinstance(appid, str) and appid else None
        if method not in self.settings.SIGN_METHODS or (pinned is not None and method != pinned):
            raise ApiException("SIGN_INVALID")
        return method

    def _check_hmac(self, secret: str, timestamp: int, appid: str, nonce: Any, given: str) -> str:
        """SPEC §13.1 over the request as sent; its replay key (the nonce, else the sign itself)."""
        scope = self.request.scope
        path = (scope.get("raw_path") or scope["path"].encode("utf-8")).decode("latin-1")
        query = scope.get("query_string", b"").decode("latin-1")
        canonical = canonical_request(scope["method"], path, query, self.request.headers.get("content-type", ""),
                                      self.request.headers.get("authorization", ""), self.request.body)
        expected = make_hmac_sign(secret, timestamp, appid, canonical)
        if not hmac_sign_matches(expected, given):
            raise ApiException("SIGN_INVALID")
        # The same namespace as md5's keys: a nonce is used once, whichever method signed it.
        return f"nonce:{appid}:{nonce}" if nonce is not None else f"sign:{expected}"

    def _secret_of(self, appid: Any) -> str:
        if appid is None or appid == "":
            return self.settings.SIGN_SECRET
        secret = self.settings.SIGN_APPS.get(appid) if isinstance(appid, str) else None
        if secret is None:
            raise ApiException("PARAM_INVALID", field="appid", reason=_APPID_BAD)
        return secret

    def validate(self, validator: type[BaseValidate], scene: str | None = None) -> dict[str, Any]:
        """Check the request's parameters with `validator` (ThinkPHP's `$this->validate`)."""
        instance = self._validators.get(validator)
        if instance is None:
            instance = self._validators[validator] = validator()
        return instance.check(self.request.params, scene)

    def caller(self) -> Caller:
        """What services need of the request's client: its address, user and session, captcha answer."""
        user = self.request.user
        return Caller(ip=self.request.client_ip, uid=user.uid if user else None, sid=user.sid if user else None,
                      captcha_id=self.request.param("captcha_id"), captcha_code=self.request.param("captcha_code"))

    def session_meta(self, data: dict[str, Any]) -> SessionMeta:
        """The validated `platform`/`device` of a login, with the client's address and User-Agent."""
        agent = self.request.headers.get("user-agent") or None
        return SessionMeta(platform=data.get("platform") or "other", device=data.get("device") or None,
                           ip=self.request.client_ip or None, user_agent=agent[:255] if agent else None)

    def success(self, data: Any = None, name: str = "OK") -> JsonResponse:
        """The version's success envelope; `name` picks the catalog's message (and HTTP status)."""
        return render(self.request.version, answer(name), self.request.lang, data)
