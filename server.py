"""The login API service: `create_app()` and the command line.

    python server.py [--host 127.0.0.1] [--port 8000] [--workers 1]     serve with uvicorn
    python server.py user:create --account NAME --phone PHONE --password PASS
    python server.py help                                                list every command
"""
from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from config import ConfigError, Settings, load_settings  # noqa: E402

if TYPE_CHECKING:
    from app.common.app_state import AppState
    from app.common.clock import Clock
    from app.http import Http

log = logging.getLogger("login_api")


def configure_logging(level: str, log_format: str = "text") -> None:
    """One stream handler for the service's own loggers (uvicorn configures its own).

    Every line carries the id of the request it was written for (app/common/request_id.py).
    """
    from app.common.request_id import RequestIdFilter, make_formatter

    logger = logging.getLogger("login_api")
    if not logger.handlers:
        stream = logging.StreamHandler()
        stream.addFilter(RequestIdFilter())
        logger.addHandler(stream)
        logger.propagate = False
    for handler in logger.handlers:
        handler.setFormatter(make_formatter(log_format))
    logger.setLevel(level.upper())


def boot(settings: Settings | Mapping[str, Any] | None = None) -> Settings:
    """Settings, logging, database and schema: what both the server and the admin commands need.

    The app booted becomes the process default (app/common/app_state.py): a script's or an admin
    command's models, keys and Auth are its own.
    """
    from app.common.app_state import set_default

    state = boot_state(settings)
    set_default(state)
    return state.settings


def boot_state(settings: Settings | Mapping[str, Any] | None = None) -> AppState:
    """boot() for one app of several: its own database, data keys, phone pattern, events switch."""
    from app.common.app_state import AppState, using
    from app.common.data_crypto import DataKeys
    from app.common.database import check_connection, open_database
    from app.model.migration import migrate

    # Everything this process creates under runtime/ (database, cache, secrets, logs, and the files
    # SQLite and LMDB make on their own: -wal, -shm, -lock) is the owner's alone: 0600, folders 0700.
    # A process-wide umask, set before the first of them, also covers files made later by threads.
    os.umask(0o077)
    if not isinstance(settings, Settings):
        settings = load_settings(settings)
    data_keys = DataKeys(settings.DATA_KEY)  # before migrate(): migration 11 encrypts the phones
    # A runtime folder made by an older version (or by hand) may be open to others: closing the
    # folder closes everything in it, whatever the modes of the files inside.
    runtime = Path(settings.RUNTIME_DIR)
    if runtime.is_dir() and runtime.stat().st_uid == os.getuid():
        runtime.chmod(0o700)
    configure_logging(settings.LOG_LEVEL, settings.LOG_FORMAT)
    database = open_database(settings.DATABASE_URL, settings.DB_BUSY_TIMEOUT)
    # The phone pattern before migrate(): migration 11 masks the audit log's phone-shaped identities.
    # The outbox records events only when WEBHOOK_URL is set.
    state = AppState(settings, database, data_keys, re.compile(settings.PHONE_PATTERN, re.ASCII),
                     events_enabled=bool(settings.WEBHOOK_URL))
    with using(state):
        check_connection()
        migrate()
    return state


def create_app(settings: Settings | Mapping[str, Any] | None = None, clock: Clock | None = None) -> Http:
    """The ASGI application; `settings` is a Settings object or a dict of overrides.

    `clock` is the time every service reads (the system's by default; a test's ManualClock).
    Each app owns its state: several apps with different settings may run in one process. The
    last one made is also the process default, for code outside every app's call.
    """
    from app.common.app_state import set_default, using

    state = boot_state(settings)
    with using(state):
        http = _build(state, clock)
    set_default(state)
    return http


