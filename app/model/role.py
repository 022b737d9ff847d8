"""Roles: a name, a title and the permissions they grant (`role/create`, `role/*`, or `*` for all)."""
from __future__ import annotations

import json
from typing import Any

from peewee import AutoField, CharField, IntegerField, SmallIntegerField, TextField

from app.model.base import BaseModel, now

# The administrator role made by the first migration; it holds `*` and cannot be deleted.
ADMIN_ROLE = "admin"


class Role(BaseModel):
    id = AutoField()
    name = CharField(max_length=32, unique=True)
    title = CharField(max_length=64)
    # A JSON list of permission strings (portable across SQLite, MySQL and PostgreSQL).
    permissions_json = TextField(default="[]")
    builtin = SmallIntegerField(default=0)
    created_at = IntegerField(default=now)
    updated_at = IntegerField(default=now)

    class Meta:
        table_name = "role"

    @property
    def permissions(self) -> list[str]:
        permissions: list[str] = json.loads(self.permissions_json)
        return permissions

    def to_dict(self) -> dict[str, Any]:
        """A role as the API shows it."""
        return {"id": self.id, "name": self.name, "title": self.title, "permissions": self.permissions}
