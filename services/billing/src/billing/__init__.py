"""Billing: the ledger per account, disputes with dunning holds, payment evidence
matched by account and reference (never by the holder's name), bereavement grace,
approvals-gated refunds and adjustments, and dunning with its own watchdog."""

__version__ = "0.1.0"
