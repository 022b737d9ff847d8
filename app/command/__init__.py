"""Admin commands beside server.py (ThinkPHP's `php think …`): `python server.py NAME [options]`."""
from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
from typing import Any

from app.common.clock import SYSTEM_CLOCK, Clock

# name → module in app/command/ with `add_arguments(parser)` and `run(args) -> int`
COMMANDS = {
    "serve": "serve",
    "user:create": "user_create",
    "user:list": "user_list",
    "user:password": "user_password",
    "user:delete": "user_delete",
    "role:grant": "role_grant",
    "role:revoke": "role_revoke",
    "session:list": "session_list",
    "session:end": "session_end",
    "audit:list": "audit_list",
    "events:list": "events_list",
    "jwt:rotate": "jwt_rotate",
    "data:rekey": "data_rekey",
    "user:export": "user_export",
    "audit:export": "audit_export",
    "migrate": "migrate",
    "purge": "purge",
    "docs:readme": "docs_readme",
}


def run_command(argv: list[str], clock: Clock = SYSTEM_CLOCK) -> int:
    """Run `argv`: a command name first, or serve when it starts with an option or is empty.

    A command reads the time from `args.clock`: the system's, or the caller's (a test's ManualClock).
    """
    if argv and argv[0] in ("help", "-h", "--help"):
        print("usage: python server.py [COMMAND] [options]\n\ncommands:")
        for name, module_name in COMMANDS.items():
            module = importlib.import_module(f"app.command.{module_name}")
            print(f"  {name:<16} {(module.__doc__ or '').strip().splitlines()[0]}")
        return 0
    name = "serve" if not argv or argv[0].startswith("-") else argv[0]
    if name not in COMMANDS:
        print(f"error: unknown command {name!r}; `python server.py help` lists them", file=sys.stderr)
        return 2
    module = importlib.import_module(f"app.command.{COMMANDS[name]}")
    parser = argparse.ArgumentParser(prog=f"python server.py {name}", description=module.__doc__)
    module.add_arguments(parser)
    args = parser.parse_args(argv if name == "serve" and (not argv or argv[0] != "serve") else argv[1:])
    args.clock = clock
    return _run_as_own_app(module, args)


def _run_as_own_app(module: Any, args: argparse.Namespace) -> int:
    """Run a command on the app its boot() makes, then give the process back its default app.

    A command run inside a process that serves apps (the in-process tests) leaves them as it found them.
    """
    from app.common import app_state

    before = app_state.default()
    try:
        status: int = module.run(args)  # a command module's run(), found by name: typed Any
        return status
    finally:
        booted = app_state.default()
        if booted is not before and booted is not None and booted.database is not None:
            with contextlib.suppress(Exception):  # its connections: the command's Database is dropped
                getattr(booted.database, "close_all", booted.database.close)()
        app_state.set_default(before)
