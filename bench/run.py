"""Benchmark of the login API against the bare stack it runs on (issue 8), with wrk.

    python bench/run.py                     # every case, 1 and 2 workers, 10 s each (7-9 min)
    python bench/run.py --quick             # smoke run: 3 s per case
    python bench/run.py --cases echo,test_signed_jwt,rows_1k,rows_1m --workers 1
    python bench/run.py --peer              # also fastapi-users' GET /users/me (throwaway venv in /tmp)
    python bench/run.py --list              # the cases

In one run it starts a bare Starlette app (bench/bare_app.py) and the service (`python server.py`)
on the same uvicorn settings (uvloop + httptools, no access log, `--workers N`), each with a fresh
RUNTIME_DIR under /tmp and known secrets, and measures every case with
`wrk -t2 -c32 -dDURATION --latency -s bench/wrk.lua` after a short warm-up. Signed requests are
made in Python right before each wrk run (a fresh nonce, timestamp and sign each, about twice as
many as the warm-up rate says will be sent) and wrk sends each exactly once. After the cases it
alternates the echo and the signed /v2/test (--pairs, --pair-duration) with both servers up and
reports the median ratio, which the VM's drift in speed moves far less. Every server it
started is stopped by its own PID. The table goes to stdout and, as markdown and JSON, to
bench/results/<timestamp>.md/.json (git-ignored).

Needs wrk (Debian: `apt-get install wrk`) and the project's requirements; nothing else.
"""
from __future__ import annotations

import argparse
import atexit
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
LUA = BENCH / "wrk.lua"
RESULTS = BENCH / "results"
sys.path.insert(0, str(ROOT))

from app.common.sign import make_sign  # noqa: E402  (the project's own signer, SPEC §4)

SIGN_SECRET = "bench-sign-secret-0123456789abcdef"
JWT_SECRET = "bench-jwt-secret-0123456789abcdef0123456789abcdef"
ACCOUNT, PHONE, PASSWORD = "bench", "13800000000", "bench_pass_123456"
# POST /echo sends a login-shaped JSON body of about the size of a signed request.
ECHO_BODY = json.dumps({"account": "bench_user", "pwd": "bench_pass_123456", "timestamp": 1700000000,
                        "nonce": "0123456789abcdef", "client": "bench"}, separators=(",", ":"))
# Settings a developer's shell or .env might carry, which must not leak into the servers.
ENV_PREFIXES = ("APP_", "SIGN_", "JWT_", "DATABASE_", "REDIS_", "CACHE_", "AUTH_", "TOKEN_", "REFRESH_",
                "PASSWORD_", "LOGIN_", "SMS_", "CAPTCHA_", "DB_", "LOG_", "RUNTIME_", "VERSIONS",
                "DEFAULT_VERSION", "MAX_BODY", "TRUSTED_", "PHONE_")


# ---- processes ---------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children_of(pid: int) -> list[int]:
    """Every descendant PID of `pid` (uvicorn's worker processes and whatever they start)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def start_time(pid: int) -> int | None:
    """The process's start time in ticks since boot: with the PID, it names one process for sure."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def cpu_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime + stime
        except (OSError, IndexError, ValueError):
            pass
    return total


def busy_ticks() -> int:
    """Non-idle CPU ticks of the whole machine (all cores)."""
    with open("/proc/stat") as f:
        parts = f.readline().split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in parts[:8])
    return user + nice + system + irq + softirq + steal


HZ = os.sysconf("SC_CLK_TCK")
RUNNING: list[Server] = []            # servers this script started and has not stopped yet
LOADS: list[subprocess.Popen] = []    # wrk processes this script started


class Server:
    """A server process this script started; stopped by its own PID (and its workers' PIDs)."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_path: Path, cwd: Path = ROOT):
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._log = open(log_path, "ab")
        self.process = subprocess.Popen([*argv, "--port", str(self.port)], cwd=cwd, env=env,
                                        stdout=self._log, stderr=subprocess.STDOUT)
        # Every PID of this server (uvicorn's workers too), with its start time, so that a PID is
        # only ever signalled while it still names the process this script started.
        self.pids: dict[int, int | None] = {self.process.pid: start_time(self.process.pid)}
        RUNNING.append(self)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                urllib.request.urlopen(self.url + "/", timeout=2).read()
                break
            except urllib.error.HTTPError:
                break  # any HTTP answer means it serves
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        else:
            raise RuntimeError(f"{self.name} did not answer within {timeout:.0f} s:\n{self.log_tail()}")
        time.sleep(0.3)  # let every worker of --workers N finish its start-up
        self.tree()

    def tree(self) -> list[int]:
        pids = [self.process.pid, *children_of(self.process.pid)]
        for pid in pids:
            self.pids.setdefault(pid, start_time(pid))
        return pids

    def cpu(self) -> int:
        return cpu_ticks(self.tree())

    def log_tail(self, lines: int = 30) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.tree()
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for pid, started in self.pids.items():  # a worker left behind: by its own PID only
            if pid != self.process.pid and started is not None and start_time(pid) == started:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self._log.close()
        if self in RUNNING:
            RUNNING.remove(self)


def stop_all() -> None:
    for load in LOADS:  # a wrk still running (the run was interrupted): by its own PID
        if load.poll() is None:
            load.terminate()
            try:
                load.wait(5)
            except subprocess.TimeoutExpired:
                load.kill()
    for server in list(RUNNING):
        try:
            server.stop()
        except Exception as exc:  # noqa: BLE001 - best effort at exit
            print(f"warning: could not stop {server.name}: {exc}", file=sys.stderr)


# Settings for every service process of this run (--server-env JWT_ALG=EdDSA), to compare configurations.
EXTRA_SERVER_ENV: dict[str, str] = {}


def server_env(runtime: Path, **settings: Any) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIXES)}
    env.update(RUNTIME_DIR=str(runtime), SIGN_SECRET=SIGN_SECRET, JWT_SECRET=JWT_SECRET, LOG_LEVEL="warning",
               DATABASE_URL="", REDIS_URL="", CACHE_PATH="", APP_DEBUG="0")
    env.update(EXTRA_SERVER_ENV)
    env.update({k: str(v) for k, v in settings.items()})
    return env


def admin(runtime: Path, *args: str) -> str:
    done = subprocess.run([sys.executable, str(ROOT / "server.py"), *args], cwd=ROOT, env=server_env(runtime),
                          capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"server.py {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def create_user(runtime: Path) -> int:
    """The bench user, made with `python server.py user:create` (which also creates the schema)."""
    out = admin(runtime, "user:create", "--account", ACCOUNT, "--phone", PHONE, "--password", PASSWORD)
    match = re.search(r"user (\d+)", out)
    if not match:
        raise RuntimeError(f"unexpected user:create output: {out!r}")
    return int(match.group(1))


def login_account(k: int) -> str:
    """The k-th login account: `bench`, then `bench_1`, `bench_2`, ... (same password)."""
    return ACCOUNT if k == 0 else f"{ACCOUNT}_{k}"


def add_login_accounts(db_path: Path, uid: int, count: int) -> None:
    """Accounts 1..count-1 beside user `uid`, copies of its row (so of its password hash), so that
    logins spread over accounts as real ones do instead of all queueing on one account's counters."""
    with sqlite3.connect(db_path) as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(users)") if row[1] != "id"]
        phone = int(PHONE)
        for k in range(1, count):
            # `phone` holds a blind index (SPEC §13.3): a unique 32-hex stand-in; they log in by account.
            values = {"account": login_account(k), "account_key": login_account(k), "phone": f"{phone + k:032x}"}
            names = ", ".join(f'"{c}"' for c in columns)
            picked = ", ".join("?" if c in values else f'"{c}"' for c in columns)
            conn.execute(f"INSERT INTO users ({names}) SELECT {picked} FROM users WHERE id = ?",
                         [values[c] for c in columns if c in values] + [uid])


