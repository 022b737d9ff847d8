"""Which parameter names a request may use, and where (SPEC §10).

Names are limited so that no name can carry `=` or `&` into the string to sign, and secrets are
refused in the query string, which proxies, access logs and browser histories keep.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from app.common.error import ApiException
from app.common.text import Text

_NAME = re.compile(r"[A-Za-z0-9_.\[\]-]{1,64}")
_BAD_NAME = Text("参数名只能是 1-64 位字母、数字、_ . [ ] 或 -",
                 "parameter names must be 1-64 characters of letters, digits, _ . [ ] or -")
_IN_QUERY = Text("{name} 不能放在 URL 中，请放在请求体中", "{name} must not be in the URL: send it in the body")
# Credentials, codes and tokens: anything that must not outlive the request in a log or a history
# (SPEC §10's list, plus QR login's poll_secret, which is what keeps a photographed QR code harmless).
SECRET_NAMES = frozenset({"password", "pwd", "old_password", "password_confirmation", "code", "captcha_code",
                          "jwt", "token", "poll_secret"})


# Names already found good: a set lookup instead of a regex per name on every request. Bounded,
# since a client may send any number of different good names.
_GOOD: set[str] = set()
_GOOD_LIMIT = 4096


def check_names(names: Iterable[str]) -> None:
    """Every name matches `[A-Za-z0-9_.\\[\\]-]{1,64}`, else a parameter error (not echoed: it may be anything)."""
    for name in names:
        if name in _GOOD:
            continue
        if _NAME.fullmatch(name) is None:
            raise ApiException("PARAM_INVALID", reason=_BAD_NAME)
        if len(_GOOD) < _GOOD_LIMIT:
            _GOOD.add(name)


def refuse_secrets(query: dict[str, Any]) -> None:
    """A secret in the query string is a parameter error naming it: it belongs in the body."""
    found = SECRET_NAMES.intersection(query)
    if found:
        name = min(found)  # the same answer every time
        raise ApiException("PARAM_INVALID", field=name, reason=_IN_QUERY.format(name=name))
