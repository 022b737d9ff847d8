"""The load generator: wrk, fed by bench/wrk.lua with requests made (and signed) here beforehand.

Replays are refused, so a signed request can be sent only once: `Wrk` writes every request it will
send, each with its own timestamp, nonce and sign, before wrk starts, and wrk.lua sends each once
and reports how many it had to resend (`exhausted`) if it ran out.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from processes import LOADS, ROOT
from service_setup import SIGN_SECRET

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.common.sign import make_sign  # noqa: E402  (the project's own signer, SPEC §4)

LUA = ROOT / "bench" / "wrk.lua"


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

