"""Rendering with the PII guard: scrub the variables, render, then check the output."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Protocol

from notify.domain.pii import find_pii, scrub_context


class Rendered(Protocol):
    subject: str
    body: str
    locale: str


class Templates(Protocol):
    def render(self, template: str, locale: str, context: Mapping[str, Any]) -> Rendered: ...


@dataclass(frozen=True, slots=True)
class Composed:
    """A message ready to send, or `blocked` with a reason (then subject and body are empty)."""

    subject: str
    body: str
    locale: str
    blocked: str = ""


def compose(templates: Templates, template: str, locale: str, context: Mapping[str, Any]) -> Composed:
    """Render `template`; if any PII survives in subject or body the message is blocked."""
    try:
        rendered = templates.render(template, locale, scrub_context(context))
    except LookupError:
        return Composed("", "", locale, blocked="template_missing")
    except Exception as exc:  # a template bug must fail one message, not the whole stream
        return Composed("", "", locale, blocked=f"template_error: {type(exc).__name__}")
    if find_pii(rendered.subject) or find_pii(rendered.body):
        return Composed("", "", rendered.locale, blocked="pii_guard")
    return Composed(rendered.subject, rendered.body, rendered.locale)
