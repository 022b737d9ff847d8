"""v2 Member controller: the same actions in the Hyperf envelope."""
from __future__ import annotations

from app.controller.v1.member import Member as V1Member


class Member(V1Member):
    pass
