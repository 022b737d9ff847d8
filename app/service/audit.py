"""Writes the audit log: who, from where, what was decided. Never a secret."""
from __future__ import annotations

import logging
import unicodedata
from typing import overload

from app.common import metrics
from app.common.clock import SYSTEM_CLOCK, Clock
from app.common.database import db_write
from app.model.audit_log import AuditLog
from app.service.events import mask_phone
from app.validate.base import BaseValidate

log = logging.getLogger("login_api.audit")

# Control, format (bidirectional overrides, zero-width), line and paragraph separators, surrogates,
# private use, unassigned: what could move a terminal's cursor, recolour it or reorder a line.
_UNPRINTABLE = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}


# Text in, text out: a caller that has text may cut the result to a column.
@overload
def printable(text: str) -> str: ...
@overload
def printable(text: str | None) -> str | None: ...
def printable(text: str | None) -> str | None:
    """`text` with every unprintable character escaped as Python writes it (`\\x1b`, `\\u202e`), so a
    typed identity is shown to an operator as typed, harmlessly. Idempotent: escaping twice is once."""
    if text is None:
        return None
    return "".join(ascii(ch)[1:-1] if unicodedata.category(ch) in _UNPRINTABLE else ch for ch in text)


class Audit:
    def __init__(self, clock: Clock = SYSTEM_CLOCK):
        self.clock = clock

    async def record(self, event: str, outcome: str, *, uid: int | None = None, account: str | None = None,
                     ip: str | None = None, detail: str | None = None) -> None:
        """Append one decision; a failure to write is logged, never turned into the request's failure.

        Each decision is also counted for /metrics (logins, SMS, tokens by outcome)."""
        metrics.audited(event, outcome, detail)
        if account and BaseValidate.mobile_pattern.fullmatch(account):
            account = mask_phone(account)  # SPEC §13.3: no table holds a phone in clear
        at = self.clock.seconds()
        try:
            # Cut to their columns; an empty one is stored as NULL.
            shown_account = printable(account)[:64] if account else None
            shown_detail = printable(detail)[:255] if detail else None
            await db_write(lambda: AuditLog.create(event=event, outcome=outcome, uid=uid, created_at=at,
                                                   account=shown_account, ip=ip, detail=shown_detail))
        except Exception:  # noqa: BLE001 - the decision stands even if its record cannot be written
            log.exception("could not write the audit log (%s %s)", event, outcome)
