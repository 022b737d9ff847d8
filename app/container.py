"""The application container (ThinkPHP's `app()`): settings and shared services of one app.

A process may hold several apps; nothing here is shared between them. `state` is what code deep
inside reaches without being handed it (app/common/app_state.py: database, Auth, data keys).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.common.app_state import AppState
from app.common.cache import Cache
from app.common.clock import SYSTEM_CLOCK, Clock
from app.service.audit import Audit
from app.service.captcha import CaptchaService
from app.service.login_guard import LoginGuard
from app.service.registration import Registration
from app.service.sms_code import SmsCodeService
from config import Settings


@dataclass
class Container:
    settings: Settings
    cache: Cache
    sms: SmsCodeService
    registration: Registration
    captcha: CaptchaService
    audit: Audit
    login_guard: LoginGuard
    # The time every service reads (app/common/clock.py): a test's ManualClock moves it.
    clock: Clock = SYSTEM_CLOCK
    # Account lifecycle (SPEC §11): app/service/session.py, tokens.py, sms_scene.py, account.py, refresh_rotation.py
    sessions: Any = None
    tokens: Any = None
    sms_scenes: Any = None
    account: Any = None
    rotation: Any = None
    # QR login and the member code (SPEC §12): app/service/qrlogin.py, member_code.py
    qrlogin: Any = None
    member_codes: Any = None
    # The webhook consumer of the events outbox (app/service/event_consumer.py), when WEBHOOK_URL is set.
    events: Any = None
    # RSA password transport (SPEC §13.2): app/service/rsa_keys.py
    rsa_keys: Any = None
    # The app's own database, Auth, data keys, phone pattern and events switch (server.boot).
    state: AppState | None = None
