"""The run of bench/run.py: which server each case needs, its databases, the cases in order, the pairs.

`Bench` starts each server once per worker count, measures its cases (measure.py), stops it and
keeps what it logged; after the cases it alternates the echo and the signed /v2/test with both
servers up (`paired`), whose median ratio the VM's drift in speed moves far less.
"""
from __future__ import annotations

import argparse
import shutil
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

from cases import BY_NAME, CASES, ECHO_BODY, Case, Row
from http_calls import login_jwt, login_md5
from loadgen import Load, Wrk
from measure import Measurer
from peer import peer_prepare, peer_server, peer_token
from processes import ROOT, Server, stop_all
from service_setup import PASSWORD, add_login_accounts, add_token_rows, create_user, login_account, server_env

BENCH = ROOT / "bench"


class Bench(Measurer):
    """One run of bench/run.py: its work folder, its servers and databases, and every row it measured."""

    def __init__(self, args: argparse.Namespace):
        super().__init__(args)
        self.rows: list[Row] = []
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
            guess = alone.rps * 1.5 if alone else None
            return self.measure(case, workers, server, load, guess=guess, during=lambda: Wrk(
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
                def run_echo(warm: bool = k == 0) -> Row:
                    return self.measure(BY_NAME["echo"], workers, bare, echo_load, warm=warm, seconds=seconds)

                def run_test(warm: bool = k == 0) -> Row:
                    return self.measure(BY_NAME["test_signed_jwt"], workers, signed, test_load, warm=warm,
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
                    error = f"peer setup: {exc}"[:500]
                    self.rows.append(Row("peer_me", BY_NAME["peer_me"].title, workers, error=error))
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
