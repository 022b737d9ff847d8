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
    def role_ids(cls, uid: int) -> list[str]:
        """The user's role ids as strings (the JWT's `rid`, as in the Hyperf document)."""
        return [str(row.role_id) for row in cls.select(cls.role_id).where(cls.uid == uid).order_by(cls.role_id)]

    @classmethod
    def permissions(cls, uid: int) -> set[str]:
        """Every permission the user's roles grant, as the database says now."""
        from app.model.role import Role

        rows = Role.select(Role.permissions_json).join(cls, on=(cls.role_id == Role.id)).where(cls.uid == uid)
        return {permission for row in rows for permission in row.permissions}
