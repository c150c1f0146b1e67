"""Billing's pure domain: state is a fold over facts; rules turn state into decisions.

No Kafka, gRPC, clock or I/O here: time always comes in as an argument.
"""

from billing.domain.fold import MalformedFact, fold, hold_ref_for
from billing.domain.model import (
    ACCOUNT_SCOPE, AGEING_BUCKETS, AccountState, Charge, Dispute, DunningHold, Evidence, HolderChange,
    LedgerEntry, MoneyRequest, NoticeSent, Settlement, Violation,
)
from billing.domain.policy import BillingPolicy, PolicyError, parse_policy
from billing.domain.rules import DunningAssessment, assess_dunning, decide, dunning_notices, explain_dunning, notice_breaches

__all__ = [
    "ACCOUNT_SCOPE", "AGEING_BUCKETS", "AccountState", "BillingPolicy", "Charge", "Dispute", "DunningAssessment",
    "DunningHold", "Evidence", "HolderChange", "LedgerEntry", "MalformedFact", "MoneyRequest", "NoticeSent",
    "PolicyError", "Settlement", "Violation", "assess_dunning", "decide", "dunning_notices", "explain_dunning",
    "fold", "hold_ref_for", "notice_breaches", "parse_policy",
]
