"""The settings loader: typed keys, read from overrides, the environment, then `.env`."""
from __future__ import annotations

import importlib
import logging
import os
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.config import Config

from config.resolved import Settings

ROOT = Path(__file__).resolve().parent.parent
# The modules whose SETTINGS lists make up the configuration, in README order.
MODULES = ("app", "database", "cache", "sign", "auth", "sms", "security", "qrlogin", "operations", "events")

log = logging.getLogger("login_api.config")


class ConfigError(Exception):
    """A setting is missing or malformed; the server refuses to start with a clear message."""


@dataclass(frozen=True)
class Setting:
    """One configuration key: its name, default, type and the sentence the README shows."""

    name: str
    default: Any
    cast: Callable[[str], Any]
    doc: str
    # A secret's value is never logged; when empty it is generated into runtime/ on first start.
    secret: bool = False


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"{value!r} is not a boolean (use 1 or 0)")


def all_settings() -> list[Setting]:
    """Every known setting, in the order of the config modules."""
    found: list[Setting] = []
    for name in MODULES:
        found.extend(importlib.import_module(f"config.{name}").SETTINGS)
    return found


def _cast(setting: Setting, raw: Any) -> Any:
    if setting.cast is bool:
        return _bool(raw)
    # A cast may be a checking function rather than a type (PASSWORD_TRANSPORT); it always sees text.
    if isinstance(setting.cast, type) and isinstance(raw, setting.cast) and not isinstance(raw, bool):
        return raw
    return setting.cast(str(raw).strip())


def load_settings(overrides: Mapping[str, Any] | None = None,
                  environ: Mapping[str, str] | None = None,
                  env_file: Path | None = None) -> Settings:
    """Resolve every setting: overrides win, then the environment, then `.env`, then defaults."""
    overrides = dict(overrides or {})
    env_path = env_file if env_file is not None else ROOT / ".env"
    config = Config(env_path if env_path.is_file() else None,
                    environ=os.environ if environ is None else environ)
    values: dict[str, Any] = {}
    known = all_settings()
    for setting in known:
        raw = overrides[setting.name] if setting.name in overrides else config(setting.name, default=None)
        if raw is None:
            values[setting.name] = setting.default
            continue
        try:
            values[setting.name] = _cast(setting, raw)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"setting {setting.name}: {exc}") from None
    unknown = set(overrides) - {s.name for s in known}
    if unknown:
        raise ConfigError(f"unknown settings: {', '.join(sorted(unknown))}")
    _derive(values)
    secret_files, generated = _fill_secrets(values, known)
    if len(values["JWT_SECRET"].encode("utf-8")) < 32:
        raise ConfigError("setting JWT_SECRET: at least 32 bytes are needed for HS256")
    return Settings(**values, secret_files=secret_files, generated_secrets=frozenset(generated))


def _resolve_path(path: str) -> Path:
    p = Path(path)
    return p if p.is_absolute() else ROOT / p