def add_token_rows(db_path: Path, count: int, uid: int) -> float:
    """`count` live rows in auth_token, inserted directly; the indexes are rebuilt after (fast)."""
    started = time.monotonic()
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-400000")
        indexes = conn.execute("SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name='auth_token' "
                               "AND sql IS NOT NULL").fetchall()
        now = int(time.time())
        urandom = os.urandom

        def rows():
            # Shaped as the drivers store them: sha256 hex of md5-driver tokens, 32-hex jti of JWTs
            # (an access and a refresh row per session), all live for 30 days.
            for k in range(count):
                kind = ("md5", "access", "refresh")[k % 3]
                key = urandom(32).hex() if kind == "md5" else urandom(16).hex()
                yield key, kind, uid, urandom(16).hex(), now, now + 30 * 86400, 0

        conn.execute("BEGIN")
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        conn.executemany("INSERT INTO auth_token (token_key, kind, uid, sid, issued_at, expire_at, revoked) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?)", rows())
        for _, sql in indexes:
            conn.execute(sql)
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("ANALYZE")
    finally:
        conn.close()
    return time.monotonic() - started


# ---- HTTP helpers (stdlib only) ----------------------------------------------------------------

def signed(params: dict[str, Any]) -> tuple[dict[str, Any], str]:
    body = {**params, "timestamp": int(time.time()), "nonce": secrets.token_hex(8)}
    return body, make_sign(body, SIGN_SECRET)


def post(url: str, body: dict[str, Any] | None = None, *, sign: bool, token: str | None = None,
         form: bool = False, method: str = "POST", timeout: float = 30) -> tuple[int, Any]:
    headers: dict[str, str] = {}
    body = dict(body or {})
    if sign:
        body, headers["sign"] = signed(body)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None
    if method != "GET":
        if form:
            data = urllib.parse.urlencode(body).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode(errors="replace")


def expect_v2(status: int, body: Any, what: str) -> Any:
    if status not in (200, 201) or not isinstance(body, dict) or body.get("code") != 200:
        raise RuntimeError(f"{what}: HTTP {status} {str(body)[:300]}")
    return body.get("data")


def login_jwt(base: str, sign: bool) -> str:
    status, body = post(base + "/v2/login/jwt/get", {"account": ACCOUNT, "pwd": PASSWORD}, sign=sign)
    return expect_v2(status, body, "POST /v2/login/jwt/get")["jwt"]


def login_md5(base: str, sign: bool) -> str:
    status, body = post(base + "/v2/login", {"username": ACCOUNT, "password": PASSWORD}, sign=sign)
    return expect_v2(status, body, "POST /v2/login")["token"]


# ---- wrk ---------------------------------------------------------------------------------------

@dataclass
class Load:
    """What wrk sends: one fixed body, or pre-made requests, one line each: `params(k)` for the k-th,
    signed with its own timestamp and nonce when `sign` is set."""

    path: str
    method: str = "POST"
    body: str | None = None                                   # fixed body
    params: Callable[[int], dict[str, Any]] | None = None     # parameters of the k-th request
    sign: bool = True
    token: str | None = None
    ctype: str = "application/json"

    @property
    def premade(self) -> bool:
        """Pre-made, one line per request (the body changes from request to request)."""
        return self.params is not None


_RESULT = re.compile(r"(\w+)=([-\d.]+)")


def write_bodies(path: Path, load: Load, count: int) -> None:
    """`count` requests, "<sign>\\t<json>" each: signed ones with their own nonce and a timestamp of now."""
    assert load.params is not None
    params, ts, token_hex = load.params, int(time.time()), secrets.token_hex
    dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
    with open(path, "w") as f:
        for k in range(count):
            if load.sign:
                body = {**params(k), "timestamp": ts, "nonce": token_hex(8)}
                f.write(f"{make_sign(body, SIGN_SECRET)}\t{dumps(body)}\n")
            else:
                f.write(f"\t{dumps(params(k))}\n")


