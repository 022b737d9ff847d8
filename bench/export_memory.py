"""Export memory and responsiveness (SPEC §14): a measurement, not a test.

    python bench/export_memory.py                    # 1,000,000 audit rows, CSV
    python bench/export_memory.py --rows 200000 --format xlsx

It makes a fresh RUNTIME_DIR under /tmp (SQLite), an administrator, and ROWS audit rows inserted in
one INSERT … SELECT; starts `python server.py` (one worker); then downloads /v2/admin/audit/export
while it samples the server's RSS (VmRSS of the process and its children, /proc/<pid>/status) every
0.1 s and times a signed /v2/test every 0.5 s. It prints idle and peak RSS, their difference, the
export's size and time, and the /v2/test latencies during the export. The server it started is
stopped by its own PID; the folder is removed.
"""
from __future__ import annotations

import argparse
import secrets
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from processes import Server  # noqa: E402
from service_setup import SIGN_SECRET, admin, server_env  # noqa: E402

from app.common.sign import make_sign  # noqa: E402

ACCOUNT, PHONE, PASSWORD = "benchadmin", "13800000000", "bench_pass_123456"


def rss_kib(pid: int) -> int:
    """VmRSS of `pid` and its child processes, in KiB."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, StopIteration):
            continue
    return total


def post(base: str, path: str, params: dict[str, Any], token: str | None = None, **kwargs: Any) -> requests.Response:
    body = {**params, "timestamp": int(time.time()), "nonce": secrets.token_hex(8)}
    headers = {"sign": make_sign(body, SIGN_SECRET)}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.post(base + path, json=body, headers=headers, timeout=600, **kwargs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    args = parser.parse_args()
    runtime = Path(tempfile.mkdtemp(prefix="export-bench-"))
    server = None
    try:
        admin(runtime, "user:create", "--account", ACCOUNT, "--phone", PHONE, "--password", PASSWORD, "--admin")
        started = time.monotonic()
        with sqlite3.connect(runtime / "app.db") as conn:
            conn.execute(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
                "INSERT INTO audit_log (created_at, event, outcome, uid, account, ip, detail) "
                "SELECT 1700000000 + i, 'login', 'failed', i % 5000, 'user' || i, '10.0.' || (i % 256) || '.1', "
                "'bench row ' || i FROM n", (args.rows,))
        print(f"inserted {args.rows:,} audit rows in {time.monotonic() - started:.1f} s")
        server = Server("service", [sys.executable, str(ROOT / "server.py"), "--workers", "1"], server_env(runtime),
                        runtime / "bench-server.log")
        server.wait_ready()
        base, pid = server.url, server.process.pid
        token = post(base, "/v2/login/jwt/get", {"account": ACCOUNT, "pwd": PASSWORD}).json()["data"]["jwt"]
        for _ in range(20):  # warm: the routes, the token check, the thread pool
            post(base, "/v2/test", {}, token)
            post(base, "/v2/admin/audit/list", {"limit": 100}, token)
        time.sleep(1)
        idle = rss_kib(pid)
        samples: list[int] = []
        latencies: list[float] = []
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                samples.append(rss_kib(pid))
                time.sleep(0.1)

        def probe() -> None:
            while not done.is_set():
                begun = time.monotonic()
                answer = post(base, "/v2/test", {}, token)
                latencies.append(time.monotonic() - begun)
                assert answer.status_code == 200, answer.text
                done.wait(0.5)

        threads = [threading.Thread(target=sample), threading.Thread(target=probe)]
        for thread in threads:
            thread.start()
        begun = time.monotonic()
        size = lines = 0
        with post(base, "/v2/admin/audit/export", {"format": args.format}, token, stream=True) as response:
            assert response.status_code == 200, response.text[:300]
            for chunk in response.iter_content(256 * 1024):
                size += len(chunk)
                lines += chunk.count(b"\n")
        elapsed = time.monotonic() - begun
        done.set()
        for thread in threads:
            thread.join()
        peak = max(samples + [idle])
        print(f"export: {args.format}, {args.rows:,} rows, {size / 1e6:.1f} MB"
              + (f", {lines - 1:,} data lines" if args.format == "csv" else "") + f", {elapsed:.1f} s")
        print(f"server RSS: idle {idle / 1024:.1f} MiB, peak {peak / 1024:.1f} MiB during the export, "
              f"+{(peak - idle) / 1024:.1f} MiB ({len(samples)} samples)")
        print(f"/v2/test during the export: {len(latencies)} requests, all 200; median "
              f"{statistics.median(latencies) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms")
        return 0 if peak - idle <= 100 * 1024 else 1
    finally:
        if server is not None:
            server.stop(grace=10)
        shutil.rmtree(runtime, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
