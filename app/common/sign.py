"""The request signature of SPEC §4: md5 over the sorted parameters and the app's secret."""
from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from typing import Any


def _value_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):  # before int: bool is an int in Python
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    # floats as JSON writes them (1.5); arrays and objects as compact sorted JSON, non-ASCII as is
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def canonical_string(params: Mapping[str, Any], secret: str) -> str:
    """`name=value` pairs sorted by name, joined with `&`, then `&key=<secret>`; `sign`, null and "" left out."""
    parts = [f"{name}={_value_text(value)}" for name, value in sorted(params.items())
             if name != "sign" and value is not None and value != ""]
    parts.append(f"key={secret}")
    return "&".join(parts)


def make_sign(params: Mapping[str, Any], secret: str) -> str:
    """The 32-hex md5 signature a client sends in the `sign` header."""
    return hashlib.md5(canonical_string(params, secret).encode("utf-8")).hexdigest()


def signed_text(params: Mapping[str, Any], secret: str, given: str) -> tuple[str, str] | None:
    """(string to sign, its lower-case sign) when `given` signs `params`; compared case-insensitively
    and in constant time. None when it does not."""
    text = canonical_string(params, secret)
    expected = hashlib.md5(text.encode("utf-8")).hexdigest()
    if hmac.compare_digest(expected.encode("ascii"), given.strip().lower().encode("utf-8", "replace")):
        return text, expected
    return None


def sign_matches(params: Mapping[str, Any], secret: str, given: str) -> bool:
    """Compare case-insensitively and in constant time."""
    return signed_text(params, secret, given) is not None


# Values are written unescaped, so one string to sign can come from many parameter sets
# ({"lang": "en&nonce=N"} signs like {"lang": "en", "nonce": "N"}). The replay key is therefore
# read from the signed TEXT, never from the parameters: every request with the same signature
# has the same text, hence the same key, however its parameters were rearranged. (The pieces are
# found with str.find: this runs on every signed request.)
_NONCE = re.compile(r"[A-Za-z0-9_-]{8,64}")


def _first_value(text: str, name: str) -> str | None:
    """What follows the first `name=` that starts a `&`-piece of `text`, up to the next `&`."""
    prefix = name + "="
    at = text.find(prefix)
    while at > 0 and text[at - 1] != "&":  # inside a name or a value, not a piece of its own
        at = text.find(prefix, at + 1)
    if at < 0:
        return None
    start = at + len(prefix)
    return text[start:text.find("&", start)]  # the text ends in `&key=…`: there is a next `&`


def replay_key(text: str, sign: str) -> str:
    """The one cache key that marks this signed request as used (SPEC §4 and §10).

    With a nonce, the nonce within its app: the same nonce is a replay even under a new sign,
    and the same sign is a replay because it has the same text. Without one, the sign itself.
    """
    nonce = _first_value(text, "nonce")
    if nonce is None or _NONCE.fullmatch(nonce) is None:
        return f"sign:{sign}"
    appid = _first_value(text, "appid") if "appid=" in text else None  # most requests have none
    return f"nonce:{appid or ''}:{nonce}"
