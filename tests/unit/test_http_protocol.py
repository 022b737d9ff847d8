"""CoalescingTransport (app/http_protocol.py): one write per loop iteration, in order, nothing lost."""
from __future__ import annotations

import asyncio
from typing import Any

from app.http_protocol import CoalescingTransport


class RecordingTransport:
    """What the socket would have been asked to send, write by write."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closing = False
        self.closed_after: int | None = None

    def write(self, data: bytes) -> None:
        assert not self.closing, "written after close"
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True
        self.closed_after = len(self.writes)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 1234) if name == "peername" else default


def run(test) -> None:
    asyncio.run(test())


def coalescing() -> tuple[RecordingTransport, CoalescingTransport]:
    """A recording transport and the coalescing one over it, on the running loop."""
    real = RecordingTransport()
    return real, CoalescingTransport(real, asyncio.get_running_loop())


def test_the_writes_of_one_iteration_leave_as_one_write_in_order() -> None:
    async def test() -> None:
        real, transport = coalescing()
        transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
        transport.write(b"")
        transport.write(b"{}")
        assert real.writes == [], "nothing leaves before the iteration ends"
        await asyncio.sleep(0)
        assert real.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"]
        # The next iteration's writes are a write of their own.
        transport.writelines([b"a", b"b"])
        await asyncio.sleep(0)
        assert real.writes[1:] == [b"ab"]

    run(test)


def test_close_sends_what_is_pending_first() -> None:
    async def test() -> None:
        real, transport = coalescing()
        transport.write(b"head")
        transport.write(b"body")
        transport.close()
        assert real.writes == [b"headbody"] and real.closed_after == 1
        await asyncio.sleep(0)  # the scheduled flush finds nothing more to send
        assert real.writes == [b"headbody"]

    run(test)


def test_a_closed_connection_is_not_written_to() -> None:
    async def test() -> None:
        real, transport = coalescing()
        transport.write(b"late")
        real.closing = True  # the client went away before the iteration ended
        await asyncio.sleep(0)
        assert real.writes == []

    run(test)


def test_everything_else_is_the_real_transports() -> None:
    async def test() -> None:
        real, transport = coalescing()
        assert transport.get_extra_info("peername") == ("127.0.0.1", 1234)
        assert transport.is_closing() is False

    run(test)
