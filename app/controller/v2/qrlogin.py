"""v2 QrLogin controller: the same actions in the Hyperf envelope."""
from __future__ import annotations

from app.controller.v1.qrlogin import QrLogin as V1QrLogin


class QrLogin(V1QrLogin):
    pass
