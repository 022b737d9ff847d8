"""A real webhook receiver on loopback for the events tests: scripted failures, recorded deliveries."""
from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver:
    """Answers each POST as `script` says (then `mode`): ok, 500, slow (past the sender's timeout),
    close (drops the connection unanswered), redirect (302 to a page that answers a GET 200) or
    hang (until release()). Records what it accepted."""

    def __init__(self, secret: str, port: int = 0, delay: float = 0.0):
        self.secret = secret.encode()
        self.delay = delay
        self.script: list[str] = []
        self.mode = "ok"
        self.accepted: list[dict[str, Any]] = []
        self.attempts: list[int] = []
        self.bad_signatures = 0
        self.gets = 0
        self.in_flight = 0
        self.most_in_flight = 0
        self.hanging = threading.Event()
        self._release = threading.Event()
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - where "redirect" sends: a sender that follows it loses the event
                receiver.gets += 1
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver._lock:
                    receiver.in_flight += 1
                    receiver.most_in_flight = max(receiver.most_in_flight, receiver.in_flight)
                    mode = receiver.script.pop(0) if receiver.script else receiver.mode
                try:
                    receiver.handle(self, body, mode)
                finally:
                    with receiver._lock:
                        receiver.in_flight -= 1

        return Handler

    def handle(self, handler: BaseHTTPRequestHandler, body: bytes, mode: str) -> None:
        event = json.loads(body)
        expected = "sha256=" + hmac.new(self.secret, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(handler.headers.get("X-Webhook-Signature", ""), expected):
            self.bad_signatures += 1
        self.attempts.append(event["id"])
        if self.delay:
            time.sleep(self.delay)
        if mode == "close":
            handler.connection.shutdown(socket.SHUT_RDWR)
            handler.close_connection = True
            return
        if mode == "slow":
            time.sleep(1.0)
        if mode == "hang":
            self.hanging.set()
            self._release.wait(30)
        status = {"ok": 200, "redirect": 302}.get(mode, 500)
        if status == 200:
            self.accepted.append(event)
        try:
            handler.send_response(status)
            if status == 302:
                handler.send_header("Location", "/elsewhere")
            handler.send_header("Content-Length", "0")
            handler.end_headers()
        except OSError:
            pass  # the sender gave up

    def release(self) -> None:
        self._release.set()

    def ids(self) -> list[int]:
        return [event["id"] for event in self.accepted]

    def stop(self) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()
