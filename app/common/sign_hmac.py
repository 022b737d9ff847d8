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

_sha256 = hashlib.sha256

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
    # One f-string: this runs on every HMAC-signed request (bench/sign_methods.py).
    query = canonical_query(query_string) if query_string else ""
    return (f"{method.upper()}\n{path}\n{query}\ncontent-type:{content_type.strip()}\n"
            f"authorization:{authorization.strip()}\n{_sha256(body).hexdigest()}")


def string_to_sign(timestamp: int, appid: str, canonical: str) -> str:
    """Step 2: the algorithm, the timestamp, the app and a hash of the canonical request."""
    return f"{ALGORITHM}\n{timestamp}\n{appid}\n{_sha256(canonical.encode('utf-8')).hexdigest()}"


def signing_key(secret: str, timestamp: int) -> bytes:
    """Step 3: HMAC-SHA256 under "LOGIN4" + secret over the UTC date of the timestamp (YYYYMMDD)."""
    day = time.strftime("%Y%m%d", time.gmtime(timestamp // 86400 * 86400))
    return hmac.digest(("LOGIN4" + secret).encode("utf-8"), day.encode("ascii"), "sha256")


# The day's key, derived once a day per secret rather than on every request, and kept as an HMAC
# that has already absorbed it: each request copies it and hashes only its own string to sign.
@functools.lru_cache(maxsize=64)
def _keyed_mac(secret: str, day_number: int) -> hmac.HMAC:
    return hmac.new(signing_key(secret, day_number * 86400), digestmod=_sha256)


def make_hmac_sign(secret: str, timestamp: int, appid: str, canonical: str) -> str:
    """The lower-case hex signature of a canonical request."""
    mac = _keyed_mac(secret, timestamp // 86400).copy()
    mac.update(string_to_sign(timestamp, appid, canonical).encode("utf-8"))
    return mac.hexdigest()


def hmac_sign_matches(expected: str, given: str) -> bool:
    """Compared in constant time; hex is accepted in either case, as for md5."""
    return hmac.compare_digest(expected.encode("ascii"), given.strip().lower().encode("utf-8", "replace"))
