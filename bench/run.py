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

The command line is here; the rest beside it: runner.py (the run), measure.py (one wrk run),
loadgen.py (wrk and its pre-signed requests), cases.py, processes.py (starting and stopping the
servers), service_setup.py and http_calls.py (the service's settings, users and requests), peer.py
and peer_app.py (fastapi-users), report.py (the tables and figures).
"""
from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import Any

from cases import BY_NAME, CASES, DEFAULT_CASES
from processes import ROOT, stop_all
from report import console_table, derived, git_state, report, versions
from runner import Bench
from service_setup import EXTRA_SERVER_ENV

RESULTS = ROOT / "bench" / "results"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark the login API against the bare stack (issue 8).")
    parser.add_argument("--duration", type=float, default=10, help="seconds measured per case (default 10)")
    parser.add_argument("--warmup", type=float, default=None,
                        help="warm-up seconds per case (default 2; 1 with --quick)")
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
