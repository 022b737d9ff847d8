"""A captured signed request, rearranged into other parameters with the same sign, is never accepted
twice (SPEC §10): values moved into names and back, the nonce moved into a neighbouring value,
parameters split and joined, spread over the query string and the body."""
from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.api import codes
from tests.conftest import PASSWORD, Server
from tests.support import SIGN_SECRET, Client, expect_error, expect_ok, make_sign

# Plain names that sort around `nonce` and `timestamp`, so the nonce has neighbours on both sides.
NAMES = st.sampled_from(["a", "lang", "mode", "nick", "note", "page", "zone"])
# Values that hold the separators of the string to sign.
VALUES = st.text(alphabet="ab1=&", min_size=1, max_size=6)


@pytest.fixture(scope="module")
def token(server: Server, user: dict) -> str:
    """/v1/test with a bearer token: a cheap signed action whose token is outside the signed parameters."""
    client = Client(server.url)
    data = expect_ok(client.post("/v1/login", {"username": "Foo", "password": PASSWORD}), "v1")
    client.http.close()
    return data["token"]


@pytest.fixture(scope="module")
def http(server: Server) -> Iterator[requests.Session]:
    """The server's transport (requests' shape), for requests built by hand."""
    session = Client(server.url).http
    yield session
    session.close()


def signed_pairs(params: dict[str, Any]) -> str:
    """The string to sign without its `&key=` tail (all values are non-empty strings here)."""
    return "&".join(f"{name}={value}" for name, value in sorted(params.items()))


def rearranged(text: str, cuts: list[bool], splits: list[int]) -> dict[str, str] | None:
    """Parameters whose string to sign is `text`: its `&`-pieces regrouped (a True cut starts a new
    parameter), each group split into name and value at one of its `=`. None if that set would not
    sign as `text` (a name twice, an empty value, names out of order)."""
    pieces = text.split("&")
    # Hypothesis draws more cuts and splits than a text needs (strict=False): the extra go unused.
    groups = [pieces[0]]
    for piece, cut in zip(pieces[1:], cuts, strict=False):
        if cut:
            groups.append(piece)
        else:
            groups[-1] += "&" + piece
    params: dict[str, str] = {}
    for group, choice in zip(groups, splits, strict=False):
        equals = [i for i, char in enumerate(group) if char == "="]
        if not equals:
            return None
        at = equals[choice % len(equals)]
        name, value = group[:at], group[at + 1:]
        if not value or name in params:
            return None
        params[name] = value
    if signed_pairs(params) != text:
        return None
    return params


def send(http: requests.Session, url: str, token: str, params: dict[str, str], sign: str,
         in_query: list[bool]) -> requests.Response:
    names = sorted(params)
    query = {name: params[name] for name, q in zip(names, in_query, strict=False) if q}
    body = {name: params[name] for name in names if name not in query}
    return http.post(url, params=query or None, json=body,
                     headers={"sign": sign, "Authorization": f"Bearer {token}"}, timeout=30)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(extra=st.dictionaries(NAMES, VALUES, max_size=4), with_nonce=st.booleans(),
       variants=st.lists(st.tuples(st.lists(st.booleans(), min_size=12, max_size=12),
                                   st.lists(st.integers(0, 5), min_size=12, max_size=12),
                                   st.lists(st.booleans(), min_size=12, max_size=12)), min_size=1, max_size=5))
def test_no_rearrangement_is_accepted_twice(server: Server, http: requests.Session, token: str,
                                            extra: dict[str, str], with_nonce: bool,
                                            variants: list[tuple[list[bool], list[int], list[bool]]]) -> None:
    url = f"{server.url}/v1/test"
    # Fresh per example, outside hypothesis: a nonce or timestamp drawn twice would be a real replay.
    params = {**extra, "timestamp": str(int(time.time())), "device": secrets.token_hex(6)}
    if with_nonce:
        params["nonce"] = secrets.token_hex(8)
    sign = make_sign(params, SIGN_SECRET)
    text = signed_pairs(params)
    expect_ok(send(http, url, token, params, sign, [False] * 12), "v1")
    for cuts, splits, in_query in variants:
        other = rearranged(text, cuts, splits)
        if other is None:
            continue
        response = send(http, url, token, other, sign, in_query)
        assert response.status_code != 200, (params, other, response.text)


def test_the_nonce_moved_into_a_neighbouring_value(server: Server, http: requests.Session, token: str) -> None:
    """The reported case: `&nonce=N` folded into `lang` signs the same and carries no nonce."""
    url = f"{server.url}/v1/test"
    params = {"lang": "en", "nonce": secrets.token_hex(8), "timestamp": str(int(time.time()))}
    sign = make_sign(params, SIGN_SECRET)
    expect_ok(send(http, url, token, params, sign, [False] * 3), "v1")
    folded = {"lang": f"en&nonce={params['nonce']}", "timestamp": params["timestamp"]}
    assert make_sign(folded, SIGN_SECRET) == sign
    expect_error(send(http, url, token, folded, sign, [False] * 2), "v1", *codes.REQUEST_REPLAYED)
    # Upper case is the same signature.
    expect_error(send(http, url, token, folded, sign.upper(), [False] * 2), "v1", *codes.REQUEST_REPLAYED)


def test_a_value_moved_into_a_name(server: Server, http: requests.Session, token: str) -> None:
    """`note=a=b` read as the name `note=a`: refused for its name, before any signature is looked at."""
    url = f"{server.url}/v1/test"
    params = {"note": "a=b", "timestamp": str(int(time.time()))}
    sign = make_sign(params, SIGN_SECRET)
    expect_ok(send(http, url, token, params, sign, [False] * 2), "v1")
    moved = {"note=a": "b", "timestamp": params["timestamp"]}
    assert make_sign(moved, SIGN_SECRET) == sign
    expect_error(send(http, url, token, moved, sign, [False] * 2), "v1", *codes.PARAM_INVALID)
