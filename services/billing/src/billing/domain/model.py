"""Billing state per account: value objects and the read-only questions asked of it.

`AccountState` is immutable and changes only through `fold` (domain/fold.py). Money is
always integer minor units with an ISO 4217 currency.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Literal, Mapping

ACCOUNT_SCOPE = "account"  # a dispute or hold on the whole account rather than one charge
AGEING_BUCKETS = ("0-30", "31-60", "61-90", "90+")
DAY = timedelta(days=1)

EntryKind = Literal["charge", "payment", "refund", "adjustment"]
DisputeStatus = Literal["open", "upheld", "rejected"]
RequestStatus = Literal["pending", "granted", "denied", "applied", "mismatch"]


def _empty() -> Mapping:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """A posted movement of money; charges raise the balance, everything else credits it."""

    at: datetime
    kind: EntryKind
    reference: str
    amount_minor: int
    currency: str
    case_id: str
    sequence: int
    fact_ref: str

    @property
    def signed_minor(self) -> int:
        return self.amount_minor if self.kind == "charge" else -self.amount_minor


@dataclass(frozen=True, slots=True)
class Charge:
    reference: str
    currency: str
    due: datetime
    posted_at: datetime
    case_id: str
    fact_ref: str


@dataclass(frozen=True, slots=True)
class DunningHold:
    """While active, no dunning notice may be sent for its scope (a charge or the account)."""

    ref: str
    scope: str
    reason: str
    dispute_ref: str
    placed_at: datetime


@dataclass(frozen=True, slots=True)
class Dispute:
    reference: str
    dispute_ref: str  # the `.ref` of the dispute_opened fact: one dispute's identity
    reason: str
    opened_at: datetime
    case_id: str
    hold_ref: str
    currency: str | None
    amount_minor: int | None  # what the customer disputes, if they said
    status: DisputeStatus = "open"
    ruling_ref: str | None = None
    ruled_by: str | None = None
    ruled_at: datetime | None = None
    credit_minor: int = 0
    resolved_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class HolderChange:
    """Display name only: matching never looks at the holder."""

    holder: str
    reason: str
    at: datetime
    fact_ref: str


@dataclass(frozen=True, slots=True)
class Evidence:
    evidence_ref: str
    kind: str
    reference: str
    amount_minor: int
    currency: str
    at: datetime
    matched: bool
    claim_minor: int  # what the match posts: never more than was outstanding
    reason: str


@dataclass(frozen=True, slots=True)
class MoneyRequest:
    """A refund or adjustment that waits for an approval before anything is applied."""

    request_ref: str
    kind: Literal["refund", "adjustment"]
    reference: str
    amount_minor: int
    currency: str
    requested_by: str
    reason: str
    at: datetime
    case_id: str
    status: RequestStatus = "pending"
    approval_ref: str | None = None
    decided_at: datetime | None = None
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class Settlement:
    """Money billing has decided to post against a charge but has not yet seen posted.

    Dunning treats it as paid so that a notice can never race its own payment_matched.
    """

    reference: str
    amount_minor: int
    currency: str
    cause: str


@dataclass(frozen=True, slots=True)
class NoticeSent:
    reference: str
    level: int
    at: datetime
    notice_ref: str


@dataclass(frozen=True, slots=True)
class Violation:
    notice_ref: str
    breaches: tuple[str, ...]
    at: datetime


@dataclass(frozen=True, slots=True)
class AccountState:
    account_id: str
    events_folded: int = 0
    clock: datetime | None = None
    seen: frozenset[str] = frozenset()
    entries: tuple[LedgerEntry, ...] = ()
    charges: Mapping[str, Charge] = field(default_factory=_empty)
    holds: Mapping[str, DunningHold] = field(default_factory=_empty)  # active holds only
    disputes: Mapping[str, Dispute] = field(default_factory=_empty)  # by dispute_ref
    holders: tuple[HolderChange, ...] = ()
    bereavements: tuple[datetime, ...] = ()
    evidence: Mapping[str, Evidence] = field(default_factory=_empty)
    requests: Mapping[str, MoneyRequest] = field(default_factory=_empty)
    pending: Mapping[str, Settlement] = field(default_factory=_empty)  # by cause ref
    notices: tuple[NoticeSent, ...] = ()
    violations: tuple[Violation, ...] = ()

    # ---- questions ---------------------------------------------------------------

    @property
    def holder(self) -> str | None:
        return self.holders[-1].holder if self.holders else None

    def entries_as_of(self, as_of: datetime | None = None) -> tuple[LedgerEntry, ...]:
        return self.entries if as_of is None else tuple(e for e in self.entries if e.at <= as_of)

    def balance(self, as_of: datetime | None = None) -> dict[str, int]:
        """What the customer owes per currency: charges - payments - credits."""
        totals: dict[str, int] = {}
        for e in self.entries_as_of(as_of):
            totals[e.currency] = totals.get(e.currency, 0) + e.signed_minor
        return totals

    def outstanding(self, reference: str, as_of: datetime | None = None) -> int:
        """Posted amount still owed on one charge (negative if it was overpaid)."""
        charge = self.charges.get(reference)
        if charge is None:
            return 0
        return sum(
            e.signed_minor for e in self.entries_as_of(as_of)
            if e.reference == reference and e.currency == charge.currency
        )

    def pending_for(self, reference: str) -> tuple[Settlement, ...]:
        charge = self.charges.get(reference)
        return tuple(
            s for s in self.pending.values()
            if s.reference == reference and charge is not None and s.currency == charge.currency
        )

    def unsettled(self, reference: str) -> int:
        """Outstanding after money billing has decided to post but not yet posted."""
        return self.outstanding(reference) - sum(s.amount_minor for s in self.pending_for(reference))

    def ageing(self, as_of: datetime) -> dict[str, dict[str, int]]:
        """Outstanding charges by days past due at `as_of`; not yet due counts as 0-30."""
        buckets: dict[str, dict[str, int]] = {b: {} for b in AGEING_BUCKETS}
        for charge in self.charges.values():
            if charge.posted_at > as_of:
                continue
            owed = self.outstanding(charge.reference, as_of)
            if owed <= 0:
                continue
            bucket = AGEING_BUCKETS[_bucket_index(days_between(charge.due, as_of))]
            buckets[bucket][charge.currency] = buckets[bucket].get(charge.currency, 0) + owed
        return buckets

    def holds_covering(self, reference: str) -> tuple[DunningHold, ...]:
        return tuple(h for h in self.holds.values() if h.scope in (reference, ACCOUNT_SCOPE))

    def open_dispute(self, reference: str) -> Dispute | None:
        for d in self.disputes.values():
            if d.reference == reference and d.status == "open":
                return d
        return None

    def latest_dispute(self, reference: str) -> Dispute | None:
        found = [d for d in self.disputes.values() if d.reference == reference]
        return found[-1] if found else None

    def grace_until(self, grace_days: int) -> datetime | None:
        """End of the latest bereavement grace period, if there ever was one."""
        return max(self.bereavements) + grace_days * DAY if self.bereavements else None

    def levels_sent(self, reference: str) -> tuple[NoticeSent, ...]:
        return tuple(n for n in self.notices if n.reference == reference)


def days_between(start: datetime, end: datetime) -> int:
    """Whole days from start to end (negative when end is earlier)."""
    return (end - start) // DAY


def _bucket_index(days_past_due: int) -> int:
    if days_past_due <= 30:
        return 0
    if days_past_due <= 60:
        return 1
    if days_past_due <= 90:
        return 2
    return 3
