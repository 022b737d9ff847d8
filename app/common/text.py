"""A message in both languages, for reasons that are filled into catalog messages."""
from __future__ import annotations

from typing import NamedTuple


class Text(NamedTuple):
    """A sentence in Chinese and English; the renderer picks one by the request's language."""

    zh: str
    en: str

    def format(self, **fields: object) -> Text:
        return Text(self.zh.format(**fields), self.en.format(**fields))

    def pick(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh
