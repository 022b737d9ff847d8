"""Serve the API with uvicorn (the default command)."""
from __future__ import annotations

import argparse
import os

import uvicorn


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")


def run(args: argparse.Namespace) -> int:
    from app.http_protocol import CoalescingHttpToolsProtocol
    from server import ROOT, boot

    # Migrate and generate secrets once in the parent, so workers start on a ready database.
    settings = boot()
    # create_app runs again in each worker and reads the secrets this process just generated: it
    # learns here that they are new, so the first start's log says "was generated into".
    os.environ["LOGIN_API_GENERATED_SECRETS"] = ",".join(sorted(settings.generated_secrets))
    if settings.METRICS_ENABLED:
        # Before any worker (or, with one worker, this process) imports prometheus_client.
        from app.common.metrics_files import prepare_multiprocess_dir
        prepare_multiprocess_dir(settings.RUNTIME_DIR, args.port)
    from app.common.request_id import uvicorn_json_config

    log_config = (uvicorn_json_config(settings.LOG_LEVEL) if settings.LOG_FORMAT == "json"
                  else uvicorn.config.LOGGING_CONFIG)
    uvicorn.run("server:create_app", factory=True, host=args.host, port=args.port, workers=args.workers,
                app_dir=str(ROOT), log_level=settings.LOG_LEVEL.lower(), loop="uvloop", log_config=log_config,
                http=CoalescingHttpToolsProtocol if settings.HTTP_COALESCE_WRITES else "httptools",
                # The access log would print query strings, which may carry a token or password.
                access_log=False, server_header=False,
                # uvicorn would otherwise take X-Forwarded-For from 127.0.0.1 on its own; the app
                # decides whom to trust (TRUSTED_PROXIES), so the limits cannot be steered by a header.
                proxy_headers=False)
    return 0
