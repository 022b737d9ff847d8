"""The application container (ThinkPHP's `app()`): settings and shared services of one process."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.common.cache import Cache
from app.common.clock import SYSTEM_CLOCK, Clock
from app.service.audit import Audit
from app.service.captcha import CaptchaService
from app.service.login_guard import LoginGuard
from app.service.registration import Registration
from app.service.sms_code import SmsCodeService


@dataclass
class Container:
    settings: Any
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
