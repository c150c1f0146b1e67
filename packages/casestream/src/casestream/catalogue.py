"""The event catalogue: one pydantic model per event type's `data`.

Names are the contract (see ARCHITECTURE.md). Facts come from internal systems;
decisions come from our own services and are documented by the owning service, so
their models only insist on what every decision carries. Optional fields may be added
freely: every model allows extra keys.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictBool, StrictInt, StringConstraints

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4096)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=256)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
AmountMinor = Annotated[StrictInt, Field(ge=0, le=10**15)]


class EventData(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


# ---- facts published by internal systems -------------------------------------------

class ContactLogged(EventData):
    channel: Literal["phone", "email", "chat", "sms", "web", "store", "field", "letter", "social"]
    direction: Literal["inbound", "outbound"]
    agent: ShortText
    summary: NonEmpty


class NoteAdded(EventData):
    author: ShortText
    text: NonEmpty


class PromiseMade(EventData):
    promised_by: ShortText
    what: NonEmpty
    due: AwareDatetime


class PromiseFulfilled(EventData):
    promise_ref: ShortText


class HandoffRequested(EventData):
    to_queue: ShortText
    by: ShortText
    reason: NonEmpty


class HandoffResponded(EventData):
    """The target queue's duty owner accepts or declines a pending handoff."""

    handoff_ref: ShortText
    by: ShortText
    accepted: StrictBool


class RegulatoryComplaintFiled(EventData):
    regulator: ShortText
    reference: ShortText


class AccountHolderChanged(EventData):
    new_holder: ShortText
    reason: Literal["bereavement", "rename", "transfer"]


class ChargePosted(EventData):
    reference: ShortText
    amount_minor: AmountMinor
    currency: Currency
    due: AwareDatetime


class PaymentReceived(EventData):
    reference: ShortText
    amount_minor: AmountMinor
    currency: Currency


class PaymentEvidenceSubmitted(EventData):
    kind: Literal["cancelled_check", "bank_reference", "receipt", "card_statement", "other"]
    reference: ShortText
    amount_minor: AmountMinor
    currency: Currency


class DisputeOpened(EventData):
    reference: ShortText
    reason: NonEmpty


class DisputeRuled(EventData):
    """A person rules on an open dispute; billing then resolves it and releases holds."""

    reference: ShortText
    outcome: Literal["upheld", "rejected"]
    by: ShortText


class MoneyRequested(EventData):
    reference: ShortText
    amount_minor: AmountMinor
    currency: Currency
    requested_by: ShortText
    reason: NonEmpty


class ApprovalDecided(EventData):
    """An approver grants or denies a pending approval request."""

    approval_ref: ShortText
    approver: ShortText
    grant: StrictBool


class CaseStatusChanged(EventData):
    status: Literal["in_progress", "waiting_on_customer", "waiting_on_third_party"]
    by: ShortText


class CloseRequested(EventData):
    by: ShortText
    resolution: NonEmpty


class ReopenRequested(EventData):
    by: ShortText
    reason: NonEmpty


class ClockTicked(EventData):
    """Advances stream time in tests, replays and the demo; carries no data."""


# ---- intake's own ---------------------------------------------------------------------

class CaseOpened(EventData):
    account: ShortText
    opened_by: ShortText  # "<source>/<id>" of the fact that opened it


class CaseReopened(EventData):
    by: ShortText
    reason: NonEmpty


class CaseClosed(EventData):
    by: ShortText
    resolution: NonEmpty


class ServiceDecision(EventData):
    """Decisions from our own services; the owning service documents the rest."""


FACTS: dict[str, type[EventData]] = {
    "casestream.contact.logged": ContactLogged,
    "casestream.note.added": NoteAdded,
    "casestream.promise.made": PromiseMade,
    "casestream.promise.fulfilled": PromiseFulfilled,
    "casestream.handoff.requested": HandoffRequested,
    "casestream.handoff.responded": HandoffResponded,
    "casestream.complaint.regulatory_filed": RegulatoryComplaintFiled,
    "casestream.account.holder_changed": AccountHolderChanged,
    "casestream.billing.charge_posted": ChargePosted,
    "casestream.billing.payment_received": PaymentReceived,
    "casestream.billing.payment_evidence_submitted": PaymentEvidenceSubmitted,
    "casestream.billing.dispute_opened": DisputeOpened,
    "casestream.billing.dispute_ruled": DisputeRuled,
    "casestream.billing.refund_requested": MoneyRequested,
    "casestream.billing.adjustment_requested": MoneyRequested,
    "casestream.approval.decided": ApprovalDecided,
    "casestream.case.status_changed": CaseStatusChanged,
    "casestream.case.close_requested": CloseRequested,
    "casestream.case.reopen_requested": ReopenRequested,
    "casestream.clock.ticked": ClockTicked,
}

INTAKE_OWN: dict[str, type[EventData]] = {
    "casestream.case.opened": CaseOpened,
    "casestream.case.reopened": CaseReopened,
    "casestream.case.closed": CaseClosed,
}

DECISIONS: dict[str, tuple[str, ...]] = {
    "escalation": (
        "owner_assigned", "handoff_accepted", "handoff_refused", "sla_started", "sla_paused",
        "sla_resumed", "sla_warned", "sla_breached", "promise_kept", "promise_breached",
        "follow_up_due", "customer_notice_due", "escalated", "priority_changed",
        "approval_requested", "approval_granted", "approval_denied", "task_opened",
    ),
    "billing": (
        "dunning_hold_placed", "dunning_hold_released", "dunning_notice_issued",
        "payment_matched", "payment_unmatched", "dispute_resolved", "refund_issued",
        "adjustment_applied", "invariant_violated",
    ),
    "notify": ("notification_sent", "notification_failed"),
}

DECISION_TYPES: dict[str, str] = {
    f"casestream.{svc}.{name}": svc for svc, names in DECISIONS.items() for name in names
}

# Inbound types intake accepts: facts and decisions. Intake's own types are never
# accepted inbound: only the sequencer may open or close a case.
INBOUND_TYPES: frozenset[str] = frozenset(FACTS) | frozenset(DECISION_TYPES)


def model_for(event_type: str) -> type[EventData] | None:
    """The data model for an inbound or canonical event type, or None if unknown."""
    if event_type in FACTS:
        return FACTS[event_type]
    if event_type in INTAKE_OWN:
        return INTAKE_OWN[event_type]
    if event_type in DECISION_TYPES:
        return ServiceDecision
    return None


def is_decision(event_type: str) -> bool:
    return event_type in DECISION_TYPES


def validate_data(event_type: str, data: Any) -> EventData:
    """Validate `data` for `event_type`; raises KeyError for unknown types, ValidationError otherwise."""
    model = model_for(event_type)
    if model is None:
        raise KeyError(event_type)
    return model.model_validate(data if data is not None else {})
