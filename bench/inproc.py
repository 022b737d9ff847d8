"""Signed JWT /v2/test in-process: ASGI calls without a socket, for CPU time and instruction counts.

Wall-clock benchmarks (bench/run.py) drift by ±20% on a shared VM; the CPU a request costs in the
process, and above all the instructions it executes, do not depend on what else the machine runs.
Run it from the tree to measure (it imports that tree's server.py), for example old against new:

    python bench/inproc.py --requests 5000                    # CPU µs per request
    valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out "$(python -c 'import sys; print(sys.executable)')" \
        bench/inproc.py --requests 500 --quiet               # and again with --prepare-only: the difference of the
    grep ^summary /tmp/cg.out                                 # two summaries is the server's instructions for 500

`--setting NAME=VALUE` changes the service's configuration (e.g. JWT_ALG=EdDSA).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIGN_SECRET = "bench-sign-secret-0123456789abcdef"
JWT_SECRET = "bench-jwt-secret-0123456789abcdef0123456789abcdef"


SIGN_METHOD = "md5"


def signed_request(path: str, params: dict[str, Any], token: str | None = None) -> tuple[bytes, list]:
    """A signed JSON POST's body and headers (made before the clock starts: the client's work is not the server's)."""
    from app.common.sign import make_sign

    params = {**params, "timestamp": int(time.time()), "nonce": secrets.token_hex(8)}
    body = json.dumps(params).encode("utf-8")
    authorization = "Bearer " + token if token else ""
    if SIGN_METHOD == "md5":
        sign = make_sign(params, SIGN_SECRET)
    else:  # SPEC §13.1, as the Python client signs
        from client.signing import hmac_sign
        sign = hmac_sign(SIGN_SECRET, params["timestamp"], "", "POST", path, "", "application/json", authorization,
                         body)
    headers = [(b"content-type", b"application/json"), (b"sign", sign.encode()),
               (b"content-length", str(len(body)).encode())]
    if SIGN_METHOD != "md5":
        headers.append((b"sign-method", SIGN_METHOD.encode()))
    if token:
        headers.append((b"authorization", authorization.encode()))
    return body, headers


async def call(app: Any, path: str, params: dict[str, Any], token: str | None = None,
               prepared: tuple[bytes, list] | None = None) -> dict[str, Any]:
    """One signed JSON POST through the ASGI app; the decoded answer."""
    body, headers = prepared or signed_request(path, params, token)
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "headers": headers,
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000)}
    sent: list[dict[str, Any]] = []
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if delivered:
            return {"type": "http.disconnect"}
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return json.loads(b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"))


async def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--setting", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--sign-method", default="md5", choices=("md5", "hmac-sha256"))
    parser.add_argument("--prepare-only", action="store_true",
                        help="sign the requests but send none: the baseline of a callgrind run, whose difference "
                             "to a full run is the server's work alone")
    args = parser.parse_args(argv)
    global SIGN_METHOD
    SIGN_METHOD = args.sign_method
    import server

    runtime = Path(tempfile.mkdtemp(prefix="bench-inproc-"))
    settings = {"RUNTIME_DIR": str(runtime), "SIGN_SECRET": SIGN_SECRET, "JWT_SECRET": JWT_SECRET,
                "LOG_LEVEL": "warning", "PASSWORD_TIME_COST": 1, "PASSWORD_MEMORY_COST": 1024}
    settings.update(dict(item.split("=", 1) for item in args.setting))
    booted = server.boot(settings)  # schema and settings, as the server starts
    from app.common.auth import Auth
    from app.model.user import User, account_key

    app = server.create_app(booted)
    User.create(account="bench", account_key=account_key("bench"), phone="13900000001",
                password_hash=Auth.instance().passwords.hash_sync("bench_pass_1"))
    got = await call(app, "/v2/login/jwt/get", {"account": "bench", "pwd": "bench_pass_1"})
    token = got["data"]["jwt"]
    for _ in range(200):  # warm: caches, the verified-signature LRU, code paths
        await call(app, "/v2/test", {}, token)
    prepared = [signed_request("/v2/test", {}, token) for _ in range(args.requests)]
    if args.prepare_only:
        return 0
    started = time.process_time()
    for request in prepared:
        answer = await call(app, "/v2/test", {}, token, request)
    spent = time.process_time() - started
    if args.requests and answer.get("code") != 200:
        print(f"unexpected answer: {answer}", file=sys.stderr)
        return 1
    if not args.quiet and args.requests:
        print(f"{args.requests} signed JWT /v2/test in-process: {spent / args.requests * 1e6:.1f} µs CPU each")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
