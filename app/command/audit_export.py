"""Export the audit log to CSV or XLSX: --format csv|xlsx --out FILE [--uid N] [--event E] [--since T] [--until T]."""
from __future__ import annotations

import argparse

from app.command.export_support import add_export_arguments, run_export


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_export_arguments(parser)
    parser.add_argument("--uid", help="only this user's entries (a user id)")
    parser.add_argument("--event", help="only this event: login, token, sms, register, role, admin")
    parser.add_argument("--since", help="only entries written at or after this Unix time (seconds)")
    parser.add_argument("--until", help="only entries written at or before this Unix time (seconds)")


def run(args: argparse.Namespace) -> int:
    return run_export("audit", args, {"uid": args.uid, "event": args.event, "since": args.since,
                                      "until": args.until})
