"""v2 Role controller: the same actions in the Hyperf envelope."""
from __future__ import annotations

from app.controller.v1.role import Role as V1Role


class Role(V1Role):
    pass
