"""One measured wrk run of a case: warm-up, enough pre-signed requests, and the CPU each side used.

`Measurer` is the measuring half of bench/run.py's `Bench` (runner.py): it knows the run's wrk
settings and the bare echo's rate so far, and turns a wrk run into a `Row`.
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cases import Case, Row
from http_calls import expect_v2, post
from loadgen import Load, Wrk
from processes import HZ, Server, busy_ticks, cpu_ticks


class Measurer:
    """Runs wrk against a started server with this run's settings; `Bench` adds which servers and cases."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.duration: float = args.duration
        self.warmup: float = args.warmup
        self.work = Path(tempfile.mkdtemp(prefix="login-api-bench-"))
        self.echo_rps: dict[int, float] = {}

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
