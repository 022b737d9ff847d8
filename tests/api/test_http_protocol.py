"""The server's HTTP layer (app/http_protocol.py) over a real socket: pipelining, close, sizes.

Each response leaves in one write; these check that nothing is reordered, merged wrongly,
cut short or held back, with requests a client may send back to back on one connection.
"""
from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest
import requests

from tests.conftest import serving
from tests.support import LiveServer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with serving(tmp_path_factory, "runtime", live=True, SIGN_REQUIRED=0) as live:
        yield live


def request(path: str, body: dict | None = None, close: bool = False) -> bytes:
    data = json.dumps(body or {}).encode()
    head = (f"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\n" + ("Connection: close\r\n" if close else "") + "\r\n")
    return head.encode() + data


def read_responses(sock: socket.socket, count: int) -> tuple[list[tuple[int, dict]], bytes]:
    """`count` responses (status, JSON body) parsed by Content-Length, and whatever came after."""
    buffer, found = b"", []
    while len(found) < count:
        while b"\r\n\r\n" not in buffer:
            chunk = sock.recv(65536)
            assert chunk, f"connection closed after {len(found)} of {count} responses"
            buffer += chunk
        head, _, buffer = buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = int(headers["content-length"])
        while len(buffer) < length:
            chunk = sock.recv(65536)
            assert chunk, "connection closed inside a body"
            buffer += chunk
        found.append((int(lines[0].split()[1]), json.loads(buffer[:length])))
        buffer = buffer[length:]
    return found, buffer


def connect(server: LiveServer) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def test_pipelined_requests_get_their_own_answers_in_order(server: LiveServer) -> None:
    paths = ["/v2/nowhere", "/v1/nowhere", "/v2/test", "/v1/test", "/v2/nowhere"]
    with connect(server) as sock:
        sock.sendall(b"".join(request(p) for p in paths))  # one segment, five requests
        answers, rest = read_responses(sock, len(paths))
    assert rest == b""
    assert [status for status, _ in answers] == [404, 404, 401, 401, 404]
    # v2's envelope has `code`, v1's `errorcode`: each answer is its own request's.
    assert ["code" in body for _, body in answers] == [True, False, True, False, True]
    assert ["errorcode" in body for _, body in answers] == [False, True, False, True, False]


def test_connection_close_gets_the_whole_answer_then_the_end(server: LiveServer) -> None:
    with connect(server) as sock:
        sock.sendall(request("/v2/nowhere", close=True))
        answers, rest = read_responses(sock, 1)
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
    assert answers[0][0] == 404 and rest == b""


def test_a_large_answer_arrives_whole(server: LiveServer) -> None:
    with connect(server) as sock:
        sock.sendall(b"GET /openapi.json HTTP/1.1\r\nHost: test\r\n\r\n" + request("/v2/nowhere"))
        answers, _ = read_responses(sock, 2)
    assert answers[0][0] == 200 and answers[0][1]["openapi"].startswith("3.1")
    assert answers[1][0] == 404


def test_a_streamed_export_goes_out_chunked(server: LiveServer) -> None:
    """An export is sent as it is written: chunked on the wire, no length known up front (tests/api/
    test_export.py checks its rows in-process, where there is no wire)."""
    server.create_user("root", "13900000001", "secret_123", admin=True)
    login = requests.post(server.url + "/v2/login/jwt/get", json={"account": "root", "pwd": "secret_123"}, timeout=30)
    token = login.json()["data"]["jwt"]
    streamed = requests.post(server.url + "/v2/admin/audit/export", json={"format": "csv"}, timeout=30,
                             headers={"Authorization": f"Bearer {token}"})
    assert streamed.status_code == 200, streamed.text[:300]
    assert streamed.headers.get("transfer-encoding") == "chunked" and "content-length" not in streamed.headers
    assert streamed.content.startswith(b"\xef\xbb\xbf")
