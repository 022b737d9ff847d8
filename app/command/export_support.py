"""Shared by `user:export` and `audit:export`: the options every export takes, and the run."""
from __future__ import annotations

import argparse
from typing import Any


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", required=True, choices=("csv", "xlsx"), help="csv (UTF-8 with a BOM) or xlsx")
    parser.add_argument("--out", required=True, help="the file to write")
    parser.add_argument("--max-rows", type=int, help="at most this many rows (default: every matching row)")
    parser.add_argument("--pii", action="store_true", help="phone numbers in full (default: masked, 138****0000)")


def run_export(name: str, args: argparse.Namespace, filters: dict[str, Any]) -> int:
    """Validate like the HTTP route, write the file, say how big it came out."""
    from app.command.support import fail, refusal
    from app.common.error import ApiException
    from app.service.export import export_to_file
    from app.validate.admin import Admin
    from server import boot

    settings = boot()
    given = {key: value for key, value in filters.items() if value is not None}
    try:
        clean = Admin().check({**given, "format": args.format, "max_rows": args.max_rows},
                              "user_export" if name == "users" else "audit_export")
    except ApiException as exc:
        fail(refusal(exc))
    filters = {key: value for key, value in clean.items() if key not in ("format", "max_rows")}
    with open(args.out, "wb") as target:
        export_to_file(target, name, args.format, filters, pii=args.pii, zone=settings.APP_TIMEZONE,
                       max_rows=clean.get("max_rows"))
        size = target.tell()
    print(f"wrote {args.out} ({size} bytes)")
    return 0
