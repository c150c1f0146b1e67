"""The PII guard for outbound messages: no card number, national id or PII token may leave.

The rules live in the shared `casestream.pii` (one Luhn, one set of patterns for intake's
tokenising and this guard); notify uses its strict policy.
"""

from __future__ import annotations

from typing import Any, Mapping

from casestream.pii import REDACTED, luhn_valid, scrub, scrub_data
from casestream.pii import guard_kinds as find_pii

__all__ = ["REDACTED", "find_pii", "luhn_valid", "scrub", "scrub_context"]


def scrub_context(context: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of template variables with every string (also nested) scrubbed."""
    return {k: scrub_data(v) for k, v in context.items()}
