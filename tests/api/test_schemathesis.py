"""schemathesis against a live server, from its own /openapi.json: every operation of both versions, a
bounded number of generated requests each (positive and negative), signed as a client signs them.

No answer may be a 5xx; every answer must be documented (status code, content type, envelope schema).
Bounds: SCHEMATHESIS_EXAMPLES (default 8) examples per operation and mode, and a deadline for the whole run.
"""
from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest

from app.common.sign import make_sign
from tests.support import SIGN_SECRET, LiveServer

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.generation import GenerationMode  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "8"))
DEADLINE = float(os.environ.get("SCHEMATHESIS_SECONDS", "240"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path_factory.mktemp("runtime-schemathesis"))
    live.create_user("Fuzz", "13911112222", "secret_123")
    yield live
    live.stop()


def sign_case(case: Any) -> None:
    """A fresh timestamp and nonce in a JSON object body, and `sign` over query + body."""
    body = case.body if isinstance(case.body, dict) else None
    if body is not None:
        body["timestamp"] = int(time.time())
        body["nonce"] = secrets.token_hex(10)
        body.pop("appid", None)  # no other apps on this server
    query = dict(case.query or {})
    params = {**query, **(body or {})}
    case.headers = {**(case.headers or {}), "sign": make_sign(params, SIGN_SECRET)}


def test_no_5xx_and_every_answer_documented(fuzz_server: LiveServer) -> None:
    schema = schemathesis.openapi.from_url(fuzz_server.url + "/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30
    started = time.monotonic()
    ran = 0
    for operation in operations:
        # the unversioned GET pages take no input: nothing to make negative
        modes = [GenerationMode.POSITIVE] + [GenerationMode.NEGATIVE] * (operation.method.upper() == "POST")
        for mode in modes:
            if time.monotonic() - started > DEADLINE:
                pytest.fail(f"schemathesis ran past {DEADLINE} s after {ran} runs; lower SCHEMATHESIS_EXAMPLES")

            @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                      phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case: Any) -> None:
                # B023: run() is called right below, within this iteration.
                if operation.method.upper() == "POST":  # noqa: B023
                    sign_case(case)
                response = case.call(base_url=fuzz_server.url, timeout=30)
                assert response.status_code < 500, (case.path, case.body, response.text[:500])
                case.validate_response(response, checks=CHECKS)

            run()
            ran += 1
    posts = sum(operation.method.upper() == "POST" for operation in operations)
    assert ran == len(operations) + posts