class Wrk:
    """One wrk process: its requests are made (and signed) here, before `start()` launches it."""

    def __init__(self, base: str, load: Load, seconds: float, *, threads: int, connections: int,
                 count: int = 0, timeout: str | None = None, work: Path):
        self.load = load
        self.env = dict(os.environ, BENCH_METHOD=load.method, BENCH_AUTH=load.token or "", BENCH_CTYPE=load.ctype,
                        BENCH_THREADS=str(threads))
        self.bodies: Path | None = None
        if load.premade:
            self.bodies = work / f"bodies-{secrets.token_hex(4)}.txt"
            write_bodies(self.bodies, load, count)
            self.env.update(BENCH_BODIES=str(self.bodies), BENCH_COUNT=str(count))
        else:
            self.env["BENCH_BODY"] = load.body or ""
        self.argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency",
                     "-s", str(LUA)]
        if timeout:
            self.argv += ["--timeout", timeout]
        self.argv.append(base + load.path)
        self.process: subprocess.Popen | None = None
        self._early: list[str] = []

    def start(self) -> Wrk:
        self.process = subprocess.Popen(self.argv, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True)
        LOADS.append(self.process)
        return self

    def wait_ready(self, threads: int) -> None:
        """Until every wrk thread has loaded its requests (its Lua init prints READY): the clock starts."""
        assert self.process is not None and self.process.stdout is not None, "start() first"
        ready = 0
        while ready < threads:
            line = self.process.stdout.readline()
            if not line:
                break
            if line.startswith("READY"):
                ready += 1
            else:
                self._early.append(line)

    def result(self) -> dict[str, Any]:
        assert self.process is not None, "start() first"
        rest, _ = self.process.communicate()
        out = "".join(self._early) + rest
        if self.bodies is not None:
            self.bodies.unlink(missing_ok=True)
        found: dict[str, Any] = {"samples": []}
        for line in out.splitlines():
            if line.startswith("RESULT "):
                found.update({k: float(v) for k, v in _RESULT.findall(line)})
            elif line.startswith("SAMPLE "):
                found["samples"].append(line[7:])
        if "rps" not in found:
            raise RuntimeError(f"wrk gave no RESULT line (exit {self.process.returncode}):\n{out[-2000:]}")
        return found


# ---- cases -------------------------------------------------------------------------------------

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