def _build(state: AppState, clock: Clock | None) -> Http:
    """The container, its services and the dispatcher of one app (its state current)."""
    import route.app  # noqa: F401 - declares the routes
    from app.common.auth import Auth
    from app.common.cache import make_cache
    from app.common.clock import SYSTEM_CLOCK
    from app.common.route import Route
    from app.common.sms import make_sms_driver
    from app.container import Container
    from app.dispatcher import Dispatcher
    from app.http import Http
    from app.model.database_identity import database_identity
    from app.service.audit import Audit
    from app.service.captcha import CaptchaService
    from app.service.login_guard import LoginGuard
    from app.service.registration import Registration
    from app.service.rsa_keys import RsaKeyStore
    from app.service.sms_code import SmsCodeService
    from config.middleware import ALIAS

    settings = state.settings
    for name, path in settings.secret_files.items():
        generated = set(settings.generated_secrets) | set(os.environ.get("LOGIN_API_GENERATED_SECRETS", "").split(","))
        done = "was generated into" if name in generated else "is read from"
        log.info("%s %s %s (set it in the environment or .env to choose your own)", name, done, path)
    if not settings.SIGN_REQUIRED:
        log.warning("SIGN_REQUIRED is off: requests are neither signed nor checked for replay; "
                    "never run it in production")
    if settings.APP_DEBUG:
        log.warning("APP_DEBUG is on: SMS codes and tracebacks appear in responses; never run it in production")
    elif settings.SMS_DRIVER == "log":
        # Outside debug the codes are in no response, so the log is the one place they are: say so.
        log.warning("SMS_DRIVER=log: SMS codes are written to the log, not sent; set SMS_DRIVER=webhook in production")
    if settings.CAPTCHA_TEST_ANSWER:
        log.warning("CAPTCHA_TEST_ANSWER is set: every captcha's answer is known. For tests only!")
    # Short-lived state is kept under this database's identity, read once here (not per request).
    clock = clock or SYSTEM_CLOCK
    cache = make_cache(settings, database_identity(settings.DATABASE_URL), clock)
    audit = Audit(clock)
    sms = SmsCodeService(settings, cache, make_sms_driver(settings), audit, clock)
    captcha = CaptchaService(settings, cache)
    container = Container(settings=settings, cache=cache, sms=sms, registration=Registration(sms),
                          captcha=captcha, audit=audit, login_guard=LoginGuard(settings, cache, captcha, audit),
                          clock=clock, state=state)
    _add_account_lifecycle(container)
    _add_qr_login(container)
    if settings.WEBHOOK_URL:
        from app.service.event_consumer import EventConsumer
        container.events = EventConsumer(settings, clock)  # started with the app (lifespan), in each worker
    container.rsa_keys = RsaKeyStore(settings, audit, clock)
    Auth.install(settings, clock)
    return Http(container, Dispatcher(container, Route.rules, ALIAS))


def _add_account_lifecycle(container: Any) -> None:
    """The services of SPEC §11 (sessions, tokens, SMS scenes, account changes, refresh rotation)."""
    from app.service.account import AccountService
    from app.service.refresh_rotation import RefreshRotation
    from app.service.session import SessionService
    from app.service.sms_scene import SmsScenes
    from app.service.tokens import TokenService

    c = container
    c.sessions = SessionService(c.settings, c.cache, c.audit, c.clock)
    c.tokens = TokenService(c.audit)
    c.sms_scenes = SmsScenes(c.settings, c.cache, c.sms, c.audit)
    c.account = AccountService(c.sms_scenes, c.login_guard, c.audit)
    c.rotation = RefreshRotation(c.settings, c.cache, c.audit, c.clock)


def _add_qr_login(container: Any) -> None:
    """The services of SPEC §12 (QR login, member codes)."""
    from app.service.member_code import MemberCodeService
    from app.service.qrlogin import QrLoginService

    container.qrlogin = QrLoginService(container.settings, container.cache, container.audit, container.clock)
    container.member_codes = MemberCodeService(container.settings, container.cache, container.audit)


def main(argv: list[str]) -> int:
    from app.command import run_command
    from app.common.database import DatabaseConfigError

    try:
        return run_command(argv)
    except (ConfigError, DatabaseConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    try:
        status = main(sys.argv[1:])
        sys.stdout.flush()
    except BrokenPipeError:
        # `python server.py help | head`: the reader left; exit quietly, as other tools do. stdout is
        # pointed at devnull so that the interpreter's final flush does not raise again.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        status = 0
    sys.exit(status)
