"""Regenerate the README's routes, commands, errors and config blocks and .env.example (--check: only report)."""
from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 and name each block that differs from the code")


def run(args: argparse.Namespace) -> int:
    from app.common.docs import render_env_example, render_readme, stale_blocks
    from server import ROOT

    env_example = ROOT / ".env.example"
    env_text = render_env_example()
    env_stale = not env_example.is_file() or env_example.read_text(encoding="utf-8") != env_text
    if env_stale and not args.check:
        env_example.write_text(env_text, encoding="utf-8")
        print(f"{env_example.name}: rewritten")
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    try:
        stale = stale_blocks(text)
    except ValueError as exc:
        print(f"error: {readme.name}: {exc}", file=sys.stderr)
        return 2
    if args.check:
        for name in stale:
            print(f"{readme.name}: the {name} block is stale; run `python server.py docs:readme`", file=sys.stderr)
        if env_stale:
            print(f"{env_example.name} is stale; run `python server.py docs:readme`", file=sys.stderr)
        if not stale:
            print(f"{readme.name}: every generated block is up to date")
        return 1 if stale or env_stale else 0
    if stale:
        readme.write_text(render_readme(text), encoding="utf-8")
    print(f"{readme.name}: " + (f"rewrote {', '.join(stale)}" if stale else "every generated block is up to date"))
    return 0
