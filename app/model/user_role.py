"""The user–role link."""
from __future__ import annotations

from peewee import AutoField, IntegerField

from app.model.base import BaseModel, now


class UserRole(BaseModel):
    id = AutoField()
    uid = IntegerField()
    role_id = IntegerField(index=True)
    created_at = IntegerField(default=now)

    class Meta:
        table_name = "user_role"
        indexes = ((("uid", "role_id"), True),)

    @classmethod
    def permissions(cls, uid: int) -> set[str]:
        """Every permission the user's roles grant, as the database says now."""
        from app.model.role import Role

        rows = Role.select(Role.permissions_json).join(cls, on=(cls.role_id == Role.id)).where(cls.uid == uid)
        return {permission for row in rows for permission in row.permissions}
