"""Escalation policy as data: one YAML file, validated by pydantic.

Durations are ISO 8601 (`PT4H`, `P2D`). Amounts are integer minor units per currency.
Errors name the field path, the problem and what is expected.
"""

from __future__ import annotations

import re
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PAUSABLE_STATUSES = ("waiting_on_customer", "waiting_on_third_party")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")


class PolicyError(ValueError):
    """The policy file is missing, unreadable or invalid; the message names each field."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OpeningInterval(_Model):
    """One open interval of a day in the queue's local time; `end` may be 24:00."""

    start: str
    end: str

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        if not _HHMM.match(v):
            raise ValueError(f"{v!r} is not a time of day; expected HH:MM between 00:00 and 24:00")
        return v

    @model_validator(mode="after")
    def _ordered(self) -> "OpeningInterval":
        if self.minutes()[0] >= self.minutes()[1]:
            raise ValueError(f"start {self.start} must be before end {self.end}")
        return self

    def minutes(self) -> tuple[int, int]:
        def m(s: str) -> int:
            h, mm = s.split(":")
            return int(h) * 60 + int(mm)

        return m(self.start), m(self.end)


class HolidayCalendar(_Model):
    country: Annotated[str, Field(min_length=2, max_length=3)]
    subdivision: str | None = None

    @model_validator(mode="after")
    def _known(self) -> "HolidayCalendar":
        import holidays

        try:
            holidays.country_holidays(self.country, subdiv=self.subdivision, years=2026)
        except (NotImplementedError, KeyError) as exc:
            raise ValueError(f"unknown holiday calendar {self.country}/{self.subdivision}: {exc}") from None
        return self


class Queue(_Model):
    """A queue or team: who is on duty, and when it is open."""

    timezone: str = "UTC"
    always_open: bool = False
    on_call: bool = False
    hours: dict[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], list[OpeningInterval]] = Field(
        default_factory=dict
    )
    holidays: HolidayCalendar | None = None
    duty_owner: Annotated[str, Field(min_length=1)]
    members: list[str] = Field(default_factory=list)
    after_hours_alternative: str | None = None

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{v!r} is not an IANA time zone; expected e.g. America/New_York") from None
        return v

    @model_validator(mode="after")
    def _has_hours(self) -> "Queue":
        if not self.always_open and not any(self.hours.values()):
            raise ValueError("a queue that is not always_open needs opening hours for at least one weekday")
        return self


class SlaTarget(_Model):
    target: timedelta
    basis: Literal["business", "calendar"] = "calendar"
    calendar: str | None = None  # a queue whose hours count; default: sla.calendar
    pausable: bool = True

    @field_validator("target")
    @classmethod
    def _positive(cls, v: timedelta) -> timedelta:
        if v <= timedelta(0):
            raise ValueError("must be a positive duration, e.g. PT4H")
        return v


class PrioritySla(_Model):
    first_response: SlaTarget
    resolution: SlaTarget


class SlaPolicy(_Model):
    calendar: str
    warn_at: Annotated[float, Field(gt=0, lt=1)] = 0.8
    pause_statuses: list[Literal["waiting_on_customer", "waiting_on_third_party"]] = Field(
        default_factory=lambda: list(PAUSABLE_STATUSES)
    )
    targets: dict[str, PrioritySla]


class RepeatContactRule(_Model):
    count: Annotated[int, Field(ge=2)]
    within: timedelta
    direction: Literal["inbound", "any"] = "inbound"


class EscalationLevel(_Model):
    owner: Annotated[str, Field(min_length=1)]
    role: str | None = None


class RegulatoryPolicy(_Model):
    priority: str
    senior_owner: Annotated[str, Field(min_length=1)]
    queue: str
    sla: SlaTarget


class HandoffPolicy(_Model):
    # A handoff is refused when the target closes again sooner than this, and the
    # closure outlasts the case's running SLA deadline.
    min_open: timedelta = timedelta(minutes=30)
    # A pending handoff not answered within this (calendar time) is refused and escalated.
    accept_within: timedelta = timedelta(hours=1)


class ApprovalPolicy(_Model):
    sla: SlaTarget
    # role -> action -> currency -> max amount (minor units, inclusive)
    authority: dict[str, dict[Literal["refund", "adjustment"], dict[str, Annotated[int, Field(ge=0)]]]]
    people: dict[str, str]  # person -> role

    @field_validator("authority")
    @classmethod
    def _currencies(cls, v: dict) -> dict:
        for role, actions in v.items():
            for action, limits in actions.items():
                for cur in limits:
                    if not re.fullmatch(r"[A-Z]{3}", cur):
                        raise ValueError(f"{role}.{action}: currency {cur!r} is not an ISO 4217 code like USD")
        return v


