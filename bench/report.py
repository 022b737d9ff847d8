"""The figures of a run: the console table, the markdown report and its JSON, the issue's targets and ratios."""
from __future__ import annotations

import platform
import sqlite3
import subprocess
from typing import TYPE_CHECKING, Any

from cases import Row
from processes import ROOT

if TYPE_CHECKING:
    from runner import Bench


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
