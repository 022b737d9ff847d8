"""v2 Jwt controller: the same actions in the Hyperf envelope."""
from __future__ import annotations

from app.controller.v1.jwt import Jwt as V1Jwt


class Jwt(V1Jwt):
    pass
