"""The account lifecycle calls of LoginApiClient (SPEC §11): SMS login, passwords, phone, sessions, deletion."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from client.api import Tokens


class AccountCalls:
    """Mixed into LoginApiClient, whose `call`, `authed` and `tokens` these use."""

    if TYPE_CHECKING:
        tokens: Tokens

        def call(self, path: str, params: dict[str, Any] | None = None, *, token: str | None = None) -> Any: ...
        def authed(self, path: str, params: dict[str, Any] | None = None) -> Any: ...

    def send_code(self, phone: str, scene: str = "register") -> Any:
        """An SMS code of `scene` (register, login, reset, change_phone: the last needs a login)."""
        params = {"phone": phone, "scene": scene}
        if scene == "change_phone":
            return self.authed("/login/send/sms", params)
        return self.call("/login/send/sms", params)

    def login_sms(self, phone: str, code: str, **extra: Any) -> dict[str, Any]:
        """Log in (or sign up) with a `login` code: {jwt, refresh_jwt, uid, registered}; tokens kept."""
        from client.api import Tokens

        data = self.call("/login/sms", {"phone": phone, "code": code, **extra})
        self.tokens = Tokens(access=data["jwt"], refresh=data["refresh_jwt"])
        return data

    def rotate(self) -> Tokens:
        """Refresh with rotation: a new access and refresh JWT, the old refresh JWT used up."""
        from client.api import ApiError

        if not self.tokens.refresh:
            raise ApiError(0, "no refresh token: log in first", 0)
        data = self.call("/login/jwt/refresh", {"jwt": self.tokens.refresh, "rotate": "1"})
        self.tokens.access, self.tokens.refresh = data["jwt"], data["refresh_jwt"]
        return self.tokens

    def change_password(self, password: str, old_password: str | None = None) -> None:
        """A new password (old_password may be left out by a user who has none); other sessions end."""
        params = {"password": password, "password_confirmation": password}
        if old_password is not None:
            params["old_password"] = old_password
        self.authed("/password/change", params)

    def reset_password(self, phone: str, code: str, password: str) -> None:
        """A new password with a `reset` code; every session of the user ends."""
        self.call("/password/reset", {"phone": phone, "code": code, "password": password,
                                      "password_confirmation": password})

    def change_phone(self, phone: str, code: str, password: str | None = None) -> dict[str, Any]:
        """A new phone with its `change_phone` code (and the password, if the user has one)."""
        params = {"phone": phone, "code": code}
        if password is not None:
            params["password"] = password
        return self.authed("/phone/change", params)

    def sessions(self) -> list[dict[str, Any]]:
        """The user's live sessions, newest first, the current one marked."""
        return self.authed("/session/list")["list"]

    def end_session(self, sid: str | None = None, scope: str | None = None) -> int:
        """End one session (`sid`) or `others` / `all` of them; how many ended."""
        params = {"sid": sid} if sid is not None else {"scope": scope or "others"}
        return self.authed("/session/end", params)["ended"]

    def delete_account(self, password: str | None = None, code: str | None = None) -> None:
        """Delete the account (password, or a `login` code for a user without one); tokens forgotten."""
        from client.api import Tokens

        params = {"password": password} if password is not None else {"code": code}
        self.authed("/account/delete", params)
        self.tokens = Tokens()
