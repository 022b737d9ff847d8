"""HMAC-SHA256 request signatures in the shape of AWS Signature Version 4 (SPEC §13.1).

Chosen by the header `sign-method: hmac-sha256`. Unlike §4's md5 over the parsed parameters,
it signs the request as sent: the method, the path, the canonical query, the content type, the
authorization header and a SHA-256 of the raw body bytes, so no rearrangement of parameters or
values keeps a signature. The key is derived per UTC day from the app's secret, as SigV4's is.
The client library (client/signing.py) has its own copy of these steps, and both agree with
tests/data/sign-vectors-hmac.json.
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import time
from urllib.parse import parse_qsl, quote

METHOD = "hmac-sha256"
ALGORITHM = "LOGIN-HMAC-SHA256"


def canonical_query(query_string: str) -> str:
    """Every query pair, decoded then percent-encoded per RFC 3986 (A-Za-z0-9-_.~ kept), sorted, `&`-joined.

    A `sign` sent in the query string is left out: a signature cannot cover itself.
    """
    if not query_string:  # most requests: everything is in the body
        return ""
    pairs = [(n, v) for n, v in parse_qsl(query_string, keep_blank_values=True) if n != "sign"]
    encoded = sorted((quote(name, safe="-_.~"), quote(value, safe="-_.~")) for name, value in pairs)
    return "&".join(f"{name}={value}" for name, value in encoded)


def canonical_request(method: str, path: str, query_string: str, content_type: str, authorization: str,
                      body: bytes) -> str:
    """Step 1: the request as the signature covers it, lines joined by newlines."""
    return "\n".join((method.upper(), path, canonical_query(query_string), f"content-type:{content_type.strip()}",
                      f"authorization:{authorization.strip()}", hashlib.sha256(body).hexdigest()))


def string_to_sign(timestamp: int, appid: str, canonical: str) -> str:
    """Step 2: the algorithm, the timestamp, the app and a hash of the canonical request."""
    return "\n".join((ALGORITHM, str(timestamp), appid, hashlib.sha256(canonical.encode("utf-8")).hexdigest()))


def signing_key(secret: str, timestamp: int) -> bytes:
    """Step 3: HMAC-SHA256 under "LOGIN4" + secret over the UTC date of the timestamp (YYYYMMDD)."""
    return _daily_key(secret, timestamp // 86400)


# One key a day per secret: derived once, not on every request (hmac.digest is the one-shot C path).
@functools.lru_cache(maxsize=64)
def _daily_key(secret: str, day_number: int) -> bytes:
    day = time.strftime("%Y%m%d", time.gmtime(day_number * 86400))
    return hmac.digest(("LOGIN4" + secret).encode("utf-8"), day.encode("ascii"), "sha256")


def make_hmac_sign(secret: str, timestamp: int, appid: str, canonical: str) -> str:
    """The lower-case hex signature of a canonical request."""
    text = string_to_sign(timestamp, appid, canonical)
    return hmac.digest(signing_key(secret, timestamp), text.encode("utf-8"), "sha256").hex()


def hmac_sign_matches(expected: str, given: str) -> bool:
    """Compared in constant time; hex is accepted in either case, as for md5."""
    return hmac.compare_digest(expected.encode("ascii"), given.strip().lower().encode("utf-8", "replace"))
