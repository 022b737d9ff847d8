"""v2 Crypto controller: the same action in the Hyperf envelope."""
from __future__ import annotations

from app.controller.v1.crypto import Crypto as V1Crypto


class Crypto(V1Crypto):
    pass
