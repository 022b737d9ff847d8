"""The audit log: every authentication decision, never a password, code or token."""
from __future__ import annotations

from peewee import AutoField, CharField, IntegerField

from app.model.base import BaseModel, now


class AuditLog(BaseModel):
    id = AutoField()
    created_at = IntegerField(default=now, index=True)
    # login, token, sms, role, … and what happened to it: ok, failed, locked, issued, refreshed, revoked, sent,
    # refused, changed
    event = CharField(max_length=32)
    outcome = CharField(max_length=32)
    uid = IntegerField(null=True, index=True)
    account = CharField(max_length=64, null=True)
    ip = CharField(max_length=64, null=True)
    detail = CharField(max_length=255, null=True)

    class Meta:
        table_name = "audit_log"
