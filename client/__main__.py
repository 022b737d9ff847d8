"""`python -m client COMMAND`: log in, read the token's status, refresh it, call /test, log out.

    python -m client login   --base-url http://127.0.0.1:8000 --secret SECRET --account Foo --password secret_123
    python -m client status  --base-url … --secret …      # the kept access token's status
    python -m client refresh --base-url … --secret …      # a new access token for the kept refresh token
    python -m client me      --base-url … --secret …      # the logged-in user (/test)
    python -m client logout  --base-url … --secret …      # end the session; the kept tokens are dropped
    python -m client qr-confirm TICKET --base-url … --secret …   # as the logged-in app: scan and confirm a QR login

The secret may come from LOGIN_API_SECRET and the address from LOGIN_API_URL instead. Tokens are
kept in --token-file (default ~/.login-api-client.json, owner-only). Prints the answer's data as
JSON; a refusal prints `error CODE (HTTP STATUS): MESSAGE` on stderr and exits 1.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from client.api import ApiError, LoginApiClient, Tokens


def parser(prog: str = "python -m client") -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--base-url", default=os.environ.get("LOGIN_API_URL", "http://127.0.0.1:8000"))
    common.add_argument("--secret", default=os.environ.get("LOGIN_API_SECRET"),
                        help="the signing secret (SIGN_SECRET); default: $LOGIN_API_SECRET")
    common.add_argument("--appid", default=None, help="the app whose secret this is (SIGN_APPS)")
    common.add_argument("--version", default="v2", choices=("v1", "v2"), help="API version (envelope)")
    common.add_argument("--sign-method", default="md5", choices=("md5", "hmac-sha256"),
                        help="md5 over the parameters (SPEC §4) or HMAC-SHA256 over the request (§13.1)")
    common.add_argument("--lang", default=None, help="message language: en or zh-cn")
    common.add_argument("--token-file", type=Path, default=Path.home() / ".login-api-client.json")
    main = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    commands = main.add_subparsers(dest="command", required=True)
    login = commands.add_parser("login", parents=[common], help="log in for a JWT pair and keep it")
    login.add_argument("--account", required=True, help="account or phone")
    login.add_argument("--password", required=True)
    for name, text in (("status", "the kept access token's status"), ("refresh", "refresh the access token"),
                       ("me", "the logged-in user (/test)"), ("logout", "end the session")):
        commands.add_parser(name, parents=[common], help=text)
    qr = commands.add_parser("qr-confirm", parents=[common], help="as the logged-in app: scan and confirm a QR login")
    qr.add_argument("ticket", help="the ticket, or the QR code's whole text (loginapi://qrlogin?ticket=…)")
    return main


def ticket_of(text: str) -> str:
    """The ticket itself, or the one inside a QR code's text `…?ticket=…`."""
    found = parse_qs(urlsplit(text).query).get("ticket")
    return found[0] if found else text


def run(argv: list[str], prog: str = "python -m client") -> int:
    args = parser(prog).parse_args(argv)
    if not args.secret:
        print("error: --secret (or LOGIN_API_SECRET) is needed to sign requests", file=sys.stderr)
        return 2
    api = LoginApiClient(args.base_url, args.secret, version=args.version, appid=args.appid, lang=args.lang,
                         sign_method=args.sign_method,
                         tokens=Tokens.load(args.token_file))
    try:
        if args.command == "login":
            tokens = api.login(args.account, args.password)
            result = {"jwt": tokens.access, "refresh_jwt": tokens.refresh}
        elif args.command == "status":
            result = api.status()
        elif args.command == "refresh":
            result = {"jwt": api.refresh()}
        elif args.command == "me":
            result = api.me()
        elif args.command == "qr-confirm":
            ticket = ticket_of(args.ticket)
            page = api.qr_scan(ticket)
            api.qr_confirm(ticket)
            result = {"confirmed": True, "page": page}
        else:
            api.logout()
            result = {"logged_out": True}
    except ApiError as error:
        print(f"error {error.code} (HTTP {error.status}): {error.message}", file=sys.stderr)
        if error.code in (60010, 60011, 9908) and args.command != "login":
            api.tokens = Tokens()  # the kept tokens are no good any more
        api.tokens.save(args.token_file)
        return 1
    api.tokens.save(args.token_file)
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


def main() -> int:
    """The `login-api-client` command of the installed package (client/pyproject.toml)."""
    return run(sys.argv[1:], prog="login-api-client")


if __name__ == "__main__":
    sys.exit(main())
