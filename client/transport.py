"""RSA password transport on the client's side (SPEC §13.2): password fields leave encrypted.

The server's key (/crypto/key) is fetched once and kept until its expires_at. With `cryptography`
importable the client encrypts every password field; without it (or against a server without the
route) it sends them as they are, unless asked for `rsa` only.
"""
from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any

try:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding
except ImportError:  # an optional dependency: `pip install ./client[rsa]`
    serialization = None  # type: ignore[assignment]

PASSWORD_FIELDS = ("password", "pwd", "old_password", "password_confirmation")
MODES = ("auto", "rsa", "plain")
# ENCRYPTED_FIELD_INVALID: the key was retired (or the server's keys changed); fetch it again once.
ENCRYPTED_FIELD_INVALID = {"v1": 60038, "v2": 50024}
# ROUTE_NOT_FOUND: a server from before §13.2, which takes passwords as they are.
ROUTE_NOT_FOUND = {"v1": 60012, "v2": 9904}
# Fetch the next key a little before the published expiry, against clock skew and slow requests.
MARGIN = 60


class PasswordTransport:
    def __init__(self, mode: str = "auto"):
        if mode not in MODES:
            raise ValueError(f"password_transport must be one of {', '.join(MODES)}")
        if mode == "rsa" and serialization is None:
            raise ValueError("password_transport='rsa' needs the `cryptography` package")
        self.mode = mode if serialization is not None else "plain"
        self._key: dict[str, Any] | None = None
        self._unsupported = False

    def seal(self, params: dict[str, Any], fetch_key: Callable[[], dict[str, Any] | None]) -> dict[str, Any]:
        """`params` with each password field encrypted (a copy), or as given when it does not apply."""
        names = [n for n in PASSWORD_FIELDS if isinstance(params.get(n), str) and params[n]
                 and not params[n].startswith("rsa:")]
        if not names or self.mode == "plain" or self._unsupported:
            return params
        key = self._key
        if key is None or key["expires_at"] - MARGIN <= time.time():
            key = self._key = fetch_key()
            if key is None:  # the server has no /crypto/key
                self._unsupported = True
                return params
        public = serialization.load_pem_public_key(key["public_key"].encode("ascii"))
        oaep = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
        sealed = {n: "rsa:{}:{}".format(key["kid"], base64.urlsafe_b64encode(
            public.encrypt(params[n].encode("utf-8"), oaep)).rstrip(b"=").decode("ascii")) for n in names}
        return {**params, **sealed}

    def forget(self) -> bool:
        """Drop the kept key (after ENCRYPTED_FIELD_INVALID); whether there was one to drop."""
        had, self._key = self._key is not None, None
        return had
