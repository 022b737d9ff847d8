"""The client behind one API call, as its controller read it: services never see the HTTP request."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Caller:
    """Who asks, from where, and the captcha they answered: what a service decides on and records."""

    ip: str = ""
    # The logged-in user and their session (checkLogin), for an action behind a login.
    uid: int | None = None
    sid: str | None = None
    # The captcha answer as sent, of any type: the check itself refuses what is not a string.
    captcha_id: Any = None
    captcha_code: Any = None

    @property
    def logged_in_uid(self) -> int:
        """The user's id, for an action behind checkLogin: without one the route is misdeclared."""
        if self.uid is None:
            raise RuntimeError("this action needs a logged-in caller: add checkLogin to its route")
        return self.uid
