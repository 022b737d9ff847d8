"""Writes the audit log: who, from where, what was decided. Never a secret."""
from __future__ import annotations

import logging

from app.common.database import db_write
from app.model.audit_log import AuditLog

log = logging.getLogger("login_api.audit")


class Audit:
    async def record(self, event: str, outcome: str, *, uid: int | None = None, account: str | None = None,
                     ip: str | None = None, detail: str | None = None) -> None:
        """Append one decision; a failure to write is logged, never turned into the request's failure."""
        try:
            await db_write(lambda: AuditLog.create(event=event, outcome=outcome, uid=uid,
                                                   account=(account or None) and account[:64], ip=ip,
                                                   detail=(detail or None) and detail[:255]))
        except Exception:  # noqa: BLE001 - the decision stands even if its record cannot be written
            log.exception("could not write the audit log (%s %s)", event, outcome)
