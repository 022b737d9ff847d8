"""Password fields sent as `rsa:<kid>:<ciphertext>` (SPEC §13.2), opened in one place for every route.

The Common controller calls this after the sign check and before validation, so validators,
length rules and services only ever see the password itself.
"""
from __future__ import annotations

from typing import Any

from app.common.error import ApiException
from app.common.rsa_transport import PASSWORD_FIELDS, PREFIX, FieldInvalid


async def open_password_fields(app: Any, params: dict[str, Any]) -> None:
    """Replace each encrypted password field of `params` by its password; ENCRYPTED_FIELD_INVALID when
    one does not open, or when PASSWORD_TRANSPORT=rsa and one came in clear. One answer for every cause."""
    present = {name: params[name] for name in PASSWORD_FIELDS if params.get(name) not in (None, "")}
    if not present:
        return
    sealed = {name: value for name, value in present.items() if isinstance(value, str) and value.startswith(PREFIX)}
    if app.settings.PASSWORD_TRANSPORT == "rsa" and len(sealed) < len(present):
        raise ApiException("ENCRYPTED_FIELD_INVALID")
    if not sealed:
        return
    try:
        params.update(await app.rsa_keys.open_fields(sealed))
    except FieldInvalid:
        raise ApiException("ENCRYPTED_FIELD_INVALID") from None
