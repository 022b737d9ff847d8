"""app.common.client_ip: the address every per-client limit is counted under (SPEC §8, issue 5).

The connection's address, unless the connection comes from TRUSTED_PROXIES: then the last
address in X-Forwarded-For that is not itself a trusted proxy. A header from anyone else, or a
garbled one, never lets a client pick the address it is counted under.
"""
from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from app.common.client_ip import client_address, parse_networks
from app.request import ApiRequest
from config import ConfigError, load_settings

LOCAL = parse_networks("127.0.0.1")
PROXIES = parse_networks("127.0.0.1, 10.0.0.0/8")


# -- parse_networks (the TRUSTED_PROXIES setting) ------------------------------------------------

def test_parse_networks_reads_addresses_and_cidr_blocks() -> None:
    assert parse_networks("127.0.0.1,10.0.0.0/8, 192.168.1.0/24 ,::1,fd00::/8") == [
        ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("192.168.1.0/24"), ipaddress.ip_network("::1/128"), ipaddress.ip_network("fd00::/8")]


@pytest.mark.parametrize("text", ["", " ", ",", " , ,"])
def test_parse_networks_of_nothing_is_empty(text: str) -> None:
    assert parse_networks(text) == []


def test_parse_networks_accepts_a_block_written_with_host_bits() -> None:
    assert parse_networks("10.1.2.3/8") == [ipaddress.ip_network("10.0.0.0/8")]


@pytest.mark.parametrize("text", ["proxy.example.com", "10.0.0.0/33", "1.2.3", "127.0.0.1;10.0.0.1"])
def test_parse_networks_refuses_garbage(text: str) -> None:
    with pytest.raises(ValueError):
        parse_networks(text)


def test_garbage_trusted_proxies_setting_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        load_settings({"TRUSTED_PROXIES": "10.0.0.0/8,not-a-network", "RUNTIME_DIR": str(tmp_path),
                       "JWT_SECRET": "x" * 40, "SIGN_SECRET": "y" * 40},
                      environ={}, env_file=tmp_path / "missing.env")


# -- without trusted proxies ----------------------------------------------------------------------

@pytest.mark.parametrize("header", [None, "", "203.0.113.7", "203.0.113.7, 198.51.100.2", "garbage"])
def test_without_trusted_proxies_the_header_is_ignored(header: str | None) -> None:
    assert client_address("127.0.0.1", header, []) == "127.0.0.1"


@pytest.mark.parametrize("header", ["203.0.113.7", "203.0.113.7, 127.0.0.1", "10.0.0.1"])
def test_an_untrusted_peer_cannot_choose_its_address(header: str) -> None:
    """The peer 192.0.2.10 is not a proxy of ours: whatever it writes, it is counted as itself."""
    assert client_address("192.0.2.10", header, PROXIES) == "192.0.2.10"


# -- behind trusted proxies -----------------------------------------------------------------------

def test_a_trusted_peer_passes_on_the_forwarded_address() -> None:
    assert client_address("127.0.0.1", "203.0.113.7", LOCAL) == "203.0.113.7"


def test_a_trusted_peer_without_the_header_is_counted_as_itself() -> None:
    assert client_address("127.0.0.1", None, LOCAL) == "127.0.0.1"
    assert client_address("127.0.0.1", "", LOCAL) == "127.0.0.1"


def test_the_last_untrusted_hop_is_the_client() -> None:
    """A client may prepend anything to the header; only the hop our proxy appended counts."""
    assert client_address("127.0.0.1", "1.1.1.1, 203.0.113.7", LOCAL) == "203.0.113.7"
    assert client_address("127.0.0.1", "1.1.1.1,203.0.113.7", LOCAL) == "203.0.113.7"


def test_trusted_hops_are_skipped_from_the_right() -> None:
    assert client_address("10.0.0.2", "1.1.1.1, 203.0.113.7, 10.9.9.9, 127.0.0.1", PROXIES) == "203.0.113.7"


def test_a_chain_of_only_trusted_hops_is_the_peer() -> None:
    assert client_address("10.0.0.2", "10.1.1.1, 127.0.0.1", PROXIES) == "10.0.0.2"


