"""v2 Account controller: the same actions in the Hyperf envelope."""
from __future__ import annotations

from app.controller.v1.account import Account as V1Account


class Account(V1Account):
    pass
