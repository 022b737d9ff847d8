"""Shared by the scale-out tests: which services are up, SQL on any DATABASE_URL, killing a process tree."""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from tests.support import create_database, drop_database

PORTS = {"mysql": 3306, "postgres": 5432, "redis": 6379}
NAMES = {"mysql": "MariaDB", "postgres": "PostgreSQL", "redis": "Redis"}
# Per-address limits are not what these tests measure (the servers hash cheaply, as every test server).
FAST = {"SMS_IP_LIMIT": 100000, "SMS_VERIFY_IP_LIMIT": 100000, "LOGIN_IP_LIMIT": 100000,
        "SMS_HOURLY_LIMIT": 100000, "SMS_DAILY_LIMIT": 1000}


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def require(*services: str) -> None:
    """Skip the test, saying why, unless every named service ("mysql", "postgres", "redis") answers."""
    down = [s for s in services if not port_open(PORTS[s])]
    if down:
        pytest.skip("needs " + ", ".join(f"{NAMES[s]} on 127.0.0.1:{PORTS[s]}" for s in down)
                    + ": not reachable (start it with the command in the machine's docs or .ci/run)")


@contextlib.contextmanager
def fresh_database(backend: str, folder: Path) -> Iterator[str]:
    """The DATABASE_URL of a new empty database of `backend` ("sqlite", "mysql", "postgres"), dropped after."""
    if backend == "sqlite":
        folder.mkdir(parents=True, exist_ok=True)
        yield f"sqlite:///{folder / 'app.db'}"
        return
    require(backend)
    name, url = create_database(backend)
    try:
        yield url
    finally:
        drop_database(backend, name)


def drop_redis_prefix(url: str, prefix: str) -> None:
    """Delete every key under `prefix` from the Redis at `url` (what a test's servers left there)."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(prefix + "*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def run_sql(url: str, sql: str, *params: Any) -> list[tuple]:
    """Run SQL on the database of `url` (write `?` for parameters); the rows it returns."""
    parts = urlparse(url)
    if parts.scheme == "sqlite":
        conn = sqlite3.connect(url[len("sqlite:///"):], timeout=10)
        try:
            with conn:
                return conn.execute(sql, params).fetchall()
        finally:
            conn.close()
    sql = sql.replace("?", "%s")
    name = parts.path.lstrip("/")
    if parts.scheme in ("mysql", "mariadb"):
        import pymysql
        with pymysql.connect(host=parts.hostname, port=parts.port or 3306, user=parts.username or "root",
                             password=parts.password or "", database=name, autocommit=True) as conn:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return [tuple(row) for row in cur.fetchall()]
    import psycopg
    with psycopg.connect(host=parts.hostname, port=parts.port or 5432, user=parts.username or "postgres",
                         dbname=name, autocommit=True) as conn:
        cur = conn.execute(sql, params)
        return [tuple(row) for row in cur.fetchall()] if cur.description else []


def listeners(port: int) -> list[str]:
    """The processes on this machine holding a socket that listens on TCP `port`: "pid cmdline" each (read
    from /proc/net/tcp, tcp6 and the processes' file descriptors). Not by connecting: a connection to a
    free port in the ephemeral range can, rarely, connect to itself (TCP simultaneous open), and a
    listening socket that no process holds any more may still accept."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError), open(table) as f:
            for line in list(f)[1:]:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                    inodes.add(f"socket:[{fields[9]}]")
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc") if inodes else []):
        with contextlib.suppress(OSError):
            if any(os.readlink(f"/proc/{pid}/fd/{fd}") in inodes for fd in os.listdir(f"/proc/{pid}/fd")):
                command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                found.append(f"{pid} {command.strip()}")
    return found


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: the fields after the last ")" are fixed.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def process_tree(pid: int) -> list[int]:
    """`pid` and every descendant of it (read from /proc)."""
    tree, found, todo = _children(), [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(tree.get(current, []))
    return found


def kill_tree(pid: int) -> list[int]:
    """SIGKILL `pid` and all its descendants: stopped first, so none can react to the others dying."""
    pids = process_tree(pid)
    for p in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(p, signal.SIGSTOP)
    pids = sorted(set(pids + [c for p in pids for c in process_tree(p)]))
    for p in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(p, signal.SIGKILL)
    return pids


def wait_gone(pids: list[int], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    for p in pids:
        while Path(f"/proc/{p}").exists():
            try:
                with open(f"/proc/{p}/stat") as f:
                    if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                        break  # a zombie: dead, waiting for its parent to reap it
            except OSError:
                break
            assert time.monotonic() < deadline, f"process {p} survived SIGKILL"
            time.sleep(0.02)
