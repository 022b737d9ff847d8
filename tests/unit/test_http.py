"""app/http.py, the ASGI entry: lifespan, http to the dispatcher, websockets refused."""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import server
from app.common.auth import Auth
from app.model.base import db


def drive(app: Any, scope: dict[str, Any], incoming: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run one ASGI call with `incoming` messages; the messages the app sent."""
    sent: list[dict[str, Any]] = []
    queue = list(incoming)

    async def receive() -> dict[str, Any]:
        return queue.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def test_lifespan_starts_then_closes_the_cache_and_http_reaches_the_dispatcher(tmp_path: Path) -> None:
    app = server.create_app({"RUNTIME_DIR": str(tmp_path / "runtime"), "SIGN_SECRET": "s" * 32,
                             "JWT_SECRET": "j" * 48, "LOG_LEVEL": "critical"})
    try:
        answered = drive(app, {"type": "http", "method": "GET", "path": "/v2/nowhere", "query_string": b"",
                               "headers": [], "client": ("127.0.0.1", 1)},
                         [{"type": "http.request", "body": b"", "more_body": False}])
        assert answered[0]["status"] == 404
        assert b'"code":' in answered[1]["body"], "the v2 envelope, from the dispatcher"

        lifespan = drive(app, {"type": "lifespan"}, [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
        assert [m["type"] for m in lifespan] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
        assert app.container.cache._closed, "shutdown closes the cache"

        refused = drive(app, {"type": "websocket", "path": "/"}, [{"type": "websocket.connect"}])
        assert refused == [{"type": "websocket.close", "code": 1000}]
    finally:
        asyncio.run(app.container.cache.close())
        Auth.instance().close()
        db.close()
