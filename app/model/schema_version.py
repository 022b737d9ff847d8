"""The schema version: numbered migrations (app/model/migration.py) run up to the newest at start."""
from __future__ import annotations

from peewee import IntegerField

from app.model.base import BaseModel, now


class SchemaVersion(BaseModel):
    version = IntegerField(primary_key=True)
    applied_at = IntegerField(default=now)

    class Meta:
        table_name = "schema_version"