class Bench:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.duration: float = args.duration
        self.warmup: float = args.warmup
        self.work = Path(tempfile.mkdtemp(prefix="login-api-bench-"))
        self.rows: list[Row] = []
        self.echo_rps: dict[int, float] = {}
        self.logs: dict[str, list[str]] = {}
        self.setup_notes: list[str] = []
        self.runtimes: dict[str, Path] = {}
        self.uids: dict[str, int] = {}
        self.pairs: dict[int, list[tuple[float, float]]] = {}  # workers → (echo, signed) req/s, alternated

    # -- servers -------------------------------------------------------------------------------

    def runtime(self, group: str) -> Path:
        """One RUNTIME_DIR per database: main (signed and unsigned servers share it), rows_1k, rows_1m."""
        key = "main" if group in ("signed", "unsigned") else group
        if key not in self.runtimes:
            path = self.work / key
            path.mkdir()
            started = time.monotonic()
            self.uids[key] = create_user(path)
            made = f"{key}: user {self.uids[key]} made with user:create in {time.monotonic() - started:.1f} s"
            if key == "main" and self.args.login_accounts > 1:
                add_login_accounts(path / "app.db", self.uids[key], self.args.login_accounts)
                made += f", and {self.args.login_accounts - 1} more login accounts with its password hash"
            if key.startswith("rows_"):
                count = {"rows_1k": 1_000, "rows_1m": 1_000_000}[key]
                print(f"  building {count:,} token rows ...", flush=True)
                secs = add_token_rows(path / "app.db", count, self.uids[key])
                with sqlite3.connect(path / "app.db") as conn:
                    live = conn.execute("SELECT count(*) FROM auth_token WHERE revoked = 0 AND expire_at > ?",
                                        (int(time.time()),)).fetchone()[0]
                made += f"; {count:,} token rows inserted in {secs:.1f} s ({live:,} live rows in auth_token)"
            print(f"  {made}", flush=True)
            self.setup_notes.append(made)
            self.runtimes[key] = path
        return self.runtimes[key]

    def start(self, group: str, workers: int) -> Server:
        log = self.work / f"server-{group}-w{workers}.log"
        if group == "bare":
            stock = ["--stock-http"] if self.args.stock_http else []
            server = Server(f"bare w{workers}", [sys.executable, str(BENCH / "bare_app.py"), "--workers",
                                                 str(workers), *stock], server_env(self.work), log)
        elif group == "peer":
            server = peer_server(self, workers, log)
        else:
            sign = "0" if group == "unsigned" else "1"
            server = Server(f"service {group} w{workers}",
                            [sys.executable, str(ROOT / "server.py"), "--workers", str(workers)],
                            server_env(self.runtime(group), SIGN_REQUIRED=sign,
                                       HTTP_COALESCE_WRITES="0" if self.args.stock_http else "1"), log)
        server.wait_ready()
        return server

    def stopped(self, server: Server, label: str) -> None:
        server.stop()
        lines = [line for line in server.log_path.read_text(errors="replace").splitlines() if line.strip()]
        if lines:
            self.logs[label] = lines

    # -- measuring -----------------------------------------------------------------------------

    def wrk(self, server: Server, load: Load, seconds: float, count: int = 0, **kw: Any) -> Wrk:
        return Wrk(server.url, load, seconds, threads=self.args.threads, connections=self.args.connections,
                   count=count, work=self.work, **kw)

    def body_count(self, rps: float, seconds: float) -> int:
        """How many signed requests to make for `seconds` at about `rps`: twice that, at least 2,000."""
        return int(max(2 * rps * seconds, 2000))

    def ceiling(self, workers: int) -> float:
        """A rate the service should not beat: 60% of this run's bare echo (or a generous guess)."""
        return 0.6 * self.echo_rps.get(workers, 15_000.0 * workers)

    def wait_idle(self) -> None:
        """With --idle-wait: wait (up to that long) until the rest of the machine is quiet."""
        deadline = time.monotonic() + self.args.idle_wait
        while time.monotonic() < deadline:
            busy0 = busy_ticks()
            time.sleep(1)
            if (busy_ticks() - busy0) * 100 / HZ < self.args.idle_pct:
                return
        if self.args.idle_wait:
            print(" (machine still busy)", end="", flush=True)

    def measure(self, case: Case, workers: int, server: Server, load: Load, *, warm: bool = True,
                timeout: str | None = None, during: Callable[[], Wrk] | None = None,
                guess: float | None = None, rate: float | None = None, seconds: float | None = None) -> Row:
        """Warm up, then one measured wrk run; with `during`, a second load runs meanwhile.

        Signed requests are made for twice the rate the warm-up reached (at least 60% of the bare
        echo's rate); if wrk still runs out, the case is measured again with enough for the rate it
        reached, and a row that ran out anyway is marked invalid (its extra answers are replays).
        """
        row = Row(case.name, case.title, workers)
        duration = seconds or self.duration
        self.wait_idle()
        rate = rate or max(guess or 0.0, self.ceiling(workers))
        warm_run = (self.wrk(server, load, self.warmup, self.body_count(rate, self.warmup), timeout=timeout)
                    if warm and self.warmup > 0 else None)
        side = run = None
        if during:
            # Every request is made before the login load starts, so only wrk runs beside it.
            run = self.wrk(server, load, duration, self.body_count(rate, duration) if load.premade
                           else 0, timeout=timeout)
            side = during().start()
            time.sleep(1.5)  # logins queued and hashing before the window opens
        if warm_run:
            warm_res = warm_run.start().result()
            rate = max(rate, warm_res["rps"])
        for attempt in range(2):
            if run is None:
                run = self.wrk(server, load, duration, self.body_count(rate, duration)
                               if load.premade else 0, timeout=timeout)
            run.start().wait_ready(self.args.threads)
            t0, cpu0, busy0, ru0 = time.monotonic(), server.cpu(), busy_ticks(), os.times()
            wrk_init = cpu_ticks([run.process.pid]) / HZ  # loading the requests, before wrk's clock
            side_cpu0 = cpu_ticks([side.process.pid]) if side and side.process else 0
            res = run.result()
            ru1 = os.times()
            t1, cpu1, busy1 = time.monotonic(), server.cpu(), busy_ticks()
            side_cpu = (cpu_ticks([side.process.pid]) - side_cpu0) / HZ if side and side.process else 0.0
            run = None
            if res["exhausted"] and attempt == 0 and not during:
                print(f" ran out of signed requests ({int(res['exhausted'])} resent): again with more ...",
                      end="", flush=True)
                rate = max(rate * 2, res["rps"] * 1.5)  # replays are refused fast: res["rps"] is an upper bound
                continue
            break
        secs = t1 - t0  # the CPU window: wrk's clock, plus its report at the end
        srv = (cpu1 - cpu0) / HZ
        gen = max(0.0, ru1.children_user + ru1.children_system - ru0.children_user - ru0.children_system
                  - wrk_init) + side_cpu
        busy = (busy1 - busy0) / HZ
        row.rps, row.p50_ms, row.p99_ms = res["rps"], res["p50_ms"], res["p99_ms"]
        row.requests, row.non2xx = int(res["reqs"]), int(res["non2xx"])
        row.socket_errors, row.timeouts = int(res["sockerr"]), int(res["timeouts"])
        row.exhausted, row.samples = int(res["exhausted"]), res["samples"]
        row.server_cpu_pct = 100 * srv / secs
        row.loadgen_cpu_pct = 100 * gen / secs
        row.other_cpu_pct = max(0.0, 100 * (busy - srv - gen) / secs)
        if side:
            side_res = side.result()
            row.side_non2xx = int(side_res["non2xx"])
            row.note = (f"login load: {side_res['rps']:.1f} logins/s, p99 {side_res['p99_ms']:,.0f} ms, "
                        f"non-2xx {int(side_res['non2xx'])}")
            if side_res["exhausted"]:
                row.note += f", {int(side_res['exhausted'])} logins resent after the signed ones ran out"
            if side_res["samples"]:
                row.samples += [f"(login load) {s}" for s in side_res["samples"]]
        return row

    def preflight(self, server: Server, load: Load) -> None:
        """One request of the case sent from Python: it must succeed before wrk is pointed at it."""
        params = load.params(0) if load.params else json.loads(load.body or "{}") if load.method != "GET" else {}
        status, body = post(server.url + load.path, params, sign=load.premade and load.sign, token=load.token,
                            method=load.method, form=load.ctype != "application/json")
        if load.path.startswith("/v2/"):
            expect_v2(status, body, f"{load.method} {load.path}")
        elif status != 200:
            raise RuntimeError(f"{load.method} {load.path}: HTTP {status} {str(body)[:300]}")

    # -- the run -------------------------------------------------------------------------------

    def run_group(self, group: str, names: list[str], workers: int) -> None:
        print(f"[{workers} worker{'s' if workers > 1 else ''}] starting {group} server", flush=True)

        def failed(why: str) -> None:
            print(f"  FAILED: {why}", flush=True)
            self.rows.extend(Row(n, BY_NAME[n].title, workers, error=why[:500]) for n in names)

        try:
            server = self.start(group, workers)
        except Exception as exc:  # noqa: BLE001 - the other servers' cases still run
            failed(f"{group} server: {exc}")
            return
        try:
            jwt = md5 = None
            try:
                if group in ("signed", "unsigned", "rows_1k", "rows_1m"):
                    jwt = login_jwt(server.url, group != "unsigned")
                    if "test_unsigned_md5" in names:
                        md5 = login_md5(server.url, group != "unsigned")
            except Exception as exc:  # noqa: BLE001
                failed(f"no token: {exc}")
                return
            for name in names:
                case = BY_NAME[name]
                print(f"  {name:<18} {case.title} ...", end="", flush=True)
                try:
                    row = self.case(case, workers, server, jwt=jwt, md5=md5)
                except Exception as exc:  # noqa: BLE001 - one broken case must not end the run
                    row = Row(case.name, case.title, workers, error=str(exc)[:500])
                    print(f" FAILED: {row.error}", flush=True)
                else:
                    print(f" {row.rps:,.1f} req/s, p50 {row.p50_ms:.2f} ms, p99 {row.p99_ms:.2f} ms, "
                          f"non-2xx {row.non2xx}", flush=True)
                    for sample in row.samples[:3]:
                        print(f"      non-2xx sample: {sample}", flush=True)
                if name == "echo" and row.rps:
                    self.echo_rps[workers] = row.rps
                self.rows.append(row)
        finally:
            self.stopped(server, f"{group} w{workers}")

    def case(self, case: Case, workers: int, server: Server, *, jwt: str | None, md5: str | None) -> Row:
        def no_params(_: int) -> dict[str, Any]:
            return {}

        accounts = self.args.login_accounts

        def login_params(k: int) -> dict[str, Any]:
            return {"account": login_account(k % accounts), "pwd": PASSWORD}

        if case.name == "echo":
            load = Load("/echo", body=ECHO_BODY)
        elif case.name in ("test_signed_jwt", "test_during_login", "rows_1k", "rows_1m"):
            load = Load("/v2/test", params=no_params, token=jwt)
        elif case.name == "status_signed":
            load = Load("/v2/login/jwt/status", params=lambda _: {"jwt": jwt})
        elif case.name == "test_unsigned_jwt":
            load = Load("/v2/test", body="{}", token=jwt)
        elif case.name == "test_unsigned_md5":
            load = Load("/v2/test", body="{}", token=md5)
        elif case.name == "login":
            load = Load("/v2/login/jwt/get", params=login_params, sign=False)
        elif case.name == "peer_me":
            load = Load("/users/me", method="GET", token=peer_token(server))
        else:
            raise ValueError(case.name)
        self.preflight(server, load)
        if case.name == "login":
            # No wrk warm-up: queued logins would still be hashing inside the window (the preflight
            # login warmed the path); 30 s timeout, since a login queues behind the others' hashes.
            return self.measure(case, workers, server, load, warm=False, timeout="30s", rate=200.0 * workers)
        if case.name == "test_during_login":
            login = Load("/v2/login/jwt/get", params=login_params)
            seconds = 1.5 + self.warmup + self.duration + 3
            alone = next((r for r in self.rows if r.case == "test_signed_jwt" and r.workers == workers
                          and r.rps), None)
            return self.measure(case, workers, server, load, guess=alone.rps * 1.5 if alone else None, during=lambda: Wrk(
                server.url, login, seconds, threads=1, connections=self.args.login_connections,
                count=self.body_count(200 * workers, seconds), timeout="30s", work=self.work))
        return self.measure(case, workers, server, load)

    def paired(self, workers: int) -> None:
        """Echo and signed /v2/test, alternated --pairs times with both servers up: the headline ratio.

        On a shared machine the speed of the whole VM drifts from minute to minute, and a ratio of
        two runs taken minutes apart carries that drift. Alternating short runs and taking the
        median of the per-pair ratios cancels most of it.
        """
        rounds, seconds = self.args.pairs, self.args.pair_duration
        print(f"[{workers} worker{'s' if workers > 1 else ''}] echo and signed /v2/test alternated "
              f"{rounds}× ({seconds:g} s each)", flush=True)
        bare = signed = None
        try:
            bare, signed = self.start("bare", workers), self.start("signed", workers)
            jwt = login_jwt(signed.url, True)
            echo_load = Load("/echo", body=ECHO_BODY)
            test_load = Load("/v2/test", params=lambda _: {}, token=jwt)
            self.preflight(signed, test_load)
            got: list[tuple[float, float]] = []
            for k in range(rounds):
                # Echo first, then signed first, and so on: a steady drift favours neither side.
                def run_echo() -> Row:
                    return self.measure(BY_NAME["echo"], workers, bare, echo_load, warm=k == 0, seconds=seconds)

                def run_test() -> Row:
                    return self.measure(BY_NAME["test_signed_jwt"], workers, signed, test_load, warm=k == 0,
                                        seconds=seconds)

                if k % 2 == 0:
                    echo = run_echo()
                    test = run_test()
                else:
                    test = run_test()
                    echo = run_echo()
                if not (echo.valid and test.valid) or echo.non2xx or test.non2xx:
                    raise RuntimeError(f"pair {k + 1}: a run failed or answered non-2xx")
                got.append((echo.rps, test.rps))
                print(f"  pair {k + 1}: echo {echo.rps:,.0f}, signed {test.rps:,.0f} req/s = "
                      f"{test.rps / echo.rps:.0%}", flush=True)
            self.pairs[workers] = got
        except Exception as exc:  # noqa: BLE001 - the single runs above still count
            print(f"  FAILED: {exc}", flush=True)
            self.setup_notes.append(f"alternated pairs with {workers} worker(s) failed: {exc}")
        finally:
            for server, label in ((bare, f"bare pairs w{workers}"), (signed, f"signed pairs w{workers}")):
                if server is not None:
                    self.stopped(server, label)

    def run(self, names: list[str], workers_list: list[int]) -> None:
        groups: dict[str, list[str]] = {}
        for case in CASES:  # the order of CASES: echo first, logins last on their server
            if case.name in names:
                groups.setdefault(case.group, []).append(case.name)
        if "peer" in groups:
            try:
                peer_prepare(self)
            except Exception as exc:  # noqa: BLE001 - the service's figures still count
                print(f"peer: {exc}", file=sys.stderr)
                for workers in workers_list:
                    self.rows.append(Row("peer_me", BY_NAME["peer_me"].title, workers, error=f"peer setup: {exc}"[:500]))
                del groups["peer"]
        for group in groups:  # databases first, so no worker count pays for building them
            if group not in ("bare", "peer"):
                self.runtime(group)
        for workers in workers_list:
            for group, group_names in groups.items():
                self.run_group(group, group_names, workers)
            if self.args.pairs > 0 and {"echo", "test_signed_jwt"} <= set(names):
                self.paired(workers)

    def cleanup(self) -> None:
        stop_all()
        if self.args.keep:
            print(f"kept {self.work}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)


# ---- the peer: fastapi-users in a throwaway virtualenv -----------------------------------------

PEER_VENV = Path(os.environ.get("PEER_VENV", "/tmp/peer-venv"))
PEER_PACKAGES = ["fastapi", "fastapi-users[sqlalchemy]", "aiosqlite", "uvicorn[standard]"]
PEER_EMAIL, PEER_PASSWORD = "bench@example.com", "bench-password-0123456789"
# Written to the run's /tmp folder at run time; never part of the project or its requirements.
PEER_APP = '''"""fastapi-users with its JWT strategy and bearer transport on SQLite (SQLAlchemy + aiosqlite)."""
import os
import sys
import uuid

from fastapi import Depends, FastAPI
from fastapi_users import BaseUserManager, FastAPIUsers, UUIDIDMixin, schemas
from fastapi_users.authentication import AuthenticationBackend, BearerTransport, JWTStrategy
from fastapi_users.db import SQLAlchemyBaseUserTableUUID, SQLAlchemyUserDatabase
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

SECRET = "peer-bench-secret-0123456789abcdef0123456789"
engine = create_async_engine("sqlite+aiosqlite:///" + os.environ["PEER_DB"])
sessions = async_sessionmaker(engine, expire_on_commit=False)


class Base(DeclarativeBase):
    pass


class User(SQLAlchemyBaseUserTableUUID, Base):
    pass


class UserRead(schemas.BaseUser[uuid.UUID]):
    pass


class UserCreate(schemas.BaseUserCreate):
    pass


class UserUpdate(schemas.BaseUserUpdate):
    pass


async def get_user_db():
    async with sessions() as session:
        yield SQLAlchemyUserDatabase(session, User)


class UserManager(UUIDIDMixin, BaseUserManager[User, uuid.UUID]):
    reset_password_token_secret = SECRET
    verification_token_secret = SECRET


async def get_user_manager(user_db=Depends(get_user_db)):
    yield UserManager(user_db)


def get_strategy() -> JWTStrategy:
    return JWTStrategy(secret=SECRET, lifetime_seconds=3600)


backend = AuthenticationBackend(name="jwt", transport=BearerTransport(tokenUrl="auth/jwt/login"),
                                get_strategy=get_strategy)
users = FastAPIUsers[User, uuid.UUID](get_user_manager, [backend])
app = FastAPI()
app.include_router(users.get_auth_router(backend), prefix="/auth/jwt")
app.include_router(users.get_register_router(UserRead, UserCreate), prefix="/auth")
app.include_router(users.get_users_router(UserRead, UserUpdate), prefix="/users")

if __name__ == "__main__" and sys.argv[1:] == ["--init"]:
    import asyncio

    async def init():
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)

    asyncio.run(init())
'''


def peer_python() -> Path:
    return PEER_VENV / "bin" / "python"


def peer_prepare(bench: Bench) -> None:
    """The throwaway virtualenv (made once, outside the repository), the app file and its database."""
    python = peer_python()
    probe = [str(python), "-c", "import fastapi_users, aiosqlite, uvloop, httptools, uvicorn"]
    if not python.exists() or subprocess.run(probe, capture_output=True).returncode != 0:
        print(f"peer: creating {PEER_VENV} and installing {' '.join(PEER_PACKAGES)} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        pip = subprocess.run([str(python), "-m", "pip", "install", "-q", *PEER_PACKAGES], capture_output=True,
                             text=True)
        if pip.returncode != 0:
            raise RuntimeError(f"pip install into {PEER_VENV} failed:\n{(pip.stdout + pip.stderr)[-3000:]}")
    folder = bench.work / "peer"
    folder.mkdir(exist_ok=True)
    (folder / "peer_app.py").write_text(PEER_APP)
    env = dict(os.environ, PEER_DB=str(folder / "peer.db"))
    subprocess.run([str(python), str(folder / "peer_app.py"), "--init"], cwd=folder, env=env, check=True)
    versions = subprocess.run([str(python), "-c", "import importlib.metadata as m; print(', '.join(f'{p} ' + "
                               "m.version(p) for p in ('fastapi', 'fastapi-users', 'SQLAlchemy', 'aiosqlite', "
                               "'uvicorn', 'pwdlib')))"], capture_output=True, text=True).stdout.strip()
    bench.setup_notes.append(f"peer: {PEER_VENV} ({versions}); app {folder / 'peer_app.py'}")
    bench.peer_registered = False  # type: ignore[attr-defined]


def peer_server(bench: Bench, workers: int, log: Path) -> Server:
    folder = bench.work / "peer"
    env = dict(os.environ, PEER_DB=str(folder / "peer.db"))
    server = Server(f"peer w{workers}", [str(peer_python()), "-m", "uvicorn", "--app-dir", str(folder), "peer_app:app",
                                         "--host", "127.0.0.1", "--loop", "uvloop", "--http", "httptools",
                                         "--no-access-log", "--log-level", "warning", "--workers", str(workers)],
                    env, log, cwd=folder)
    server.bench = bench  # type: ignore[attr-defined]
    return server


def peer_token(server: Server) -> str:
    bench: Bench = server.bench  # type: ignore[attr-defined]
    if not getattr(bench, "peer_registered", False):
        status, body = post(server.url + "/auth/register", {"email": PEER_EMAIL, "password": PEER_PASSWORD},
                            sign=False)
        if status != 201:
            raise RuntimeError(f"peer register: HTTP {status} {body}")
        bench.peer_registered = True  # type: ignore[attr-defined]
    status, body = post(server.url + "/auth/jwt/login", {"username": PEER_EMAIL, "password": PEER_PASSWORD},
                        sign=False, form=True)
    if status != 200:
        raise RuntimeError(f"peer login: HTTP {status} {body}")
    return body["access_token"]


# ---- report ------------------------------------------------------------------------------------

def fmt(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def derived(rows: list[Row], workers_list: list[int],
            pairs: dict[int, list[tuple[float, float]]] | None = None) -> list[str]:
    """The issue's 'Done when' figures, per worker count (the issue's targets are for one worker)."""
    lines = []
    for w in workers_list:
        got = {r.case: r for r in rows if r.workers == w and r.valid}
        parts, used = [], []

        def verdict(ok: bool) -> str:
            return "met" if ok else "NOT met"

        test, echo, peer = got.get("test_signed_jwt"), got.get("echo"), got.get("peer_me")
        if test and echo:
            share = test.rps / echo.rps
            parts.append(f"signed JWT /v2/test = {share:.0%} of the bare echo (target ≥ 40%: {verdict(share >= 0.40)})")
            used += [test, echo]
        alternated = (pairs or {}).get(w)
        if alternated:
            shares = [t / e for e, t in alternated]
            parts.append(f"alternated with the echo {len(shares)}×, signed JWT /v2/test = {median(shares):.0%} of it "
                         f"(median; {min(shares):.0%} to {max(shares):.0%}; target ≥ 40%: "
                         f"{verdict(median(shares) >= 0.40)})")
        if test and peer:
            times = test.rps / peer.rps
            parts.append(f"signed JWT /v2/test = {times:.1f}× fastapi-users GET /users/me "
                         f"(target ≥ 10×: {verdict(times >= 10)})")
            used += [peer]
        during = got.get("test_during_login")
        if test and during and test.p99_ms:
            ratio = during.p99_ms / test.p99_ms
            parts.append(f"p99 of signed /v2/test while logins run = {ratio:.2f}× its p99 without "
                         f"(target ≤ 3×: {verdict(ratio <= 3)}"
                         + (f"; but {during.side_non2xx} logins of the login load were refused, so it did less "
                            f"hashing than it should" if during.side_non2xx else "") + ")")
            used += [test, during]
        k1, m1 = got.get("rows_1k"), got.get("rows_1m")
        if k1 and m1:
            cost = k1.rps / m1.rps
            parts.append(f"a request with 1,000,000 token rows costs {cost:.2f}× one with 1,000 (req/s 1k ÷ 1M; "
                         f"p50 ratio {m1.p50_ms / k1.p50_ms:.2f}×; target ≤ 1.2×: {verdict(cost <= 1.2)})")
            used += [k1, m1]
        if parts:
            noisy = [r for r in used if r.noisy]
            tail = (f" Noisy: other load up to {max(r.other_cpu_pct or 0 for r in noisy):.0f}% of a core during "
                    f"{len(set(id(r) for r in noisy))} of these rows; rerun on a quiet machine before trusting them."
                    if noisy else "")
            lines.append(f"- **{w} worker{'s' if w > 1 else ''}:** " + "; ".join(parts) + "." + tail)
    return lines


def table(rows: list[Row]) -> list[str]:
    head = ("| case | what | workers | req/s | p50 ms | p99 ms | non-2xx | ratio to echo | server CPU % | "
            "wrk CPU % | other load % | notes |")
    out = [head, "|---" * (head.count("|") - 1) + "|"]
    for r in rows:
        if r.error:
            out.append(f"| {r.case} | {r.title} | {r.workers} | FAILED | | | | | | | | {r.error[:200]} |")
            continue
        notes = [r.note] if r.note else []
        if r.socket_errors or r.timeouts:
            notes.append(f"socket errors {r.socket_errors}, timeouts {r.timeouts}")
        if r.exhausted:
            notes.append(f"INVALID: wrk ran out of signed requests and resent {r.exhausted} (answered as replays)")
        if r.noisy:
            notes.append(f"noisy: other load {r.other_cpu_pct:.0f}% of a core")
        out.append(f"| {r.case} | {r.title} | {r.workers} | {fmt(r.rps)} | {fmt(r.p50_ms, 2)} | {fmt(r.p99_ms, 2)} | "
                   f"{r.non2xx} | {fmt(r.ratio_echo, 3)} | {fmt(r.server_cpu_pct, 0)} | {fmt(r.loadgen_cpu_pct, 0)} | "
                   f"{fmt(r.other_cpu_pct, 0)} | {'; '.join(notes)} |")
    return out


def console_table(rows: list[Row]) -> str:
    lines = [f"{'case':<20}{'workers':>8}{'req/s':>11}{'p50 ms':>10}{'p99 ms':>10}{'non-2xx':>9}"
             f"{'÷ echo':>8}{'srv%':>6}{'wrk%':>6}{'other%':>7}  flags"]
    for r in rows:
        if r.error:
            lines.append(f"{r.case:<20}{r.workers:>8}   FAILED: {r.error[:80]}")
            continue
        lines.append(f"{r.case:<20}{r.workers:>8}{r.rps:>11,.1f}{r.p50_ms:>10.2f}{r.p99_ms:>10.2f}{r.non2xx:>9}"
                     f"{fmt(r.ratio_echo, 3):>8}{fmt(r.server_cpu_pct, 0):>6}{fmt(r.loadgen_cpu_pct, 0):>6}"
                     f"{fmt(r.other_cpu_pct, 0):>7}  {'INVALID (ran out of signed requests) ' if r.exhausted else ''}"
                     f"{'noisy' if r.noisy else ''}".rstrip())
    return "\n".join(lines)


def versions() -> dict[str, str]:
    import importlib.metadata as meta

    out = {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version}
    for name in ("uvicorn", "starlette", "uvloop", "httptools", "peewee", "PyJWT", "argon2-cffi"):
        try:
            out[name] = meta.version(name)
        except meta.PackageNotFoundError:
            out[name] = "-"
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    out["wrk"] = (wrk.stdout + wrk.stderr).split("\n")[0].split(" [")[0].replace("wrk ", "")
    return out


def git_state() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return head + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "-"


def report(bench: Bench, meta: dict[str, Any], names: list[str], workers_list: list[int]) -> tuple[str, dict]:
    rows = bench.rows
    for r in rows:
        echo = bench.echo_rps.get(r.workers)
        r.ratio_echo = r.rps / echo if echo and not r.error else None
    md = [f"# Benchmark {meta['started']}", "",
          f"`{' '.join(['python bench/run.py', *meta['argv']])}` on {meta['cpus']} CPUs, load average at start "
          f"{meta['loadavg']}; commit {meta['commit']}; wall time {meta['wall_s']:.0f} s.", "",
          f"wrk -t{bench.args.threads} -c{bench.args.connections} -d{bench.duration:g}s --latency after a "
          f"{bench.warmup:g} s warm-up (login: no warm-up, --timeout 30s; the login load beside "
          f"`test_during_login` is a second wrk, -t1 -c{bench.args.login_connections}). Loopback; wrk shares "
          f"the CPUs with the server. Latency is wrk's closed-loop latency (p50 ≈ connections ÷ req/s).", "",
          "HTTP protocol, the same for the service and the bare app: " + (
              "uvicorn's own httptools protocol (head and body written apart; --stock-http)."
              if bench.args.stock_http else
              "app/http_protocol.py (uvicorn's httptools protocol, each response in one write)."), "",
          "Versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()) + ".", ""]
    md += table(rows)
    md += ["", "Ratio to echo: req/s ÷ the bare echo's req/s with the same worker count, in the same run. "
           "CPU columns are % of one core over the measured window: the server's processes, the load generators "
           "(wrk), and everything else on the machine (other load makes a run noisy). Non-2xx counts every answer "
           "outside 200-299 (a correct run has 0).", ""]
    checks = derived(rows, workers_list, bench.pairs)
    if checks:
        md += ["## The issue's figures", "", *checks, ""]
    samples = [(r, s) for r in rows for s in r.samples]
    if samples:
        md += ["## Non-2xx samples (first answer per wrk thread)", ""]
        md += [f"- {r.case} w{r.workers}: `{s[:300]}`" for r, s in samples]
        md.append("")
    md += ["## Setup", "", *[f"- {n}" for n in bench.setup_notes], ""]
    md += ["## Server logs (LOG_LEVEL=warning: every line is worth a look)", ""]
    if bench.logs:
        for label, lines in bench.logs.items():
            md.append(f"- {label}: {len(lines)} lines, e.g. `{lines[0][:200]}`"
                      + (f" … `{lines[-1][:200]}`" if len(lines) > 1 else ""))
    else:
        md.append("- no server wrote anything to its log.")
    md.append("")
    data = {**meta, "duration_s": bench.duration, "warmup_s": bench.warmup, "threads": bench.args.threads,
            "connections": bench.args.connections, "login_connections": bench.args.login_connections,
            "cases": names, "workers": workers_list,
            "rows": [{**r.__dict__, "valid": r.valid, "noisy": r.noisy} for r in rows],
            "figures": checks, "setup": bench.setup_notes, "server_logs": bench.logs,
            "alternated_pairs": {str(w): [{"echo_rps": e, "signed_rps": t} for e, t in got]
                                 for w, got in bench.pairs.items()}}
    return "\n".join(md), data


# ---- main --------------------------------------------------------------------------------------

def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark the login API against the bare stack (issue 8).")
    parser.add_argument("--duration", type=float, default=10, help="seconds measured per case (default 10)")
    parser.add_argument("--warmup", type=float, default=None, help="warm-up seconds per case (default 2; 1 with --quick)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--login-connections", type=int, default=8,
                        help="connections of the login load beside test_during_login (default 8)")
    parser.add_argument("--login-accounts", type=int, default=32,
                        help="accounts the logins spread over (default 32, one per connection; 1 = every login "
                             "on one account)")
    parser.add_argument("--pairs", type=int, default=5,
                        help="after the cases, alternate echo and signed /v2/test this many times with both "
                             "servers up and report the median ratio (default 5; 0: off)")
    parser.add_argument("--pair-duration", type=float, default=5, help="seconds of each alternated run (default 5)")
    parser.add_argument("--stock-http", action="store_true",
                        help="run the service and the bare app on uvicorn's own httptools protocol (two writes a "
                             "response) instead of app/http_protocol.py (one)")
    parser.add_argument("--workers", default="1,2", help="worker counts, comma-separated (default 1,2)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 3 s per case, 1 s warm-up")
    parser.add_argument("--cases", default="", help="comma-separated case names (default: all but peer_me); "
                                                   "see --list")
    parser.add_argument("--peer", action="store_true",
                        help="add peer_me: fastapi-users in a throwaway virtualenv (PEER_VENV, default /tmp/peer-venv)")
    parser.add_argument("--out", default="", help="markdown file to write (JSON beside it); "
                                                  "default bench/results/<timestamp>.md")
    parser.add_argument("--idle-wait", type=float, default=0, metavar="SECONDS",
                        help="before each case, wait up to this long for the machine to be quiet (default 0: off)")
    parser.add_argument("--idle-pct", type=float, default=15,
                        help="'quiet' for --idle-wait: all CPUs together busy less than this %% of one core "
                             "(default 15)")
    parser.add_argument("--keep", action="store_true", help="keep the /tmp runtime folders and server logs")
    parser.add_argument("--server-env", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting for the service, e.g. JWT_ALG=EdDSA (repeatable)")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    args = parser.parse_args(argv)
    for item in args.server_env:
        name, _, value = item.partition("=")
        EXTRA_SERVER_ENV[name.strip()] = value
    if args.quick:
        args.duration = 3 if args.duration == 10 else args.duration
        args.pair_duration = 2 if args.pair_duration == 5 else args.pair_duration
    if args.warmup is None:
        args.warmup = 1 if args.quick else 2
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.list:
        for case in CASES:
            print(f"{case.name:<20} {case.title}{'  (with --peer)' if case.group == 'peer' else ''}")
        return 0
    names = [n.strip() for n in args.cases.split(",") if n.strip()] or list(DEFAULT_CASES)
    if args.peer and "peer_me" not in names:
        names.append("peer_me")
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        print(f"unknown case(s): {', '.join(unknown)}; see --list", file=sys.stderr)
        return 2
    if "echo" not in names:
        print("note: without the echo case there is no ratio to the bare stack", file=sys.stderr)
    workers_list = [int(w) for w in args.workers.split(",") if w.strip()]
    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2

    started = time.time()
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(started))
    meta: dict[str, Any] = {"started": time.strftime("%Y-%m-%d %H:%M:%S %z", time.localtime(started)),
                            "argv": argv, "cpus": os.cpu_count(), "loadavg": open("/proc/loadavg").read().split()[0],
                            "commit": git_state(), "versions": versions()}
    bench = Bench(args)
    atexit.register(bench.cleanup)
    def interrupted(*_: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)  # as Ctrl-C: stop everything, report what was measured
    print(f"bench: cases {', '.join(names)}; workers {workers_list}; {args.duration:g} s each "
          f"(+{args.warmup:g} s warm-up); HTTP protocol: "
          f"{'uvicorn stock' if args.stock_http else 'app/http_protocol.py'}; work folder {bench.work}", flush=True)
    try:
        bench.run(names, workers_list)
    except KeyboardInterrupt:
        print("\ninterrupted: reporting what was measured", file=sys.stderr)
    finally:
        stop_all()
    meta["wall_s"] = time.time() - started
    md, data = report(bench, meta, names, workers_list)

    out = Path(args.out) if args.out else RESULTS / f"{stamp}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(md + "\n")
    out.with_suffix(".json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    print()
    print(console_table(bench.rows))
    print()
    for line in derived(bench.rows, workers_list, bench.pairs):
        print(line.replace("**", ""))
    for label, lines in bench.logs.items():
        print(f"server log {label}: {len(lines)} lines, first: {lines[0][:160]}")
    print(f"\nwritten: {out} and {out.with_suffix('.json')} ({meta['wall_s']:.0f} s)")
    return 1 if any(r.error or r.non2xx for r in bench.rows) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
