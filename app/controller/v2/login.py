"""v2 Login controller: the same actions; only the envelope, codes and messages differ."""
from __future__ import annotations

from app.controller.v1.login import Login as V1Login


class Login(V1Login):
    pass
