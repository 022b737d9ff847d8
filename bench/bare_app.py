"""The ceiling of this stack: a bare Starlette app on the same uvicorn settings as the service.

    POST /echo   parses the JSON body and answers it as JSON
    GET  /       200 (readiness probe)

`bench/run.py` starts it with uvloop + httptools, no access log and `--workers N`, as
`server.py` runs the service, and on the same HTTP protocol class: the service's
app/http_protocol.py (one write per response) unless `--stock-http`, which runs uvicorn's own
(as the service does with HTTP_COALESCE_WRITES=0):

    python bench/bare_app.py --port 8100 --workers 1 [--stock-http]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route


async def echo(request: Request) -> JSONResponse:
    return JSONResponse(await request.json())


async def ready(_: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


app = Starlette(routes=[Route("/echo", echo, methods=["POST"]), Route("/", ready, methods=["GET"])])


def main(argv: list[str]) -> int:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--stock-http", action="store_true", help="uvicorn's own httptools protocol")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from app.http_protocol import CoalescingHttpToolsProtocol

    uvicorn.run("bare_app:app", host=args.host, port=args.port, workers=args.workers,
                app_dir=str(Path(__file__).resolve().parent), loop="uvloop",
                http="httptools" if args.stock_http else CoalescingHttpToolsProtocol,
                log_level="warning", access_log=False, server_header=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
