"""Make a new current JWT signing key (JWT_ALG EdDSA / ES256 / RS256); older keys keep verifying until their tokens expire."""  # noqa: E501 - the command's one-line help, as `help` and the README print it
from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No options: the algorithm and the folder come from the settings."""


def run(args: argparse.Namespace) -> int:
    from app.common.auth import jwt_keyring
    from config.setting import load_settings

    settings = load_settings()
    keyring = jwt_keyring(settings)
    if keyring is None:
        print("error: JWT_ALG is HS256, which has no key pair; change JWT_SECRET to rotate it "
              "(every JWT signed with the old secret stops working)", file=sys.stderr)
        return 2
    key = keyring.rotate()
    kept = [k.kid for k in keyring.published() if k.kid != key.kid]
    print(f"new {key.alg} signing key {key.kid} in {keyring.folder}; still verifying: {', '.join(kept) or 'none'}")
    print("running workers pick it up within a second; other instances need a copy of that folder")
    return 0