def _derive(values: dict[str, Any]) -> None:
    """Settings whose default depends on another (paths under RUNTIME_DIR, parsed lists)."""
    runtime = _resolve_path(values["RUNTIME_DIR"])
    values["RUNTIME_DIR"] = str(runtime)
    if not values["DATABASE_URL"]:
        values["DATABASE_URL"] = f"sqlite:///{runtime / 'app.db'}"
    if not values["CACHE_PATH"]:
        values["CACHE_PATH"] = str(runtime / "cache.lmdb")
    versions = [v.strip().lower() for v in values["VERSIONS"].split(",") if v.strip()]
    if not versions:
        raise ConfigError("setting VERSIONS: at least one version is needed")
    values["VERSIONS"] = versions
    values["DEFAULT_VERSION"] = values["DEFAULT_VERSION"].strip().lower()
    if values["DEFAULT_VERSION"] not in versions:
        raise ConfigError(f"setting DEFAULT_VERSION: {values['DEFAULT_VERSION']!r} is not one of VERSIONS")
    methods = frozenset(m.strip().lower() for m in values["SIGN_METHODS"].split(",") if m.strip())
    if not methods or not methods <= {"md5", "hmac-sha256"}:
        raise ConfigError("setting SIGN_METHODS: `md5`, `hmac-sha256`, or both, comma-separated")
    values["SIGN_METHODS"] = methods
    apps: dict[str, str] = {}
    only: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in values["SIGN_APPS"].split(","))):
        appid, sep, secret = item.partition(":")
        # `name:secret:method` pins the app to one method; a secret may itself hold colons.
        head, _, method = secret.rpartition(":")
        if head and method.strip().lower() in ("md5", "hmac-sha256"):
            secret, only[appid.strip()] = head, method.strip().lower()
        if not sep or not appid.strip() or not secret.strip():
            raise ConfigError("setting SIGN_APPS: use the form app1:secret1,app2:secret2:hmac-sha256")
        apps[appid.strip()] = secret.strip()
    values["SIGN_APPS"] = apps
    values["SIGN_APP_METHODS"] = only
    for name, allowed in (("AUTH_DRIVER", ("md5", "jwt")), ("SMS_DRIVER", ("log", "webhook")),
                          ("JWT_ALG", ("HS256", "EdDSA", "ES256", "RS256")),
                          ("SESSION_POLICY", ("multi", "single", "per_platform")),
                          ("LOG_FORMAT", ("text", "json"))):
        if values[name] not in allowed:
            raise ConfigError(f"setting {name}: {values[name]!r} is not one of {', '.join(allowed)}")
    if values["SMS_DRIVER"] == "webhook" and not values["SMS_WEBHOOK_URL"]:
        raise ConfigError("setting SMS_WEBHOOK_URL: the webhook SMS driver needs a URL")
    if values["CAPTCHA_TEST_ANSWER"] and not values["APP_DEBUG"]:
        raise ConfigError("setting CAPTCHA_TEST_ANSWER: only allowed with APP_DEBUG=1 "
                          "(it makes every captcha's answer known)")
    try:
        steps = [int(step) for step in values["LOGIN_LOCK_STEPS"].split(",")]
        if not steps or min(steps) <= 0:
            raise ValueError
    except ValueError:
        raise ConfigError("setting LOGIN_LOCK_STEPS: positive seconds, comma-separated, e.g. 60,300,900") from None
    values["LOGIN_LOCK_STEPS"] = steps
    try:
        from app.common.client_ip import parse_networks
        values["TRUSTED_PROXIES"] = parse_networks(values["TRUSTED_PROXIES"])
    except ValueError as exc:
        raise ConfigError(f"setting TRUSTED_PROXIES: {exc}") from None
    for name in ("READY_TIMEOUT", "WEBHOOK_TIMEOUT", "WEBHOOK_RETRY_MIN", "WEBHOOK_RETRY_MAX", "EVENTS_LEASE_TTL",
                 "EVENTS_POLL"):
        if values[name] <= 0:
            raise ConfigError(f"setting {name}: must be a positive number")
    # A delivery that outlasts the lease could overlap the next holder's: keep it well inside.
    if values["WEBHOOK_TIMEOUT"] * 2 >= values["EVENTS_LEASE_TTL"]:
        raise ConfigError("setting WEBHOOK_TIMEOUT: must be under half of EVENTS_LEASE_TTL")
    for name in ("SIGN_WINDOW", "CAPTCHA_TTL", "LOGIN_WINDOW", "LOGIN_LOCK_AFTER", "LOGIN_CAPTCHA_AFTER", "TOKEN_TTL",
                 "JWT_TTL", "REFRESH_TTL", "MAX_BODY_SIZE",
                 "REFRESH_REUSE_GRACE", "REFRESH_LIMIT",
                 "CACHE_MAP_SIZE"):
        if values[name] <= 0:
            raise ConfigError(f"setting {name}: must be a positive number")


# Secrets of an optional feature: generated only when the feature is on (this setting is set).
_SECRET_NEEDED_BY = {"WEBHOOK_SECRET": "WEBHOOK_URL"}


def _fill_secrets(values: dict[str, Any], known: list[Setting]) -> tuple[dict[str, Path], set[str]]:
    """Generate each missing secret once into runtime/secrets/ (mode 0600) and reuse it; also
    which of them this call generated."""
    files: dict[str, Path] = {}
    generated: set[str] = set()
    for setting in known:
        if not setting.secret or values[setting.name]:
            continue
        if setting.name in _SECRET_NEEDED_BY and not values[_SECRET_NEEDED_BY[setting.name]]:
            continue
        folder = Path(values["RUNTIME_DIR"]) / "secrets"
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = folder / setting.name.lower()
        values[setting.name], created = _read_or_create_secret(path)
        files[setting.name] = path
        if created:
            generated.add(setting.name)
    return files, generated


def _read_or_create_secret(path: Path) -> tuple[str, bool]:
    """The secret in `path` (stripped: an editor may have added a newline) and whether it was
    generated now. A generated secret is written without a trailing newline, so that the file's
    raw content is the secret a client signs with (`cat`, `open().read()`, `fs.readFileSync`)."""
    try:
        # O_EXCL: when several workers start at once, exactly one writes and the others read.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):
            text = path.read_text().strip()
            if text:
                return text, False
            time.sleep(0.02)  # the creating process has not written it yet
        raise ConfigError(f"secret file {path} is empty; delete it to generate a new one") from None
    value = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    return value, True
