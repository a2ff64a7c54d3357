"""The page's words and numbers in the reader's language (setting `report_language`).

EnergiTech's compliance officers and technical management read French; other readers
English. Every label of the page is a key of one catalogue per language
(`messages/<code>.yml`, plain text with `{name}` placeholders, never HTML: the templates
escape it), and numbers are written as the language writes them (Babel: `12 345,50` in
French, `12,345.50` in English). Machine-read figures (`data-*` attributes) never depend
on the language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml
from babel import Locale
from babel.numbers import format_decimal

LANGUAGES: Mapping[str, str] = {"en": "en_GB", "fr": "fr_FR"}


@dataclass(frozen=True)
class Language:
    """One language of the page: its catalogue and its way of writing numbers."""

    code: str
    locale: str
    messages: Mapping[str, str]

    def text(self, key: str, /, **values: object) -> str:
        """The message `key`, its `{name}` placeholders filled (numbers already written)."""
        message = self.messages[key]
        return message.format(**values) if values else message

    def plural(self, key: str, count: int, /, **values: object) -> str:
        """`key.one` or `key.other` as the language's plural rules choose for `count`
        (French says « 0 jour », English "0 days"); `{count}` is the written number."""
        form = Locale.parse(self.locale).plural_form(count)
        chosen = f"{key}.{form}" if f"{key}.{form}" in self.messages else f"{key}.other"
        return self.text(chosen, count=self.number(count), **values)

    def number(self, value: float | None, decimals: int = 0) -> str:
        """12345 → '12,345' (en) or '12 345' (fr); None → '—' (figure not available)."""
        if value is None:
            return "—"
        pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
        return format_decimal(value, format=pattern, locale=self.locale)

    def percent(self, value: float | None) -> str:
        """98.5 → '98.50 %' (en) or '98,50 %' (fr)."""
        return "—" if value is None else f"{self.number(value, 2)}\u00a0%"


@cache
def language(code: str) -> Language:
    """The language `code` (en or fr); a clear error for any other value of the setting."""
    if code not in LANGUAGES:
        raise ValueError(
            f"report_language (WINDFARM_REPORT_LANGUAGE) must be one of "
            f"{', '.join(LANGUAGES)}, not {code!r}"
        )
    text = (
        resources.files("loaders.reports")
        .joinpath("messages", f"{code}.yml")
        .read_text(encoding="utf-8")
    )
    messages = yaml.safe_load(text)
    return Language(code, LANGUAGES[code], {str(k): str(v) for k, v in messages.items()})
