"""@action (app/common/action.py): an action declares its validator, scene, answer, data and errors once;
the wrapper validates with them, v2 inherits them, and the OpenAPI operation is read from them."""
from __future__ import annotations

import asyncio
import sys
import types
from types import SimpleNamespace
from typing import Any

import pytest

import route.app  # noqa: F401 - declares the routes
from app.common.action import action, declared_spec, find_action, spec_of
from app.common.error import ApiException
from app.common.openapi.operation import build_operation
from app.common.route import Route, RouteRule
from app.controller.common import Common
from app.controller.v1.account import Account as V1Account
from app.controller.v2.account import Account as V2Account
from app.validate.account import Account as AccountValidate
from app.validate.base import BaseValidate

SETTINGS = SimpleNamespace(SIGN_REQUIRED=False, SIGN_WINDOW=300, PHONE_PATTERN=r"^1[3-9]\d{9}$",
                           DEFAULT_VERSION="v2")


class SampleValidate(BaseValidate):
    rule = {"name": "require|max:8", "note": "max:20", "unused": "require"}
    scene = {"make": ["name", "note"]}


class Sample(Common):
    @action(SampleValidate, "make", answer="CREATED", data={"type": "object"}, errors=("NOT_FOUND",))
    async def make(self, data: dict[str, Any]) -> dict[str, Any]:
        """Make a `sample`: name, note."""
        return data

    async def bare(self) -> None:
        """Not declared."""


@pytest.fixture
def sample_controllers(monkeypatch: pytest.MonkeyPatch) -> None:
    """`<ver>.Sample/…` in version `vt` resolves to the Sample controller above."""
    module = types.ModuleType("app.controller.vt.sample")
    module.Sample = Sample  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "app.controller.vt.sample", module)


def test_declared_action_is_found_on_both_versions() -> None:
    assert "login_sms" not in V2Account.__dict__  # v2 inherits the action …
    spec = declared_spec("<ver>.Account/login_sms", "v2")
    assert spec is declared_spec("<ver>.Account/login_sms", "v1") is spec_of(V1Account.login_sms)
    assert (spec.validator, spec.scene, spec.answer) == (AccountValidate, "login_sms", "LOGIN_OK")  # … and its spec


def test_every_route_is_declared_in_every_version() -> None:
    for rule in Route.rules:
        for version in ("v1", "v2"):
            assert spec_of(find_action(rule.target, version)) is not None, (rule.target, version)


def test_the_wrapper_validates_with_the_declared_scene() -> None:
    def call(params: dict[str, Any]) -> Any:
        controller = Sample(SimpleNamespace(settings=SETTINGS), SimpleNamespace(params=params))
        return asyncio.run(Sample.make(controller))

    assert call({"name": "abc", "note": "n", "other": "x"}) == {"name": "abc", "note": "n"}
    with pytest.raises(ApiException) as refused:
        call({"name": "far too long"})
    assert (refused.value.answer.name, refused.value.field) == ("PARAM_INVALID", "name")
    assert Sample.make.__doc__ == "Make a `sample`: name, note."  # the wrapper keeps the docstring


def test_operation_comes_from_the_declaration(sample_controllers: None) -> None:
    operation = build_operation(RouteRule("POST", "/<ver>/sample/make", "<ver>.Sample/make"), "vt", SETTINGS)
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert list(body["properties"]) == ["name", "note", "lang"]  # the scene's fields, not `unused`
    assert body["required"] == ["name"]
    assert list(operation["responses"])[0] == "201"  # CREATED, then the errors
    assert "NOT_FOUND: Not found" in operation["responses"]["404"]["description"]
    data = operation["responses"]["201"]["content"]["application/json"]["schema"]["properties"]["data"]
    assert data == {"type": "object"}
    assert "NOT_FOUND" in {error["name"] for error in operation["x-errors"]}
    assert operation["summary"] == "Make a sample: name, note."


def test_an_undeclared_action_stops_the_generator(sample_controllers: None) -> None:
    with pytest.raises(LookupError, match="Sample.bare has no @action declaration"):
        build_operation(RouteRule("POST", "/<ver>/sample/bare", "<ver>.Sample/bare"), "vt", SETTINGS)


def test_a_wrong_declaration_fails_at_import() -> None:
    with pytest.raises(ValueError, match="no scene 'nope'"):
        action(SampleValidate, "nope")
    with pytest.raises(ValueError, match="NOT_A_NAME"):
        action(SampleValidate, "make", errors=("NOT_A_NAME",))
    with pytest.raises(TypeError):
        action(dict)  # type: ignore[arg-type]
