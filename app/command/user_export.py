"""Export users to CSV or XLSX: --format csv|xlsx --out FILE [--keyword K] [--status 0|1] [--pii]."""
from __future__ import annotations

import argparse

from app.command.export_support import add_export_arguments, run_export


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_export_arguments(parser)
    parser.add_argument("--keyword", help="only users whose account or phone holds this")
    parser.add_argument("--status", help="only active (1) or disabled (0) users")


def run(args: argparse.Namespace) -> int:
    return run_export("users", args, {"keyword": args.keyword, "status": args.status})
