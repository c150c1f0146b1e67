"""Jinja2 message templates, one file per template and locale.

Layout: `<root>/<locale>/<template>.txt`. The first line is the subject, then a blank
line, then the body. Locales fall back from `da-DK` to `da` to the fallback locale.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

import jinja2
from jinja2 import meta


class TemplateMissing(LookupError):
    """No template file exists for the name in any locale of the fallback chain."""


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    body: str
    locale: str  # the locale actually used


class TemplateLibrary:
    """Renders templates with StrictUndefined and no autoescaping (plain-text mail)."""

    def __init__(self, root: str | Path | None = None, fallback_locale: str = "en") -> None:
        self._root = Path(root) if root else Path(str(resources.files("notify").joinpath("templates")))
        self.fallback_locale = fallback_locale
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(self._root)),
            undefined=jinja2.StrictUndefined,
            autoescape=False,
            keep_trailing_newline=False,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def _chain(self, locale: str) -> list[str]:
        chain = [locale, locale.split("-")[0], self.fallback_locale]
        return list(dict.fromkeys(c for c in chain if c))

    def resolve(self, template: str, locale: str) -> tuple[str, str]:
        """The (file name, locale) that renders `template` for `locale`."""
        for candidate in self._chain(locale):
            name = f"{candidate}/{template}.txt"
            if (self._root / name).is_file():
                return name, candidate
        raise TemplateMissing(f"template {template!r} has no file for locale {locale!r} or its fallbacks")

    def names(self) -> list[str]:
        return sorted({p.stem for p in self._root.glob("*/*.txt")})

    def locales(self) -> list[str]:
        return sorted(p.name for p in self._root.iterdir() if p.is_dir())

    def variables(self, template: str, locale: str) -> set[str]:
        """The variables a template uses (for tests and previews)."""
        name, _ = self.resolve(template, locale)
        source = self._env.loader.get_source(self._env, name)[0]  # type: ignore[union-attr]
        return meta.find_undeclared_variables(self._env.parse(source))

    def render(self, template: str, locale: str, context: Mapping[str, Any]) -> Rendered:
        name, used = self.resolve(template, locale)
        text = self._env.get_template(name).render(**context)
        subject, _, body = text.partition("\n")
        return Rendered(subject=subject.strip(), body=body.strip("\n") + "\n", locale=used)
