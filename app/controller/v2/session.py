"""v2 Session controller: the same actions in the Hyperf envelope."""
from __future__ import annotations

from app.controller.v1.session import Session as V1Session


class Session(V1Session):
    pass
