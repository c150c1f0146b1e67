"""Notification rules and the recipient directory, validated as data.

Both are plain pydantic models built from mappings (the YAML loader lives in the
adapters). Validation errors are turned into `ConfigInvalid`, whose message names each
offending field, what is wrong and what is expected.
"""

from __future__ import annotations

from datetime import time
from typing import Any, Literal, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from casestream.catalogue import DECISION_TYPES, FACTS, INTAKE_OWN
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

# A synthetic trigger: notify itself notices, from stream time, that an open promise
# is due within the rule's lead time. It is not an event type on the stream.
PROMISE_DUE_SOON = "casestream.notify.promise_due_soon"

Channel = Literal["email", "webhook"]
RecipientRole = Literal["customer", "owner", "queue_duty_owner", "supervisor", "approver", "senior_owner"]


class ConfigInvalid(ValueError):
    """Rules or directory data failed validation; the message names every bad field."""


def _describe(exc: ValidationError, source: str) -> ConfigInvalid:
    problems = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        got = err.get("input")
        got_text = "" if isinstance(got, (dict, list)) else f" (got {got!r})"
        problems.append(f"{where}: {err['msg']}{got_text}")
    return ConfigInvalid(f"{source} is invalid: " + "; ".join(problems))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---- rules ---------------------------------------------------------------------------

class Rule(_Strict):
    """When `event` happens (and every `when` condition holds), send `template` to `recipient`."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,79}$")
    event: str
    when: dict[str, Any] = Field(default_factory=dict)
    template: str = Field(pattern=r"^[a-z0-9_]+$")
    channel: Channel
    recipient: RecipientRole
    urgent: bool = False
    locale: str | None = Field(default=None, pattern=r"^[a-z]{2}(-[A-Z]{2})?$")
    lead_time_minutes: int | None = Field(default=None, gt=0, le=60 * 24 * 30)

    @field_validator("event")
    @classmethod
    def _known_event(cls, value: str) -> str:
        known = set(FACTS) | set(INTAKE_OWN) | set(DECISION_TYPES) | {PROMISE_DUE_SOON}
        if value not in known:
            raise ValueError(f"unknown event type {value!r}; expected a catalogue type or {PROMISE_DUE_SOON!r}")
        return value

    @model_validator(mode="after")
    def _lead_time_for_due_soon(self) -> "Rule":
        if self.event == PROMISE_DUE_SOON and self.lead_time_minutes is None:
            raise ValueError("lead_time_minutes is required when event is promise_due_soon")
        return self

    def matches(self, event_type: str, data: Mapping[str, Any]) -> bool:
        """True if this rule fires for an event of `event_type` carrying `data`."""
        return event_type == self.event and all(_holds(data, k, v) for k, v in self.when.items())


def _holds(data: Mapping[str, Any], field: str, expected: Any) -> bool:
    # A condition is a literal (equality), a list (membership), or {"exists": bool}.
    if isinstance(expected, dict) and set(expected) == {"exists"}:
        return (data.get(field) is not None) == bool(expected["exists"])
    actual = data.get(field)
    if isinstance(expected, list):
        return actual in expected
    return actual == expected


class RuleBook(_Strict):
    version: Literal[1] = 1
    rules: list[Rule]

    @model_validator(mode="after")
    def _unique_ids(self) -> "RuleBook":
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise ValueError(f"rule id {rule.id!r} is used twice; ids must be unique")
            seen.add(rule.id)
        return self

    def for_event(self, event_type: str, data: Mapping[str, Any]) -> list[Rule]:
        return [r for r in self.rules if r.matches(event_type, data)]

    def get(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    @classmethod
    def from_mapping(cls, raw: Any, source: str = "rules") -> "RuleBook":
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            raise _describe(exc, source) from None


# ---- recipient directory -------------------------------------------------------------

class QuietHours(_Strict):
    start: time
    end: time


def _check_zone(value: str | None) -> str | None:
    if value is None:
        return value
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}; expected an IANA name such as 'Europe/Copenhagen'") from None
    return value


class Contact(_Strict):
    """A person or a customer account: how to reach them and when."""

    name: str = Field(min_length=1)
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")
    webhook: str | None = Field(default=None, pattern=r"^https?://")
    time_zone: str | None = None
    locale: str | None = Field(default=None, pattern=r"^[a-z]{2}(-[A-Z]{2})?$")
    quiet_hours: QuietHours | None = None
    supervisor: str | None = None

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        return _check_zone(value)


class Queue(_Strict):
    duty_owner: str


class DirectoryDefaults(_Strict):
    time_zone: str = "Europe/Copenhagen"
    locale: str = "en"
    quiet_hours: QuietHours | None = QuietHours(start=time(21, 0), end=time(8, 0))

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        return _check_zone(value)


class Directory(_Strict):
    """Who is who: staff by id, queues' duty owners, the senior owner, customers by account."""

    defaults: DirectoryDefaults = DirectoryDefaults()
    people: dict[str, Contact] = Field(default_factory=dict)
    queues: dict[str, Queue] = Field(default_factory=dict)
    senior_owner: str | None = None
    accounts: dict[str, Contact] = Field(default_factory=dict)
    # How to reach a customer whose account is not listed; "{account}" in the e-mail
    # address is replaced by the account id.
    default_customer: Contact | None = None

    def customer(self, account: str) -> Contact | None:
        """The contact for `account`, or the default customer contact made for it."""
        if account in self.accounts:
            return self.accounts[account]
        if self.default_customer is None or not account:
            return None
        d = self.default_customer
        return d.model_copy(update={"email": d.email.replace("{account}", account.lower()) if d.email else None})

    @model_validator(mode="after")
    def _references_resolve(self) -> "Directory":
        for pid, person in self.people.items():
            if person.supervisor and person.supervisor not in self.people:
                raise ValueError(f"people.{pid}.supervisor: {person.supervisor!r} is not in people")
        for qid, queue in self.queues.items():
            if queue.duty_owner not in self.people:
                raise ValueError(f"queues.{qid}.duty_owner: {queue.duty_owner!r} is not in people")
        if self.senior_owner and self.senior_owner not in self.people:
            raise ValueError(f"senior_owner: {self.senior_owner!r} is not in people")
        return self

    @classmethod
    def from_mapping(cls, raw: Any, source: str = "directory") -> "Directory":
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            raise _describe(exc, source) from None
