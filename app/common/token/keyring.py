"""Signing keys of asymmetric JWTs (JWT_ALG = EdDSA, ES256 or RS256), kept in runtime/secrets/jwt/.

Each private key is a PEM file named after its `kid`; `keys.json` lists them, oldest first, with
the time each was retired (superseded by a newer one). A retired key keeps verifying until every
token it can have signed has expired (retired_at + the longest token lifetime + a minute for
workers that had not yet noticed the rotation), and is then dropped from the list and the JWKS.

Instances that verify each other's tokens share this folder (or a copy of it), as they share
JWT_SECRET with HS256. Workers notice `jwt:rotate` by the list's modification time, looked at
no more than once a second, and at once when a token names a kid they do not know yet.
"""
from __future__ import annotations

import fcntl
import json
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from app.common.clock import SYSTEM_CLOCK

ASYMMETRIC = ("EdDSA", "ES256", "RS256")
# Workers that had not looked at the list yet may sign with a retired key for about a second.
_RETIRE_SLACK = 60
_GENERATORS: dict[str, Callable[[], Any]] = {
    "EdDSA": ed25519.Ed25519PrivateKey.generate,
    "ES256": lambda: ec.generate_private_key(ec.SECP256R1()),
    "RS256": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
}
_JWK: dict[str, Callable[..., Any]] = {
    "EdDSA": OKPAlgorithm.to_jwk, "ES256": ECAlgorithm.to_jwk, "RS256": RSAAlgorithm.to_jwk,
}


@dataclass(frozen=True)
class SigningKey:
    kid: str
    alg: str
    private_key: Any
    created_at: int
    retired_at: int | None

    @property
    def public_key(self) -> Any:
        return self.private_key.public_key()

    def jwk(self) -> dict[str, Any]:
        """The public half as a JWK (RFC 7517), as /.well-known/jwks.json publishes it."""
        data: dict[str, Any] = _JWK[self.alg](self.public_key, as_dict=True)
        data.update(kid=self.kid, alg=self.alg, use="sig")
        return data


class Keyring:
    """The keys in `folder`: the current one signs, every key not yet past its last token verifies."""

    def __init__(self, folder: Path, alg: str, longest_ttl: int, clock: Callable[[], float] = SYSTEM_CLOCK.now):
        if alg not in ASYMMETRIC:
            raise ValueError(f"JWT_ALG {alg!r} has no key pair; use one of {', '.join(ASYMMETRIC)}")
        self.folder = folder
        self.alg = alg
        self.longest_ttl = longest_ttl
        self._clock = clock
        self._list = folder / "keys.json"
        self._keys: dict[str, SigningKey] = {}
        self._current: SigningKey | None = None
        self._seen_mtime = -1
        self._looked_at = 0.0
        self._load(create=True)

    # -- reading ---------------------------------------------------------------------------

    def current(self) -> SigningKey:
        """The key new tokens are signed with (a rotation by another process is seen within a second)."""
        now = self._clock()
        if now - self._looked_at >= 1:
            self._looked_at = now
            self._reload_if_changed()
        assert self._current is not None
        return self._current

    def verifying_key(self, kid: str) -> SigningKey | None:
        """The key called `kid` while it may still verify, else None."""
        key = self._keys.get(kid)
        if key is None and self._reload_if_changed():
            key = self._keys.get(kid)
        if key is None or not self._still_verifies(key, self._clock()):
            return None
        return key

    def published(self) -> list[SigningKey]:
        """Every key that may still verify a token, newest first."""
        self._reload_if_changed()
        now = self._clock()
        # The list is oldest first (two keys may share a creation second).
        return [k for k in reversed(self._keys.values()) if self._still_verifies(k, now)]

    def _still_verifies(self, key: SigningKey, now: float) -> bool:
        return key.retired_at is None or now < key.retired_at + self.longest_ttl + _RETIRE_SLACK

    def _reload_if_changed(self) -> bool:
        try:
            mtime = self._list.stat().st_mtime_ns
        except FileNotFoundError:
            return False
        if mtime == self._seen_mtime:
            return False
        self._load(create=False)
        return True

    def _load(self, create: bool) -> None:
        with self._locked():
            entries = self._read_list()
            if create and (not entries or entries[-1]["alg"] != self.alg):
                entries = self._add_key(entries)
            self._seen_mtime = self._list.stat().st_mtime_ns
        keys = {}
        for entry in entries:
            pem = (self.folder / f"{entry['kid']}.pem").read_bytes()
            keys[entry["kid"]] = SigningKey(entry["kid"], entry["alg"],
                                            serialization.load_pem_private_key(pem, password=None),
                                            entry["created_at"], entry["retired_at"])
        self._keys = keys
        # Each key signs and verifies with its own algorithm, whatever a token's header claims.
        self._current = keys[entries[-1]["kid"]]

    # -- writing ---------------------------------------------------------------------------

    def rotate(self) -> SigningKey:
        """Make a new current key; the others keep verifying until their last token expires."""
        with self._locked():
            entries = self._add_key(self._read_list())
        self._seen_mtime = -1
        self._reload_if_changed()
        assert self._current is not None and self._current.kid == entries[-1]["kid"]
        return self._current

    def _add_key(self, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Append a new key (the caller holds the lock), retire the previous, drop the dead."""
        now = int(self._clock())
        for entry in entries:
            entry["retired_at"] = entry["retired_at"] or now
        alive = [e for e in entries if now < e["retired_at"] + self.longest_ttl + _RETIRE_SLACK]
        for entry in entries:
            if entry not in alive:
                (self.folder / f"{entry['kid']}.pem").unlink(missing_ok=True)
        kid = secrets.token_urlsafe(12)
        pem = _GENERATORS[self.alg]().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        _write_private(self.folder / f"{kid}.pem", pem)
        alive.append({"kid": kid, "alg": self.alg, "created_at": now, "retired_at": None})
        _write_private(self._list, json.dumps(alive, indent=1).encode("utf-8"))
        return alive

    def _read_list(self) -> list[dict[str, Any]]:
        try:
            entries: list[dict[str, Any]] = json.loads(self._list.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        return entries

    def _locked(self) -> _FileLock:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        return _FileLock(self.folder / "keys.lock")


class _FileLock:
    """An exclusive flock, so two workers starting at once make one first key, not two."""

    def __init__(self, path: Path):
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    def __enter__(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)


def _write_private(path: Path, data: bytes) -> None:
    """Write owner-only, atomically: a reader sees the old file or the new one, never half."""
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)