@pytest.mark.parametrize("peer, trusted", [("10.0.0.1", True), ("10.255.255.254", True), ("11.0.0.1", False),
                                           ("9.255.255.255", False), ("127.0.0.1", True), ("127.0.0.2", False)])
def test_cidr_blocks_decide_who_is_trusted(peer: str, trusted: bool) -> None:
    assert client_address(peer, "203.0.113.7", PROXIES) == ("203.0.113.7" if trusted else peer)


# -- IPv6 ---------------------------------------------------------------------------------------

def test_ipv6_proxy_and_client() -> None:
    networks = parse_networks("::1, fd00::/8")
    assert client_address("::1", "2001:db8::1", networks) == "2001:db8::1"
    assert client_address("fd12:3456::9", "2001:db8::1, fd00::7", networks) == "2001:db8::1"
    assert client_address("2001:db8::99", "2001:db8::1", networks) == "2001:db8::99"


def test_ipv6_client_address_is_normalised() -> None:
    """One client, one counter: spellings of the same address are the same key."""
    networks = parse_networks("127.0.0.1")
    spellings = ["2001:DB8::1", "2001:db8:0:0:0:0:0:1", "2001:0db8::0001"]
    assert {client_address("127.0.0.1", spelling, networks) for spelling in spellings} == {"2001:db8::1"}


def test_ipv4_client_behind_an_ipv6_proxy() -> None:
    assert client_address("::1", "203.0.113.7", parse_networks("::1")) == "203.0.113.7"


# -- garbage ------------------------------------------------------------------------------------

@pytest.mark.parametrize("header", ["garbage", "203.0.113.7, garbage", "203.0.113.7:4711", "[2001:db8::1]",
                                    "unknown", "203.0.113.300", "2001:db8::g", "\x00", "203.0.113.7 198.51.100.1"])
def test_a_garbled_last_hop_is_counted_under_the_proxy(header: str) -> None:
    assert client_address("127.0.0.1", header, LOCAL) == "127.0.0.1"


@pytest.mark.parametrize("header", [",", " , ", ",,,", "203.0.113.7,,", " 203.0.113.7 , "])
def test_empty_hops_are_skipped(header: str) -> None:
    expected = "203.0.113.7" if "203" in header else "127.0.0.1"
    assert client_address("127.0.0.1", header, LOCAL) == expected


def test_garbage_hop_before_a_good_last_hop_does_not_matter() -> None:
    assert client_address("127.0.0.1", "garbage, 203.0.113.7", LOCAL) == "203.0.113.7"


def test_a_peer_that_is_not_an_address_is_never_trusted() -> None:
    assert client_address("", "203.0.113.7", LOCAL) == ""
    assert client_address("unix-socket", "203.0.113.7", parse_networks("0.0.0.0/0")) == "unix-socket"


# -- several header lines (SPEC §10: every line counts, joined in order) -------------------------

def _lines(*lines: bytes) -> str | None:
    scope = {"headers": [(b"host", b"x"), *((b"x-forwarded-for", line) for line in lines), (b"accept", b"*/*")]}
    return ApiRequest(scope, "v2", "/test").header_lines(b"x-forwarded-for")


def test_every_forwarded_for_line_counts_in_order() -> None:
    assert _lines() is None
    assert _lines(b"203.0.113.7") == "203.0.113.7"
    assert _lines(b"10.9.9.9", b"203.0.113.7") == "10.9.9.9,203.0.113.7"
    assert _lines(b"1.1.1.1, 2.2.2.2", b"203.0.113.7") == "1.1.1.1, 2.2.2.2,203.0.113.7"


def test_the_proxys_line_wins_over_the_clients_line_before_it() -> None:
    """HAProxy's `option forwardfor` adds its line after the client's own (issue 12, item 4)."""
    assert client_address("127.0.0.1", _lines(b"10.9.9.9", b"198.51.100.9"), LOCAL) == "198.51.100.9"
    assert client_address("127.0.0.1", _lines(b"garbage", b"198.51.100.9"), LOCAL) == "198.51.100.9"
