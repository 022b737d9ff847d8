"""v2 Admin controller: the same actions in the Hyperf envelope."""
from __future__ import annotations

from app.controller.v1.admin import Admin as V1Admin


class Admin(V1Admin):
    pass
