"""The JWT driver (Hyperf doc): signed tokens whose `jti` keys a database row.

HS256 (the default) signs with JWT_SECRET. EdDSA, ES256 and RS256 sign with the current key of
the keyring (app/common/token/keyring.py) and name it in the header's `kid`, so other services
verify with the public keys of /.well-known/jwks.json. Decoding pins the algorithm to the key
(never the header's `alg`: no `none`, no HS256-with-the-public-key confusion), requires every
claim the service relies on, checks `iss` (and `aud` when configured), and uses a leeway of
JWT_LEEWAY seconds (0 by default). `exp` and `iat` are checked here against the app's clock (PyJWT
would read the system's), with PyJWT's own messages.
"""
from __future__ import annotations

import functools
import secrets
from typing import Any

import jwt

from app.common.clock import SYSTEM_CLOCK, Clock
from app.common.error import ApiException
from app.common.text import Text
from app.common.token.driver import IssuedToken, ParsedToken, TokenDriver, token_invalid
from app.common.token.keyring import Keyring

REQUIRED_CLAIMS = ["exp", "iat", "jti", "sid", "type", "uid", "rid", "iss"]
# The Hyperf document's reason for a token that is not three dot-separated parts.
WRONG_SEGMENTS = Text("Wrong number of segments", "Wrong number of segments")
_EXPIRED = Text("登录过期", "login expired")
_UNKNOWN_KID = Text("Unknown or retired key id (kid)", "Unknown or retired key id (kid)")


def _check_issued_at(iat: Any, latest: float) -> None:
    """PyJWT's `iat` check (same errors, same words), against the app's clock instead of the system's."""
    try:
        issued_at = int(iat)
    except (ValueError, TypeError, OverflowError):
        raise jwt.InvalidIssuedAtError("Issued At claim (iat) must be an integer.") from None
    if issued_at > latest:
        raise jwt.ImmatureSignatureError("The token is not yet valid (iat)")


class JwtDriver(TokenDriver):
    name = "jwt"

    def __init__(self, secret: str, leeway: int = 0, *, issuer: str = "login-api", audience: str = "",
                 keyring: Keyring | None = None, clock: Clock = SYSTEM_CLOCK):
        self._key = secret.encode("utf-8")
        self._clock = clock
        self._leeway = leeway
        self._issuer = issuer
        self._audience = audience or None
        self._required = REQUIRED_CLAIMS + (["aud"] if audience else [])
        # None: HS256 under JWT_SECRET; else the asymmetric keys, each with its own algorithm.
        self.keyring = keyring
        # A client sends the same access token on every request; its signature need not be
        # re-verified each time (PyJWT spends ~60 us on it). Only successful verifications are
        # kept, keyed by the exact text; expiry is checked on every call below, and revocation
        # by the database row on every call in Auth, so the cache can never admit a dead token.
        self._verified = functools.lru_cache(maxsize=4096)(self._verify)

    def _verify(self, text: str) -> dict[str, Any]:
        key: Any = self._key
        algorithm = "HS256"
        if self.keyring is not None:
            kid = jwt.get_unverified_header(text).get("kid")
            signing_key = self.keyring.verifying_key(kid) if isinstance(kid, str) else None
            if signing_key is None:
                raise token_invalid(_UNKNOWN_KID)
            key, algorithm = signing_key.public_key, signing_key.alg
        claims: dict[str, Any] = jwt.decode(
            text, key, algorithms=[algorithm], leeway=self._leeway, issuer=self._issuer,
            audience=self._audience, options={"require": self._required, "verify_exp": False, "verify_iat": False})
        _check_issued_at(claims["iat"], self._clock.now() + self._leeway)
        if claims["type"] not in ("access", "refresh") or not isinstance(claims["jti"], str):
            raise token_invalid(Text("Invalid token type", "Invalid token type"))
        if not isinstance(claims["rid"], list) or not all(isinstance(r, str) for r in claims["rid"]):
            raise token_invalid(Text("Invalid rid claim", "Invalid rid claim"))
        if not isinstance(claims["exp"], int) or isinstance(claims["exp"], bool):
            raise token_invalid(Text("Expiration Time claim (exp) must be an integer.",
                                     "Expiration Time claim (exp) must be an integer."))
        return claims

    def issue(self, *, uid: int, sid: str, kind: str, ttl: int, rid: list[str], now: int) -> IssuedToken:
        jti = secrets.token_hex(16)
        claims: dict[str, Any] = {"iss": self._issuer, "uid": uid, "rid": rid, "iat": now, "exp": now + ttl,
                                  "jti": jti, "sid": sid, "type": kind}
        if self._audience:
            claims["aud"] = self._audience
        if self.keyring is None:
            text = jwt.encode(claims, self._key, algorithm="HS256")
        else:
            signing_key = self.keyring.current()
            text = jwt.encode(claims, signing_key.private_key, algorithm=signing_key.alg,
                              headers={"kid": signing_key.kid})
        return IssuedToken(text=text, key=jti, uid=uid, kind=kind, issued_at=now, expire_at=now + ttl)

    def looks_like(self, text: str) -> bool:
        return text.count(".") == 2

    def parse(self, text: str, *, verify_exp: bool = True) -> ParsedToken:
        if not self.looks_like(text):
            raise token_invalid(WRONG_SEGMENTS)
        try:
            claims = self._verified(text)
        except jwt.InvalidTokenError as exc:
            reason = str(exc) or type(exc).__name__
            raise token_invalid(Text(reason, reason)) from None
        if verify_exp and claims["exp"] <= self._clock.now() - self._leeway:
            raise ApiException("TOKEN_EXPIRED", reason=_EXPIRED)
        return ParsedToken(key=claims["jti"], kind=claims["type"], claims=claims)
