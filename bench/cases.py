"""The cases bench/run.py measures, and the row of figures each one gives."""
from __future__ import annotations

import json
from dataclasses import dataclass, field

# POST /echo sends a login-shaped JSON body of about the size of a signed request.
ECHO_BODY = json.dumps({"account": "bench_user", "pwd": "bench_pass_123456", "timestamp": 1700000000,
                        "nonce": "0123456789abcdef", "client": "bench"}, separators=(",", ":"))


@dataclass
class Case:
    name: str
    title: str
    group: str          # which server: bare, signed, unsigned, rows_1k, rows_1m, peer
    note: str = ""


CASES = [
    Case("echo", "bare Starlette POST /echo (JSON in, JSON out)", "bare"),
    Case("status_signed", "POST /v2/login/jwt/status, signed", "signed"),
    Case("test_signed_jwt", "POST /v2/test, signed, JWT", "signed"),
    Case("test_during_login", "POST /v2/test, signed, JWT, while logins run", "signed"),
    Case("test_unsigned_jwt", "POST /v2/test, unsigned, JWT", "unsigned"),
    Case("test_unsigned_md5", "POST /v2/test, unsigned, md5 token", "unsigned"),
    Case("login", "POST /v2/login/jwt/get (argon2id), unsigned", "unsigned"),
    Case("rows_1k", "POST /v2/test, signed, JWT, 1,000 live token rows", "rows_1k"),
    Case("rows_1m", "POST /v2/test, signed, JWT, 1,000,000 live token rows", "rows_1m"),
    Case("peer_me", "peer: fastapi-users GET /users/me, JWT (SQLite)", "peer"),
]
BY_NAME = {c.name: c for c in CASES}
DEFAULT_CASES = [c.name for c in CASES if c.group != "peer"]


@dataclass
class Row:
    case: str
    title: str
    workers: int
    rps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    requests: int = 0
    non2xx: int = 0
    socket_errors: int = 0
    timeouts: int = 0
    exhausted: int = 0
    ratio_echo: float | None = None
    server_cpu_pct: float | None = None
    loadgen_cpu_pct: float | None = None
    other_cpu_pct: float | None = None
    note: str = ""
    samples: list[str] = field(default_factory=list)
    error: str = ""
    side_non2xx: int = 0  # test_during_login: non-2xx answers of the login load

    @property
    def valid(self) -> bool:
        """Measured, and wrk never ran out of pre-made requests (a resent signed one is a replay)."""
        return not self.error and not self.exhausted and self.rps > 0

    @property
    def noisy(self) -> bool:
        return (self.other_cpu_pct or 0) > NOISY_PCT


# A row during which the rest of the machine used more than this % of a core is flagged noisy.
NOISY_PCT = 25
