"""The client's address: the connection's, unless that is a trusted proxy (SPEC §8).

Behind trusted proxies the client is the last address in X-Forwarded-For that is not itself
a trusted proxy. From any other peer the header is ignored, so a client cannot choose the
address its limits are counted under.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(text: str) -> list[Network]:
    """TRUSTED_PROXIES: comma-separated addresses or CIDR blocks."""
    return [ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip()]


def _trusted(address: str, networks: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(peer: str, forwarded_for: str | None, networks: list[Network]) -> str:
    """The address limits are counted under."""
    if not networks or not forwarded_for or not _trusted(peer, networks):
        return peer
    for hop in reversed([part.strip() for part in forwarded_for.split(",")]):
        if not hop:
            continue
        if not _trusted(hop, networks):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # a garbled header from behind the proxy: count it under the proxy
    return peer
