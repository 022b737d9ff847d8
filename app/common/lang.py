"""Message language: Chinese by default, English when the client prefers it (SPEC §3)."""
from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl


def _tag_language(tag: str) -> str | None:
    tag = tag.strip().lower()
    if tag.startswith("en"):
        return "en"
    if tag.startswith("zh"):
        return "zh"
    return None


def lang_in_query(raw: bytes) -> str | None:
    """The `lang` parameter of a raw query string, read leniently (the strict read comes later)."""
    if b"lang=" not in raw:
        return None
    for name, value in parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True):
        if name == "lang":
            return value
    return None


def choose_language(lang_param: Any, accept_language: str | None) -> str:
    """`lang` parameter first (ThinkPHP's habit), then the most preferred known Accept-Language tag."""
    if isinstance(lang_param, str) and lang_param:
        chosen = _tag_language(lang_param)
        if chosen:
            return chosen
    if not accept_language:
        return "zh"
    best, best_q = "zh", -1.0
    for part in accept_language.split(",")[:20]:
        tag, _, params = part.partition(";")
        language = _tag_language(tag)
        if language is None:
            continue
        q = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                q = float(params[2:])
            except ValueError:
                q = 0.0
        # Strictly greater: among equal weights the first listed wins; q=0 means "not this one".
        if q > 0 and q > best_q:
            best, best_q = language, q
    return best
