"""SPEC §13.1: the server's and the client's HMAC-SHA256 signers agree with every shared vector."""
from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import pytest

from app.common.sign_hmac import canonical_query, canonical_request, make_hmac_sign, string_to_sign
from client.signing import hmac_sign

VECTORS = json.loads((Path(__file__).resolve().parent.parent / "data" / "sign-vectors-hmac.json").read_text("utf-8"))


def _query(vector: dict) -> str:
    return "&".join(f"{quote(name)}={quote(value)}" for name, value in vector["query"])


@pytest.mark.parametrize("vector", VECTORS, ids=[v["path"] for v in VECTORS])
def test_server_steps_agree_with_the_vector(vector: dict) -> None:
    canonical = canonical_request(vector["method"], vector["path"], _query(vector), vector["content_type"],
                                  vector["authorization"], vector["body"].encode("utf-8"))
    assert canonical == vector["canonical_request"]
    assert string_to_sign(vector["timestamp"], vector["appid"], canonical) == vector["string_to_sign"]
    assert make_hmac_sign(vector["secret"], vector["timestamp"], vector["appid"], canonical) == vector["sign"]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["path"] for v in VECTORS])
def test_client_agrees_with_the_vector(vector: dict) -> None:
    assert hmac_sign(vector["secret"], vector["timestamp"], vector["appid"], vector["method"], vector["path"],
                     _query(vector), vector["content_type"], vector["authorization"],
                     vector["body"].encode("utf-8")) == vector["sign"]


def test_query_order_and_spelling_do_not_matter_but_values_do() -> None:
    assert canonical_query("b=2&a=1") == canonical_query("a=1&b=2") == "a=1&b=2"
    assert canonical_query("note=a+b") == canonical_query("note=a%20b") == "note=a%20b"
    assert canonical_query("x=%7e") == "x=~" and canonical_query("x=%2F") == "x=%2F"
    assert canonical_query("a=1&sign=abc") == "a=1"  # a signature cannot cover itself
    assert canonical_query("a=1") != canonical_query("a=2")
