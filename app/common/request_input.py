"""Request input: query string, JSON object and form bodies, read with a size limit.

Every malformed shape becomes a catalog error (413, 415, 60008, or 60006 for a name given
twice), so no input reaches a controller half-read and none becomes a 500.
"""
from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from app.common.error import ApiException
from app.common.text import Text

Receive = Callable[[], Awaitable[dict[str, Any]]]

_DUPLICATE = Text("参数 {name} 重复", "parameter {name} is given more than once")
_NOT_UTF8 = Text("请求内容不是有效的 UTF-8", "the request is not valid UTF-8")
_NOT_OBJECT = Text("请求体必须是 JSON 对象", "the body must be a JSON object")
_BAD_JSON = Text("JSON 格式错误", "the body is not valid JSON")
_FILES = Text("不接受文件上传", "file uploads are not accepted")
_TOO_DEEP = Text("JSON 嵌套过深", "the JSON is nested too deeply")
# Parameters are flat or nearly so; deeper nesting is refused before anything walks it recursively.
MAX_DEPTH = 32


def _duplicate(name: str) -> ApiException:
    return ApiException("PARAM_INVALID", reason=_DUPLICATE.format(name=name))


def _unreadable(reason: Text) -> ApiException:
    return ApiException("PARAMS_UNREADABLE", reason=reason)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _object_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):  # the rare case: find the name given twice
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _duplicate(key)
            seen.add(key)
    return result


# Made once: json.loads with hooks builds a new decoder on every call.
_decode_json = json.JSONDecoder(object_pairs_hook=_object_pairs, parse_constant=_reject_constant).decode


def _pairs_to_dict(pairs: list[tuple[str, str]], into: dict[str, Any]) -> dict[str, Any]:
    for key, value in pairs:
        if key in into:
            raise _duplicate(key)
        into[key] = value
    return into


def parse_query(raw: bytes) -> dict[str, Any]:
    """The query string as a dict; a name given twice is a parameter error."""
    if not raw:
        return {}
    try:
        text = raw.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise _unreadable(_NOT_UTF8) from None
    return _pairs_to_dict(pairs, {})


async def read_body(receive: Receive, content_length: str | None, limit: int) -> bytes:
    """The whole body, refused with 413 as soon as it is known to pass `limit` bytes."""
    if content_length is not None:
        try:
            if int(content_length) > limit:
                raise ApiException("BODY_TOO_LARGE")
        except ValueError:
            raise _unreadable(Text("Content-Length 不正确", "malformed Content-Length")) from None
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break  # the client went away; what we have is all there is
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                raise ApiException("BODY_TOO_LARGE")
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def parse_body(body: bytes, content_type: str) -> dict[str, Any]:
    """Body parameters by content type: JSON object, urlencoded form, or multipart fields."""
    if not body:
        return {}
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        return _parse_json(body)
    if media == "application/x-www-form-urlencoded":
        return parse_query(body)
    if media == "multipart/form-data":
        return _parse_multipart(body, content_type)
    raise ApiException("UNSUPPORTED_MEDIA_TYPE")


def _parse_json(body: bytes) -> dict[str, Any]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _unreadable(_NOT_UTF8) from None
    try:
        value = _decode_json(text)
    except (ValueError, RecursionError):
        raise _unreadable(_BAD_JSON) from None
    if not isinstance(value, dict):
        raise _unreadable(_NOT_OBJECT)
    problem = _tree_problem(value, body.count(b"[") + body.count(b"{"), b"\\u" in body)
    if problem is not None:
        raise _unreadable(problem)
    return value


class TooDeep(ValueError):
    """JSON text nested deeper than MAX_DEPTH."""


def decode_json_value(text: str) -> Any:
    """JSON text carried in one form or query value (an array field). Raises TooDeep past
    MAX_DEPTH levels (SPEC §10), ValueError when malformed or holding a lone surrogate."""
    try:
        value = json.loads(text)
    except RecursionError:  # thousands of `[`: the C decoder gives up before any check could run
        raise TooDeep(_TOO_DEEP.en) from None
    problem = _tree_problem(value, text.count("[") + text.count("{"), "\\u" in text)
    if problem is _TOO_DEEP:
        raise TooDeep(problem.en)
    if problem is not None:
        raise ValueError(problem.en)
    return value


def _tree_problem(value: Any, brackets: int, escapes: bool) -> Text | None:
    """Nesting deeper than MAX_DEPTH, or a lone surrogate (\\ud800 is no Unicode text), else None.

    Cheap tests first: only a text that could be deep or hold a \\u escape is walked (iteratively:
    the walk must not itself recurse)."""
    if brackets <= MAX_DEPTH and not escapes:
        return None
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return _TOO_DEEP
        if isinstance(item, dict):
            stack.extend((key, depth) for key in item)
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return _NOT_UTF8
    return None


def _parse_multipart(body: bytes, content_type: str) -> dict[str, Any]:
    # python-multipart's low-level parser: fields only, no temp files, all in memory (body is bounded).
    from python_multipart import MultipartParser
    from python_multipart.multipart import parse_options_header

    _, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if not boundary:
        raise _unreadable(Text("multipart 缺少 boundary", "multipart body without a boundary"))
    parts: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    header_name = bytearray()
    header_value = bytearray()

    def on_part_begin() -> None:
        current.clear()
        current.update(headers={}, data=bytearray())

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header_name.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header_value.extend(data[start:end])

    def on_header_end() -> None:
        current["headers"][bytes(header_name).lower()] = bytes(header_value)
        header_name.clear()
        header_value.clear()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        current["data"].extend(data[start:end])

    def on_part_end() -> None:
        parts.append(dict(current))

    parser = MultipartParser(boundary, {
        "on_part_begin": on_part_begin, "on_header_field": on_header_field,
        "on_header_value": on_header_value, "on_header_end": on_header_end,
        "on_part_data": on_part_data, "on_part_end": on_part_end,
    })
    try:
        parser.write(body)
        parser.finalize()
    except Exception:  # python-multipart raises its own error types for malformed bodies
        raise _unreadable(Text("multipart 格式错误", "malformed multipart body")) from None
    fields: dict[str, Any] = {}
    for part in parts:
        _, disposition = parse_options_header(part["headers"].get(b"content-disposition", b""))
        if b"filename" in disposition:
            raise _unreadable(_FILES)
        try:
            name = disposition.get(b"name", b"").decode("utf-8")
            value = bytes(part["data"]).decode("utf-8")
        except UnicodeDecodeError:
            raise _unreadable(_NOT_UTF8) from None
        if name in fields:
            raise _duplicate(name)
        fields[name] = value
    return fields


def merge(query: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """Query and body parameters together; a name in both is a parameter error (SPEC §4)."""
    if not query:
        return body
    if not body:
        return query
    for name in body:
        if name in query:
            raise _duplicate(name)
    merged = dict(query)
    merged.update(body)
    return merged
