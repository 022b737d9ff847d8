"""Long polls are cheap: 2,000 QR login polls waiting on one worker, and the latency of other requests.

    python bench/qrlogin_longpoll.py                    # 2,000 waiting polls, 400 probes each phase (~20 s)
    python bench/qrlogin_longpoll.py --polls 500 --probes 200

Starts `python server.py --workers 1` (fresh RUNTIME_DIR, SQLite + LMDB cache), makes a user and
--polls QR login tickets, then measures the signed /v2/test (checkLogin: a database read) --probes
times, 4 at a time: first idle, then while every ticket has a long poll (`wait` 25) waiting on a
connection of its own. Prints p50/p99 of both phases, the server's CPU share while the polls wait,
and checks that no poll answered early and that a scan wakes its poll at once. Not a test: the
figures depend on the machine. The server is stopped by its own PID.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from processes import Server  # noqa: E402
from service_setup import JWT_SECRET, SIGN_SECRET, admin, server_env  # noqa: E402

from app.common.cache import make_cache  # noqa: E402
from app.common.database import init_database  # noqa: E402
from app.common.sign import make_sign  # noqa: E402
from app.model.database_identity import database_identity  # noqa: E402
from app.service.qrlogin import QrLoginService  # noqa: E402
from config import load_settings  # noqa: E402

WAIT = 25


class Connection:
    """One keep-alive HTTP/1.1 connection: enough client for thousands of them in one process."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def post(self, path: str, params: dict[str, Any], token: str | None = None) -> dict[str, Any]:
        body = {**params, "timestamp": int(time.time()), "nonce": secrets.token_hex(8)}
        data = json.dumps(body).encode()
        headers = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json",
                   f"Content-Length: {len(data)}", f"sign: {make_sign(body, SIGN_SECRET)}"]
        if token:
            headers.append(f"Authorization: Bearer {token}")
        self.writer.write(("\r\n".join(headers) + "\r\n\r\n").encode() + data)
        await self.writer.drain()
        return await self.answer()

    async def answer(self) -> dict[str, Any]:
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        return json.loads(await self.reader.readexactly(length))

    def close(self) -> None:
        self.writer.close()


async def probe(port: int, token: str, count: int) -> list[float]:
    """Latencies (ms) of `count` signed /v2/test calls, 4 connections at a time."""
    latencies: list[float] = []

    async def worker(n: int) -> None:
        conn = await Connection.open(port)
        for _ in range(n):
            started = time.perf_counter()
            answer = await conn.post("/v2/test", {}, token)
            latencies.append((time.perf_counter() - started) * 1000)
            assert answer["code"] == 200, answer
        conn.close()

    await asyncio.gather(*(worker(count // 4) for _ in range(4)))
    return latencies


def summary(latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered):6.1f} ms   p99 {p99:6.1f} ms   (n={len(ordered)})"


async def run(server: Server, polls: int, probes: int, settings: Any) -> None:
    port = server.port
    setup = await Connection.open(port)
    token = (await setup.post("/v2/login/jwt/get", {"account": "bench", "pwd": "bench_pass_1234"}))["data"]["jwt"]
    started = time.monotonic()
    tickets = [(await setup.post("/v2/qrlogin/create", {}))["data"] for _ in range(20)]
    print(f"qrlogin/create (QR code PNG, audit row): {(time.monotonic() - started) * 50:.1f} ms each")
    # The rest straight into the server's cache, by the service itself (LMDB is shared between processes):
    # creating them through the API would take longer than the measurement on a small machine.
    # Under the database's identity, as server.py opens it: the server reads only its own keys.
    init_database(settings.DATABASE_URL, settings.DB_BUSY_TIMEOUT)
    cache = make_cache(settings, database_identity(settings.DATABASE_URL))
    service = QrLoginService(settings, cache, audit=None)
    for _ in range(polls - len(tickets)):
        ticket, poll_secret = await service.open_ticket("web", "127.0.0.1", "bench")
        tickets.append({"ticket": ticket, "poll_secret": poll_secret})
    creators: list[Connection] = []
    idle = await probe(port, token, probes)
    print(f"idle:                  {summary(idle)}")

    waiting = [await Connection.open(port) for _ in tickets]
    sent = [asyncio.create_task(c.post("/v2/qrlogin/poll", {"ticket": t["ticket"], "poll_secret": t["poll_secret"],
                                                           "wait": WAIT}))
            for c, t in zip(waiting, tickets, strict=True)]
    await asyncio.sleep(2)  # every poll sent and parked
    ticks, clock = server.cpu(), time.monotonic()
    busy = await probe(port, token, probes)
    used = (server.cpu() - ticks) / os.sysconf("SC_CLK_TCK") / (time.monotonic() - clock)
    print(f"{len(sent)} polls waiting: {summary(busy)}   server CPU {used:.0%} of a core while probing")
    early = sum(task.done() for task in sent)
    woken = time.monotonic()
    scanner = await Connection.open(port)  # the first one's keep-alive has run out by now
    await scanner.post("/v2/qrlogin/scan", {"ticket": tickets[0]["ticket"]}, token)
    answer = await asyncio.wait_for(sent[0], 5)
    print(f"polls answered early: {early}; a scan woke its poll in {(time.monotonic() - woken) * 1000:.0f} ms "
          f"({answer['data']['state']})")
    idle_ticks, clock = server.cpu(), time.monotonic()
    await asyncio.sleep(2)
    used = (server.cpu() - idle_ticks) / os.sysconf("SC_CLK_TCK") / (time.monotonic() - clock)
    print(f"server CPU with {len(sent) - 1} polls waiting and nothing else: {used:.0%} of a core")
    for task in sent:
        task.cancel()
    for conn in waiting + creators + [setup, scanner]:
        conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--polls", type=int, default=2000)
    parser.add_argument("--probes", type=int, default=400)
    args = parser.parse_args()
    runtime = Path(tempfile.mkdtemp(prefix="qrlogin-bench-"))
    # Cheap password hashing: the one login here is setup, not what is measured.
    cheap_hashes = {"PASSWORD_TIME_COST": "1", "PASSWORD_MEMORY_COST": "1024"}
    server = None
    try:
        admin(runtime, "user:create", "--account", "bench", "--phone", "13800000000", "--password", "bench_pass_1234",
              **cheap_hashes)
        server = Server("service", [sys.executable, str(ROOT / "server.py"), "--workers", "1"],
                        server_env(runtime, **cheap_hashes), runtime / "bench-server.log")
        server.wait_ready()
        settings = load_settings({"RUNTIME_DIR": str(runtime), "SIGN_SECRET": SIGN_SECRET, "JWT_SECRET": JWT_SECRET})
        asyncio.run(run(server, args.polls, args.probes, settings))
    finally:
        if server is not None:
            # Parked polls hold uvicorn's graceful shutdown until they expire: no longer than before.
            server.stop(grace=10)
        shutil.rmtree(runtime, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
