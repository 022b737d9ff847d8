"""The ASGI application (ThinkPHP's think\\Http): requests to the dispatcher, lifespan to the container.

The dispatcher is this service's router: it resolves (version, path) with one dict lookup and
turns every failure into the version's envelope. Mounting it as the only route of a Starlette
app added a regex match and three layers of wrappers (error and exception middleware, router)
to every request and every message sent (about 8 µs a request, measured in-process on ASGI
calls without a socket), for
nothing this service uses, so the server calls the dispatcher directly. Responses, settings
and the test client are still Starlette's.

Each call runs with its app current (app/common/app_state.py), so that one process may serve
several apps: the models, Auth.instance() and the data keys are those of the app called.
"""
from __future__ import annotations

import logging
from typing import Any

from app.common.app_state import enter, leave
from app.container import Container
from app.dispatcher import Dispatcher

log = logging.getLogger("login_api.http")


class Http:
    def __init__(self, container: Container, dispatcher: Dispatcher):
        self.container = container
        self.dispatcher = dispatcher
        if container.state is None:
            raise ValueError("the container has no app state: build it with server.create_app()")
        self.state = container.state

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        # Tasks and worker threads started inside (the events consumer, db_write) copy it.
        token = enter(self.state)
        try:
            kind = scope["type"]
            if kind == "http":
                await self.dispatcher(scope, receive, send)
            elif kind == "lifespan":
                await self._lifespan(receive, send)
            elif kind == "websocket":
                await send({"type": "websocket.close", "code": 1000})
        finally:
            leave(token)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        """Nothing to start (connections open on first use); at shutdown, close the cache."""
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if self.container.events is not None:
                    self.container.events.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                from app.common.metrics import process_exiting
                process_exiting()
                if self.container.events is not None:
                    await self.container.events.stop()
                try:
                    await self.container.cache.close()
                except Exception as exc:  # noqa: BLE001 - shutdown goes on; say what failed
                    log.warning("closing the cache failed: %s", exc)
                    await send({"type": "lifespan.shutdown.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.shutdown.complete"})
                return
