"""A Python client of the login API, on `requests`: signs every request (SPEC §4), keeps the tokens,
refreshes an expired access token once, and raises ApiError for every refusal.

    from client import LoginApiClient, ApiError

    api = LoginApiClient("http://127.0.0.1:8000", secret="…")          # v2 by default; version="v1" too
    api.login("Foo", "secret_123")                                       # JWT pair, kept in api.tokens
    print(api.me())                                                      # /test with the access token
    try:
        api.call("/login", {"username": "Foo", "password": "wrong"})
    except ApiError as error:
        print(error.code, error.message, error.status)                   # 50006 用户 Foo 未注册或者密码错误 401

Command line: `python -m client login --base-url … --secret … --account … --password …`, then
`python -m client status|refresh|me|logout` (tokens are kept in a file, `--token-file`).
"""
from client.api import ApiError, LoginApiClient, Tokens
from client.signing import canonical_string, make_sign

__all__ = ["ApiError", "LoginApiClient", "Tokens", "canonical_string", "make_sign"]
