"""JSON Schemas of request parameters, read from a validator's `rule`, `field`, `message` and `scene`."""
from __future__ import annotations

from typing import Any

from app.common.action import ActionSpec
from app.common.error import BY_NAME, V1_FIELD_CODES
from app.common.permission import PERMISSION_PATTERN
from app.common.rsa_transport import PASSWORD_FIELDS
from app.validate.base import BaseValidate
from app.validate.role import ID_MAX, LIST_MAX_ITEMS, PERMISSION_MAX_LENGTH

# Schemas of ThinkPHP-style custom rules (methods `rule_<name>` of a validator).
CUSTOM_RULES: dict[str, dict[str, Any]] = {
    "permissionList": {"maxItems": LIST_MAX_ITEMS, "items": {"type": "string", "maxLength": PERMISSION_MAX_LENGTH,
                                                             "pattern": PERMISSION_PATTERN.pattern}},
    "idList": {"maxItems": LIST_MAX_ITEMS, "items": {"type": "integer", "minimum": 1, "maximum": ID_MAX}},
    # Checks a JSON Schema cannot state; the validator's own message is the field's note.
    "account": {}, "plainText": {},
}

# Example values for the docs page's "Try it out" (each satisfies its field's schema; a test checks).
FIELD_EXAMPLES: dict[str, Any] = {
    "username": "13911119999", "password": "secret_123", "account": "Foo", "pwd": "secret_123",
    "password_confirmation": "secret_123", "phone": "13911119999", "code": "123456",
    "old_password": "secret_123", "platform": "ios", "device": "iPhone 15", "sid": "0" * 32,
    "scope": "others", "rotate": "1", "scene": "login",
    "page": 1, "limit": 20, "id": 2, "uid": 1, "name": "editor", "title": "Editor",
    "permissions": ["role/list"], "rid": [2], "keyword": "138", "since": 1700000000, "until": 1900000000,
    "ticket": "aRZa55xZY2liVGk0DgEwcHIqQgKr6pgh", "poll_secret": "uW0DP4Eq-dt6BJgKu5XXlteIFhEIkkJYp79AxrfEzjQ",
    "wait": 20,
}
# Where one validator's field differs from the others of its name (a member code is no SMS code).
VALIDATOR_EXAMPLES: dict[tuple[str, str], Any] = {("MemberCode", "code"): "123456789012345678"}

_NUMBER, _ALPHA_DASH, _ALPHA_NUM = "^[0-9]+$", "^[A-Za-z0-9_-]+$", "^[A-Za-z0-9]+$"


def _anchored(pattern: str) -> str:
    """A validator regex is matched whole (fullmatch); say so in the JSON Schema pattern."""
    if pattern.startswith("^") and pattern.endswith("$"):
        return pattern
    return f"^(?:{pattern})$"


def field_schema(validator: type[BaseValidate], name: str, phone_pattern: str) -> tuple[dict[str, Any], bool]:
    """The JSON Schema of one validated field, and whether its rules require it."""
    rules = BaseValidate._parse(validator.rule[name])
    names = [rule for rule, _ in rules]
    schema: dict[str, Any] = {"type": "array" if "array" in names else "integer" if "integer" in names else "string"}
    is_array = schema["type"] == "array"
    notes: list[str] = []
    for rule, arg in rules:
        if rule in ("max", "min", "length") and arg:
            bounds = [int(n) for n in arg.split(",")]
            low = bounds[0] if rule in ("min", "length") else None
            high = bounds[-1] if rule in ("max", "length") else None
            if rule == "max":
                high = bounds[0]
            if schema["type"] == "integer":
                notes.append(f"{rule}:{arg} digits")
                continue
            if low is not None:
                schema["minItems" if is_array else "minLength"] = low
            if high is not None:
                schema["maxItems" if is_array else "maxLength"] = high
        elif rule == "between" and arg:
            least, most = (float(n) for n in arg.split(","))
            schema["minimum"], schema["maximum"] = (int(least) if least.is_integer() else least,
                                                    int(most) if most.is_integer() else most)
        elif rule == "number":
            schema["pattern"] = _NUMBER
        elif rule == "alphaDash":
            schema["pattern"] = _ALPHA_DASH
        elif rule == "alphaNum":
            schema["pattern"] = _ALPHA_NUM
        elif rule == "mobile":
            schema["pattern"] = _anchored(phone_pattern)
        elif rule == "regex" and arg:
            schema["pattern"] = _anchored(arg)
        elif rule == "in" and arg:
            schema["enum"] = arg.split(",")
        elif rule == "confirm":
            other = arg or f"{name}_confirmation"
            notes.append(f"must equal `{other}`")
            schema["x-confirms"] = other
        elif rule in CUSTOM_RULES:
            schema.update(CUSTOM_RULES[rule])
            message = validator.message.get(f"{name}.{rule}")
            if message:
                notes.append(message.en)
        elif rule not in ("require", "string", "array", "integer"):
            notes.append(f"rule `{rule}`")
    if name in PASSWORD_FIELDS:  # SPEC §13.2; the length rules are the password's, inside
        notes.append("or `rsa:<kid>:<base64url RSA-OAEP-256 ciphertext>` under the key of crypto/key")
    example = VALIDATOR_EXAMPLES.get((validator.__name__, name), FIELD_EXAMPLES.get(name))
    if example is not None:
        schema["examples"] = [example]
    label = validator.field.get(name)
    text = f"{label.zh} / {label.en}" if label else name
    schema["description"] = text + ("; " + "; ".join(notes) if notes else "")
    schema["x-rules"] = validator.rule[name] if isinstance(validator.rule[name], str) else \
        "|".join(f"{r}:{a}" if a else r for r, a in rules)
    schema["x-v1-code"] = V1_FIELD_CODES.get(name, BY_NAME["PARAM_INVALID"].v1)
    return schema, "require" in names


def action_fields(spec: ActionSpec, phone_pattern: str) -> tuple[dict[str, Any], list[str]]:
    """The schemas of the fields the action's declared validator checks in its scene, and those it requires."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    if spec.validator is None:
        return properties, required
    entries = spec.validator.scene[spec.scene] if spec.scene else list(spec.validator.rule)
    for entry in entries:
        name = entry.rstrip("?")
        schema, needed = field_schema(spec.validator, name, phone_pattern)
        properties[name] = schema
        if needed and not entry.endswith("?"):
            required.append(name)
    return properties, required