class Policy(_Model):
    version: Annotated[str, Field(min_length=1)]
    intake_queue: str
    priorities: list[str] = Field(min_length=1)  # highest first
    default_priority: str
    queues: dict[str, Queue]
    sla: SlaPolicy
    repeat_contacts: RepeatContactRule
    escalation_levels: dict[int, EscalationLevel]
    regulatory: RegulatoryPolicy
    handoff: HandoffPolicy = HandoffPolicy()
    approvals: ApprovalPolicy

    @model_validator(mode="after")
    def _references(self) -> "Policy":
        problems: list[str] = []

        def queue(field: str, name: str | None) -> None:
            if name is not None and name not in self.queues:
                problems.append(f"{field}: unknown queue {name!r}; expected one of {sorted(self.queues)}")

        def prio(field: str, name: str) -> None:
            if name not in self.priorities:
                problems.append(f"{field}: unknown priority {name!r}; expected one of {self.priorities}")

        queue("intake_queue", self.intake_queue)
        if self.intake_queue in self.queues and not self.queues[self.intake_queue].always_open:
            problems.append("intake_queue: must be an always_open queue so every case has an owner at once")
        prio("default_priority", self.default_priority)
        prio("regulatory.priority", self.regulatory.priority)
        queue("regulatory.queue", self.regulatory.queue)
        queue("sla.calendar", self.sla.calendar)
        for name, q in self.queues.items():
            queue(f"queues.{name}.after_hours_alternative", q.after_hours_alternative)
            alt = q.after_hours_alternative
            if alt in self.queues and not self.queues[alt].always_open:
                problems.append(f"queues.{name}.after_hours_alternative: {alt!r} must be always_open")
        for p in self.priorities:
            if p not in self.sla.targets:
                problems.append(f"sla.targets: missing targets for priority {p!r}")
        for p, t in self.sla.targets.items():
            prio(f"sla.targets.{p}", p)
            queue(f"sla.targets.{p}.first_response.calendar", t.first_response.calendar)
            queue(f"sla.targets.{p}.resolution.calendar", t.resolution.calendar)
        queue("regulatory.sla.calendar", self.regulatory.sla.calendar)
        queue("approvals.sla.calendar", self.approvals.sla.calendar)
        if sorted(self.escalation_levels) != list(range(1, len(self.escalation_levels) + 1)):
            problems.append("escalation_levels: levels must be numbered 1, 2, 3... without gaps")
        for person, role in self.approvals.people.items():
            if role not in self.approvals.authority:
                problems.append(
                    f"approvals.people.{person}: unknown role {role!r}; "
                    f"expected one of {sorted(self.approvals.authority)}"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    # ---- lookups ----------------------------------------------------------------
    def rank(self, priority: str) -> int:
        """0 is the highest priority; unknown priorities rank lowest."""
        return self.priorities.index(priority) if priority in self.priorities else len(self.priorities)

    @property
    def top_level(self) -> int:
        return max(self.escalation_levels) if self.escalation_levels else 0

    def limit(self, person: str, action: str, currency: str) -> int | None:
        """The most `person` may approve for `action` in `currency`, or None for no authority."""
        role = self.approvals.people.get(person)
        if role is None:
            return None
        return self.approvals.authority.get(role, {}).get(action, {}).get(currency)  # type: ignore[call-overload]


def _format(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        path = ".".join(str(p) for p in err["loc"]) or "<policy>"
        msg = err["msg"].removeprefix("Value error, ")
        lines.append(f"{path}: {msg}")
    return "invalid escalation policy: " + "; ".join(lines)


def parse_policy(data: Any) -> Policy:
    """Validate an already-parsed policy mapping; raises PolicyError naming each bad field."""
    if not isinstance(data, dict):
        raise PolicyError("invalid escalation policy: <policy>: expected a mapping at the top level")
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(_format(exc)) from None


def load_policy(path: str | Path | None = None) -> Policy:
    """Load and validate a policy YAML file; without a path, the packaged default."""
    try:
        if path is None:
            text = resources.files("escalation").joinpath("policies/default.yaml").read_text("utf-8")
        else:
            text = Path(path).read_text("utf-8")
        data = yaml.safe_load(text)
    except OSError as exc:
        raise PolicyError(f"cannot read escalation policy {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise PolicyError(f"escalation policy {path or 'default'} is not valid YAML: {exc}") from None
    return parse_policy(data)
