"""uvicorn's httptools protocol, writing each response with one send instead of two.

uvicorn writes a response's status line and headers as soon as the app sends
`http.response.start`, and the body in a second write when it sends `http.response.body`.
On loopback or a LAN each write is a system call and a TCP segment, and the client is woken
for each. Measured on this machine (bench/, wrk -c32, one worker): the signed /v2/test went
from about 7,700 to 11,200 requests a second and the bare Starlette echo from 15,200 to
19,300 when the writes of one loop iteration were joined into one.

CoalescingTransport collects what the protocol writes during one event-loop iteration and
hands it to the real transport at the end of it (loop.call_soon), in order, as one write;
close() writes what is pending first. Nothing is held past the iteration in which it was
written, so streaming, flow control (which stays with the real transport) and pipelined
requests behave as before. `python server.py` uses it unless HTTP_COALESCE_WRITES=0, and
bench/bare_app.py uses it too, so the bare stack it is measured against runs the same server.
"""
from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class CoalescingTransport:
    """A transport that joins the writes of one loop iteration; everything else goes to `real`."""

    __slots__ = ("_real", "_loop", "_pending")

    def __init__(self, real: asyncio.Transport, loop: asyncio.AbstractEventLoop):
        self._real = real
        self._loop = loop
        self._pending: list[bytes] | None = None

    def write(self, data: bytes) -> None:
        if not data:
            return
        if self._pending is None:
            self._pending = [data]
            self._loop.call_soon(self._flush)
        else:
            self._pending.append(data)

    def writelines(self, chunks: Any) -> None:
        for data in chunks:
            self.write(data)

    def _flush(self) -> None:
        pending, self._pending = self._pending, None
        # A connection the client has closed, or that was aborted, takes nothing more.
        if pending and not self._real.is_closing():
            self._real.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def close(self) -> None:
        self._flush()
        self._real.close()

    def __getattr__(self, name: str) -> Any:
        # is_closing, get_extra_info, pause_reading, resume_reading, abort, set_protocol, …
        return getattr(self._real, name)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    """HttpToolsProtocol on a CoalescingTransport: pass as uvicorn's `http=`."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport, self.loop))  # type: ignore[arg-type]
