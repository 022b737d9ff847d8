"""SPEC §4's signature, standalone (a client does not import the server): md5 over the sorted parameters."""
from __future__ import annotations

import hashlib
import json
import secrets
import time
from typing import Any, Mapping


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
