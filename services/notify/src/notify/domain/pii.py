"""The PII guard: no card number, national id or PII token may leave in a message.

`find_pii` is the final check on rendered output; `scrub` masks free-text template
variables before rendering. Card detection is deliberately conservative: every window
of 13-19 digits inside a digit run (spaces and dashes allowed) is Luhn-checked, so a
card number glued to other digits is still caught.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

REDACTED = "[redacted]"

# ASCII digits only: str patterns' \d would also match other scripts' digits.
_DIGIT_RUN = re.compile(r"[0-9](?:[ \-]?[0-9])*")
# Dashed forms are matched even when glued to other digits (a leak is worse than a
# false alarm); the dashless CPR needs clear boundaries or every long number would match.
_SSN = re.compile(r"[0-9]{3}-[0-9]{2}-[0-9]{4}")
_CPR = re.compile(
    r"(?:0[1-9]|[12][0-9]|3[01])(?:0[1-9]|1[0-2])[0-9]{2}-[0-9]{4}"
    r"|(?<![0-9])(?:0[1-9]|[12][0-9]|3[01])(?:0[1-9]|1[0-2])[0-9]{6}(?![0-9])"
)
_TOKEN = re.compile(r"tok_[a-z]+_[0-9a-f]{8,}", re.IGNORECASE)


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _has_card(run: str) -> bool:
    digits = "".join(ch for ch in run if ch in "0123456789")
    n = len(digits)
    for length in range(13, min(19, n) + 1):
        for start in range(0, n - length + 1):
            if luhn_valid(digits[start:start + length]):
                return True
    return False


def find_pii(text: str) -> list[str]:
    """The kinds of PII found in `text` (empty if none): card, ssn, cpr, token."""
    kinds = []
    if any(_has_card(m.group()) for m in _DIGIT_RUN.finditer(text)):
        kinds.append("card")
    if _SSN.search(text):
        kinds.append("ssn")
    if _CPR.search(text):
        kinds.append("cpr")
    if _TOKEN.search(text):
        kinds.append("token")
    return kinds


def scrub(text: str) -> str:
    """`text` with every PII match masked; repeats until nothing is left to mask."""
    for _ in range(5):
        out = _TOKEN.sub(REDACTED, text)
        out = _SSN.sub(REDACTED, out)
        out = _CPR.sub(REDACTED, out)
        out = _DIGIT_RUN.sub(lambda m: REDACTED if _has_card(m.group()) else m.group(), out)
        if out == text:
            return out
        text = out
    return text


def scrub_context(context: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of template variables with every string (also nested) scrubbed."""
    return {k: _scrub_value(v) for k, v in context.items()}


def _scrub_value(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, Mapping):
        return {k: _scrub_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub_value(v) for v in value]
    return value
