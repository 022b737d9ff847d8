"""README blocks rendered from the code: routes, admin commands, errors, settings (`python server.py docs:readme`).

Each table sits in the README between `<!-- NAME:start -->` and `<!-- NAME:end -->`; the
command rewrites what lies between, and tests/test_readme.py fails when the two differ.
"""
from __future__ import annotations

import importlib
import os
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from app.common.action import declared_spec, find_action
from app.common.error import CATALOG, V1_FIELD_CODES, Answer
from app.common.route import Route, RouteRule
from config import Setting, all_settings, setting as setting_module


def _cell(text: Any) -> str:
    """One table cell: no line breaks, and a literal `|` escaped so it cannot split the row."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def _message(first: str, v2: str | None) -> str:
    # v2 (Hyperf) rewords some messages; show both only where they differ.
    return first if v2 is None or v2 == first else f"{first}<br>v2: {v2}"


def render_errors(catalog: Sequence[Answer] = CATALOG,
                  field_codes: dict[str, int] = V1_FIELD_CODES) -> str:
    """The error table: one row per catalog entry, then which field gets which v1 code."""
    table = _table(
        ("name", "v1 `errorcode`", "v2 `code`", "HTTP", "message (zh)", "message (en)"),
        ((f"`{a.name}`", a.v1, a.v2, a.http, _message(a.zh, a.v2_zh), _message(a.en, a.v2_en))
         for a in catalog))
    by_code: dict[int, list[str]] = {}
    for field, code in field_codes.items():
        by_code.setdefault(code, []).append(f"`{field}`")
    fields = "; ".join(f"{', '.join(names)} → {code}" for code, names in sorted(by_code.items()))
    other = next((a.v1 for a in catalog if a.name == "PARAM_INVALID"), None)
    if other is not None:
        fields += f"; any other field → {other}"
    note = (f"In v1 a validation failure (`PARAM_INVALID`) answers with the code of the field that "
            f"failed: {fields}. `{{placeholders}}` are filled in where the error is raised.")
    return table + ("\n\n" + note if by_code else "")


def _derived_defaults(settings: Sequence[Setting]) -> dict[str, Any]:
    """What an empty default becomes once the loader derives it (DATABASE_URL → sqlite under runtime/)."""
    values = {s.name: s.default for s in settings}
    try:
        setting_module._derive(values)
    except Exception:  # noqa: BLE001 - a loader change must not break the docs; the raw default shows
        return {}
    root = str(setting_module.ROOT) + os.sep
    return {name: value.replace(root, "") if isinstance(value, str) else value for name, value in values.items()}


def _default_text(setting: Setting, derived: dict[str, Any], runtime_dir: str) -> str:
    default = setting.default
    if isinstance(default, bool):
        return "`1`" if default else "`0`"
    if default not in ("", None):
        return f"`{default}`"
    if setting.secret:
        return f"generated into `{runtime_dir}/secrets/{setting.name.lower()}` on first start"
    value = derived.get(setting.name)
    if isinstance(value, str) and value:
        return f"`{value}`"
    return "unset"


def render_config(settings: Sequence[Setting] | None = None) -> str:
    """The settings table: variable, default, meaning, in the order of the config modules."""
    settings = list(all_settings() if settings is None else settings)
    derived = _derived_defaults(settings)
    runtime_dir = next((str(s.default) for s in settings if s.name == "RUNTIME_DIR" and s.default), "runtime")
    return _table(("variable", "default", "meaning"),
                  ((f"`{s.name}`", _default_text(s, derived, runtime_dir), s.doc) for s in settings))


def _versions() -> list[str]:
    default = next((s.default for s in all_settings() if s.name == "VERSIONS"), "v1")
    return [v.strip().lower() for v in str(default).split(",") if v.strip()]


def _action_doc(target: str, versions: Sequence[str]) -> str:
    """The summary an action declares (its docstring's first line), in the first version that has it."""
    for version in versions:
        if find_action(target, version) is not None:
            return declared_spec(target, version).summary
    return ""


def render_routes(rules: Sequence[RouteRule] | None = None) -> str:
    """The endpoint table: every rule of route/app.py, what guards it, and its action's docstring."""
    if rules is None:
        importlib.import_module("route.app")  # declares the routes
        rules = Route.rules
    versions = _versions()
    return _table(("method", "path", "needs", "what"),
                  ((rule.method, f"`{rule.path.replace('<ver>', '{ver}')}`",
                    " + ".join(["sign"] + [f"`{name}`" for name in rule.middlewares]),
                    _action_doc(rule.target, versions)) for rule in rules))


def render_commands(commands: dict[str, str] | None = None) -> str:
    """The admin commands as a shell block: `python server.py NAME` and its docstring's first line."""
    if commands is None:
        from app.command import COMMANDS

        commands = COMMANDS
    lines = [(f"python server.py {name}",
              (importlib.import_module(f"app.command.{module}").__doc__ or "").strip().split("\n", 1)[0])
             for name, module in commands.items()]
    lines.append(("python server.py help", "List every command."))
    width = max(len(command) for command, _ in lines)
    return "```\n" + "\n".join(f"{command:<{width}}  # {doc}" for command, doc in lines) + "\n```"


def render_security() -> str:
    """Every protection limit: the settings of config/security.py and config/sms.py, and the fixed ceiling."""
    from app.service.login_guard import HOURLY_CEILING

    settings = [s for module in ("security", "sms")
                for s in importlib.import_module(f"config.{module}").SETTINGS
                if (isinstance(s.default, int) and "WEBHOOK" not in s.name)
                or s.name in ("SMS_CAPTCHA", "TRUSTED_PROXIES", "LOGIN_LOCK_STEPS")]
    derived = _derived_defaults(all_settings())
    rows = [(s.doc, f"`{s.name}`", _default_text(s, derived, "runtime")) for s in settings]
    rows.append(("failed logins per account per hour, whatever the settings (then it answers as locked)",
                 "fixed", f"`{HOURLY_CEILING}`"))
    return _table(("limit", "setting", "default"), rows)


def render_env_example(settings: Sequence[Setting] | None = None) -> str:
    """`.env.example`: every setting commented out at its default, under its one-line meaning."""
    settings = list(all_settings() if settings is None else settings)
    lines = ["# Settings of the login API (python server.py reads .env at the root; the environment wins).",
             "# Generated by `python server.py docs:readme` from config/*.py: uncomment what you change.", ""]
    for s in settings:
        default = s.default
        value = ("1" if default else "0") if isinstance(default, bool) else str(default)
        lines += [f"# {' '.join(s.doc.split())}", f"# {s.name}={value}", ""]
    return "\n".join(lines)


# name → renderer; the README holds one marked block per name.
BLOCKS: dict[str, Callable[[], str]] = {
    "routes": render_routes, "commands": render_commands, "errors": render_errors, "config": render_config,
    "security": render_security,
}


def _block_pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"(<!-- {name}:start -->\n)(.*?)(<!-- {name}:end -->)", re.S)


def read_block(text: str, name: str) -> str:
    """What the README holds between the markers of block `name` (ValueError when they are missing)."""
    found = _block_pattern(name).search(text)
    if found is None:
        raise ValueError(f"the README has no <!-- {name}:start --> … <!-- {name}:end --> markers")
    return found.group(2)


def _block_body(name: str) -> str:
    return BLOCKS[name]().rstrip("\n") + "\n"


def stale_blocks(text: str) -> list[str]:
    """Names of the blocks whose README content differs from what the code renders."""
    return [name for name in BLOCKS if read_block(text, name) != _block_body(name)]


def _around_markers(body: str) -> Callable[[re.Match[str]], str]:
    """A block's replacement: its start and end markers (groups 1 and 3) around `body`, taken as is."""
    return lambda match: match.group(1) + body + match.group(3)


def render_readme(text: str) -> str:
    """`text` with every marked block replaced by what the code renders now."""
    for name in BLOCKS:
        read_block(text, name)  # raises when the markers are missing
        body = _block_body(name)
        text = _block_pattern(name).sub(_around_markers(body), text, count=1)
    return text
