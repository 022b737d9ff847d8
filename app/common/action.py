"""Each API action declares itself once: `@action(Validator, "scene", answer=..., data=..., errors=...)`.

The declaration is the one place that says what an action takes and answers. The wrapper it puts
round the action validates the request with the declared validator and scene and hands the result
to the action as `data`, so the action cannot check something else than it declares; the OpenAPI
document (app/common/openapi/), the README's endpoint table and postman/build.py read the spec it
records on the function.

The wrapper runs where the action ran: after `initialize()` (the signature) and after the route's
middleware (checkLogin …), so which error a bad request gets first is unchanged. A v2 controller
subclasses its v1 one and so inherits the declared function, spec and all.
"""
from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from app.common.error import BY_NAME
from app.validate.base import BaseValidate

# A controller action: a coroutine method taking the controller (and, with a validator, the data).
ActionFunction = Callable[..., Awaitable[Any]]

SPEC_ATTRIBUTE = "action_spec"


@dataclass(frozen=True)
class ActionSpec:
    """What an action takes (its validator and scene) and answers (its success, data, own errors)."""

    validator: type[BaseValidate] | None
    scene: str | None
    answer: str
    # The JSON Schema of the success answer's `data`; None: no data (`{}` in v1, `[]` in v2).
    data: Any
    # Catalog names of the action's business errors (the signature's, the validator's and the
    # middleware's are added by the OpenAPI generator).
    errors: tuple[str, ...]
    # An action that answers a file on success (an export): its media types; errors stay envelopes.
    files: tuple[str, ...]
    # The first line of the action's docstring: the README's "what" and the OpenAPI summary.
    summary: str


def action(validator: type[BaseValidate] | None = None, scene: str | None = None, *, answer: str = "OK",
           data: Any = None, errors: tuple[str, ...] = (), files: tuple[str, ...] = ()
           ) -> Callable[[ActionFunction], ActionFunction]:
    """Declare a controller action; with a validator, the action is called as `action(self, data)`."""
    if validator is not None and not (isinstance(validator, type) and issubclass(validator, BaseValidate)):
        raise TypeError(f"{validator!r} is not a validator")
    if scene is not None and (validator is None or scene not in validator.scene):
        raise ValueError(f"{getattr(validator, '__name__', validator)} has no scene {scene!r}")
    unknown = [name for name in (answer, *errors) if name not in BY_NAME]
    if unknown:
        raise ValueError(f"not in the error catalog: {unknown}")

    def declare(function: ActionFunction) -> ActionFunction:
        spec = ActionSpec(validator, scene, answer, data, tuple(errors), tuple(files),
                          (inspect.getdoc(function) or "").split("\n", 1)[0])
        if validator is None:
            declared = function
        else:
            @functools.wraps(function)
            async def declared(self: Any) -> Any:
                return await function(self, self.validate(validator, scene))
        setattr(declared, SPEC_ATTRIBUTE, spec)
        return declared

    return declare


def spec_of(function: Any) -> ActionSpec | None:
    """The declaration recorded on an action (inherited methods are the same function), or None."""
    return getattr(function, SPEC_ATTRIBUTE, None)


def find_action(target: str, version: str) -> Callable[..., Any] | None:
    """The action a route target names in `version` (`<ver>.Login/login`), or None if it has none."""
    controller, _, action_name = target.replace("<ver>", version).partition("/")
    package, _, class_name = controller.rpartition(".")
    try:
        module = importlib.import_module(".".join(filter(None, ("app.controller", package, class_name.lower()))))
    except ModuleNotFoundError:
        return None
    return getattr(getattr(module, class_name, None), action_name, None)


def declared_spec(target: str, version: str) -> ActionSpec:
    """The declaration of the action a route names; an action without one is an error, not a guess."""
    function = find_action(target, version)
    if function is None:
        raise LookupError(f"{target} has no action in {version}")
    spec = spec_of(function)
    if spec is None:
        raise LookupError(f"{target} ({version}): {function.__qualname__} has no @action declaration "
                          "(app/common/action.py)")
    return spec
