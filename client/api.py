"""LoginApiClient: one signed POST per call, the version's envelope unwrapped, ApiError on refusal."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import requests

from client.lifecycle import AccountCalls
from client.signing import hmac_sign, signed
from client.transport import ENCRYPTED_FIELD_INVALID, ROUTE_NOT_FOUND, PasswordTransport

# The answers that mean "this access token is no good now": v1 60011 (login expired), v2 9908
# (authentication failed, which is also v2's expired). On these, refresh once and try again.
EXPIRED = {"v1": {60011}, "v2": {9908}}


class ApiError(Exception):
    """Every refusal of the API: the catalog code of the version, its message and the HTTP status."""

    def __init__(self, code: int, message: str, status: int, body: Any = None):
        super().__init__(f"{code}: {message} (HTTP {status})")
        self.code = code
        self.message = message
        self.status = status
        self.body = body


@dataclass
class Tokens:
    """What the client keeps between calls (and the CLI between runs)."""

    access: str | None = None
    refresh: str | None = None

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600, exist_ok=True)
        path.write_text(json.dumps(asdict(self)), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Tokens:
        if not path.is_file():
            return cls()
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(access=data.get("access"), refresh=data.get("refresh"))


class LoginApiClient(AccountCalls):
    def __init__(self, base_url: str, secret: str, *, version: str = "v2", appid: str | None = None,
                 lang: str | None = None, tokens: Tokens | None = None, timeout: float = 15,
                 session: requests.Session | None = None, sign_method: str = "md5",
                 password_transport: str = "auto"):
        if version not in ("v1", "v2"):
            raise ValueError("version must be v1 or v2")
        if sign_method not in ("md5", "hmac-sha256"):
            raise ValueError("sign_method must be md5 or hmac-sha256")
        # md5: SPEC §4 over the parameters; hmac-sha256: SPEC §13.1 over the request as sent.
        self.sign_method = sign_method
        self.base_url = base_url.rstrip("/")
        self.secret = secret
        self.version = version
        self.appid = appid
        self.lang = lang
        self.tokens = tokens or Tokens()
        self.timeout = timeout
        self.http = session or requests.Session()
        self.refreshes = 0  # how many times an expired access token was refreshed (for the curious and tests)
        # SPEC §13.2: `auto` encrypts password fields when `cryptography` is there and the server has a key;
        # `rsa` always (a server with PASSWORD_TRANSPORT=rsa needs it); `plain` never.
        self.transport = PasswordTransport(password_transport)

    # -- the one request ------------------------------------------------------------------------

    def call(self, path: str, params: dict[str, Any] | None = None, *, token: str | None = None) -> Any:
        """POST `params` to `/{version}{path}`, signed, password fields encrypted; the envelope's `data`,
        or ApiError. A refused encryption (the key retired meanwhile) is retried once with a fresh key."""
        try:
            return self._unwrap(self._send(path, params, token))
        except ApiError as error:
            if error.code != ENCRYPTED_FIELD_INVALID[self.version] or not self.transport.forget():
                raise
            return self._unwrap(self._send(path, params, token))

    def crypto_key(self) -> dict[str, Any] | None:
        """The server's password-transport key {kid, alg, public_key, expires_at}; None from a server without one."""
        try:
            return self._unwrap(self._send("/crypto/key", None, None))
        except ApiError as error:
            if error.code == ROUTE_NOT_FOUND[self.version]:
                return None
            raise

    def _send(self, path: str, params: dict[str, Any] | None, token: str | None,
              stream: bool = False) -> requests.Response:
        params = self.transport.seal(dict(params or {}), self.crypto_key)
        if self.lang:
            params.setdefault("lang", self.lang)
        body, sign = signed(params, self.secret, self.appid)
        headers = {"sign": sign, "Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if self.lang:
            headers["Accept-Language"] = self.lang
        url = f"{self.base_url}/{self.version}{path}"
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        if self.sign_method == "hmac-sha256":  # the bytes sent are the bytes signed
            headers["sign-method"] = "hmac-sha256"
            headers["sign"] = hmac_sign(self.secret, body["timestamp"], self.appid or "", "POST",
                                        f"/{self.version}{path}", "", "application/json",
                                        headers.get("Authorization", ""), data)
        try:
            return self.http.post(url, data=data, headers=headers, timeout=self.timeout, stream=stream)
        except requests.RequestException as exc:
            raise ApiError(0, f"no answer from {url}: {exc}", 0) from exc

    def _unwrap(self, response: requests.Response) -> Any:
        try:
            envelope = response.json()
        except ValueError:
            raise ApiError(0, f"not JSON (HTTP {response.status_code}): {response.text[:200]}",
                           response.status_code) from None
        if not isinstance(envelope, dict):
            raise ApiError(0, f"not an envelope: {envelope!r}", response.status_code, envelope)
        if self.version == "v1":
            code, message, ok = envelope.get("errorcode"), envelope.get("message"), envelope.get("errorcode") == 0
        else:
            code, message, ok = envelope.get("code"), envelope.get("msg"), envelope.get("status") is True
        if not ok or response.status_code >= 400:
            raise ApiError(code if isinstance(code, int) else 0, str(message), response.status_code, envelope)
        return envelope.get("data")

    def authed(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """A call with the access token; an expired one is refreshed once and the call tried again."""
        if not self.tokens.access:
            raise ApiError(0, "not logged in: log in first (`login` on the command line, login() in Python)", 0)
        try:
            return self.call(path, params, token=self.tokens.access)
        except ApiError as error:
            if not self._expired(error):
                raise
            self.refresh()
            return self.call(path, params, token=self.tokens.access)

    def _expired(self, error: ApiError) -> bool:
        return error.code in EXPIRED[self.version] and bool(self.tokens.refresh)

    # -- the endpoints --------------------------------------------------------------------------

    def login(self, account: str, password: str, **extra: Any) -> Tokens:
        """An access and a refresh JWT (login/jwt/get), kept in `self.tokens`."""
        data = self.call("/login/jwt/get", {"account": account, "pwd": password, **extra})
        self.tokens = Tokens(access=data["jwt"], refresh=data["refresh_jwt"])
        return self.tokens

    def login_token(self, username: str, password: str, **extra: Any) -> dict[str, Any]:
        """The ThinkPHP document's login: a token of the server's AUTH_DRIVER, kept as the access token."""
        data = self.call("/login", {"username": username, "password": password, **extra})
        self.tokens = Tokens(access=data["token"], refresh=None)
        return data

    def refresh(self) -> str:
        """A new access JWT for the refresh JWT."""
        if not self.tokens.refresh:
            raise ApiError(0, "no refresh token: log in first (`login` on the command line, login() in Python)", 0)
        self.tokens.access = self.call("/login/jwt/refresh", {"jwt": self.tokens.refresh})
        self.refreshes += 1
        return self.tokens.access

    def status(self) -> dict[str, Any]:
        """The access token's status {exp, uid, jwt_data, exp_date, iat_date}; refreshed once if expired."""
        if not self.tokens.access:
            raise ApiError(0, "not logged in: log in first (`login` on the command line, login() in Python)", 0)
        try:
            return self.call("/login/jwt/status", {"jwt": self.tokens.access})
        except ApiError as error:
            if not self._expired(error):
                raise
            self.refresh()
            return self.call("/login/jwt/status", {"jwt": self.tokens.access})

    def me(self) -> dict[str, Any]:
        """The logged-in user (/test, behind checkLogin)."""
        return self.authed("/test")

    def logout(self) -> None:
        """End the session (login/jwt/deactivate): its access and refresh tokens stop working."""
        token = self.tokens.access or self.tokens.refresh
        if not token:
            raise ApiError(0, "not logged in", 0)
        self.call("/login/jwt/deactivate", {"jwt": token})
        self.tokens = Tokens()

    def send_sms(self, phone: str) -> Any:
        return self.call("/login/send/sms", {"phone": phone})

    def register(self, account: str, password: str, phone: str, code: str) -> None:
        self.call("/login/register", {"account": account, "password": password,
                                      "password_confirmation": password, "phone": phone, "code": code})

    def captcha(self) -> dict[str, Any]:
        return self.call("/captcha")

    def role(self, action: str, **params: Any) -> Any:
        """The role API: role("list", page=1), role("create", name=…, title=…, permissions=[…]), …"""
        return self.authed(f"/role/{action}", params)

    def admin(self, action: str, **params: Any) -> Any:
        """The admin user API: admin("user/list", keyword="138"), admin("user/disable", uid=5), admin("audit/list")."""
        return self.authed(f"/admin/{action}", params)

    def export(self, what: str, out: str | Path, format: str = "csv", **filters: Any) -> Path:
        """Save /admin/{what}/export (`user` or `audit`) to `out` as it streams in; the same filters as the lists."""
        if not self.tokens.access:
            raise ApiError(0, "not logged in: log in first (`login` on the command line, login() in Python)", 0)
        params = {"format": format, **filters}
        response = self._send(f"/admin/{what}/export", params, self.tokens.access, stream=True)
        if response.headers.get("content-type", "").startswith("application/json"):
            try:  # a refusal is an envelope, never a file
                self._unwrap(response)
            except ApiError as error:
                if not self._expired(error):
                    raise
                self.refresh()
                return self.export(what, out, format, **filters)
        path = Path(out)
        with response, path.open("wb") as target:
            for chunk in response.iter_content(64 * 1024):
                target.write(chunk)
        return path

    # -- QR login and the member code (SPEC §12) ------------------------------------------------

    def qr_create(self, platform: str = "web") -> dict[str, Any]:
        """As the web page: a ticket {ticket, poll_secret, content, qrcode, expires_in, interval}."""
        return self.call("/qrlogin/create", {"platform": platform})

    def qr_poll(self, ticket: str, poll_secret: str, wait: int = 0) -> dict[str, Any]:
        """As the web page: {state, expires_in, …}; on `confirmed` the handed-over tokens are kept."""
        data = self.call("/qrlogin/poll", {"ticket": ticket, "poll_secret": poll_secret, "wait": wait})
        if data.get("jwt"):
            self.tokens = Tokens(access=data["jwt"], refresh=data["refresh_jwt"])
        return data

    def qr_scan(self, ticket: str) -> dict[str, Any]:
        """As the logged-in app: bind the ticket; {platform, ip, user_agent, created_at} of the page."""
        return self.authed("/qrlogin/scan", {"ticket": ticket})

    def qr_confirm(self, ticket: str) -> None:
        """As the logged-in app: log the page in (after qr_scan)."""
        self.authed("/qrlogin/confirm", {"ticket": ticket})

    def qr_cancel(self, ticket: str) -> None:
        """As the logged-in app: refuse the page's login (after qr_scan)."""
        self.authed("/qrlogin/cancel", {"ticket": ticket})

    def member_code(self) -> dict[str, Any]:
        """A new one-time member code {code, qrcode, barcode, expires_in}."""
        return self.authed("/member/code")

    def member_verify(self, code: str) -> dict[str, Any]:
        """At a counter (permission member/verify): the code's user {uid, account, phone}; the code is used up."""
        return self.authed("/member/verify", {"code": code})
