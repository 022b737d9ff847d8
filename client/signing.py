"""SPEC §4's signature, standalone (a client does not import the server): md5 over the sorted parameters."""
from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Mapping
from typing import Any


def value_text(value: Any) -> str:
    """Strings as they are; integers in decimal; true/false; other numbers, arrays and objects as
    compact JSON with sorted keys and non-ASCII left as is."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def canonical_string(params: Mapping[str, Any], secret: str) -> str:
    """`name=value` sorted by name and joined with `&`, then `&key=<secret>`; `sign`, null and "" left out."""
    parts = [f"{name}={value_text(value)}" for name, value in sorted(params.items())
             if name != "sign" and value is not None and value != ""]
    return "&".join(parts + [f"key={secret}"])


def make_sign(params: Mapping[str, Any], secret: str) -> str:
    """The 32-hex md5 `sign` of `params`."""
    return hashlib.md5(canonical_string(params, secret).encode("utf-8")).hexdigest()


def signed(params: Mapping[str, Any] | None, secret: str, appid: str | None = None,
           query: Mapping[str, Any] | None = None) -> tuple[dict[str, Any], str]:
    """`params` with a fresh timestamp and nonce (and appid), and the sign over them and `query`."""
    body = dict(params or {})
    body["timestamp"] = int(time.time())
    body["nonce"] = secrets.token_hex(12)
    if appid:
        body["appid"] = appid
    return body, make_sign({**(query or {}), **body}, secret)


# -- SPEC §13.1: HMAC-SHA256 over the request as sent (header `sign-method: hmac-sha256`) -----------

def hmac_sign(secret: str, timestamp: int, appid: str, method: str, path: str, query_string: str,
              content_type: str, authorization: str, body: bytes) -> str:
    """The lower-case hex HMAC-SHA256 `sign` of a request: canonical request, string to sign, daily key."""
    import hmac
    from urllib.parse import parse_qsl, quote

    pairs = sorted((quote(n, safe="-_.~"), quote(v, safe="-_.~"))
                   for n, v in parse_qsl(query_string, keep_blank_values=True) if n != "sign")
    canonical = "\n".join((method.upper(), path, "&".join(f"{n}={v}" for n, v in pairs),
                           f"content-type:{content_type.strip()}", f"authorization:{authorization.strip()}",
                           hashlib.sha256(body).hexdigest()))
    to_sign = "\n".join(("LOGIN-HMAC-SHA256", str(timestamp), appid,
                         hashlib.sha256(canonical.encode("utf-8")).hexdigest()))
    day = time.strftime("%Y%m%d", time.gmtime(timestamp))
    key = hmac.new(("LOGIN4" + secret).encode("utf-8"), day.encode("ascii"), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
