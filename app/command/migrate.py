"""Apply pending schema migrations and print the schema version."""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    from app.model.migration import current_version
    from server import boot

    boot()  # migrates
    print(f"schema version {current_version()}")
    return 0
