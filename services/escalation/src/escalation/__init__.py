"""Escalation service: exactly one accountable owner, handoffs that need acceptance,
SLA clocks on business calendars, a promise ledger, repeat-contact and regulatory
escalation, and an authority matrix for approvals.

The domain is pure (facts in, decisions out); the service layer folds and persists.
"""

__version__ = "0.1.0"
