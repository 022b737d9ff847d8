"""The request signature of SPEC §4: md5 over the sorted parameters and the app's secret."""
from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any, Mapping


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


def sign_matches(params: Mapping[str, Any], secret: str, given: str) -> bool:
    """Compare case-insensitively and in constant time."""
    expected = make_sign(params, secret)
    return hmac.compare_digest(expected.encode("ascii"), given.strip().lower().encode("utf-8", "replace"))
