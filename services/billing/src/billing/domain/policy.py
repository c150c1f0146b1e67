"""Billing policy as data: validated once, recorded by version in every decision."""

from __future__ import annotations

from typing import Annotated, Any, Mapping

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]


class PolicyError(ValueError):
    """A policy document is invalid; the message names each bad field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DunningStep(_Strict):
    days_past_due: Annotated[int, Field(ge=0, le=3650)]
    level: Annotated[int, Field(ge=1, le=100)]


class DunningPolicy(_Strict):
    schedule: tuple[DunningStep, ...] = Field(min_length=1)

    @field_validator("schedule")
    @classmethod
    def _increasing(cls, steps: tuple[DunningStep, ...]) -> tuple[DunningStep, ...]:
        for before, after in zip(steps, steps[1:]):
            if not (after.days_past_due > before.days_past_due and after.level > before.level):
                raise ValueError(
                    "steps must be in increasing order of both days_past_due and level, "
                    f"but level {after.level} at {after.days_past_due} days follows "
                    f"level {before.level} at {before.days_past_due} days"
                )
        return steps

    def level_due(self, days_past_due: int) -> DunningStep | None:
        """The highest step a charge this many days overdue has reached, if any."""
        reached = [s for s in self.schedule if days_past_due >= s.days_past_due]
        return reached[-1] if reached else None


class BereavementPolicy(_Strict):
    grace_days: Annotated[int, Field(ge=0, le=3650)]


class UnmatchedEvidencePolicy(_Strict):
    task_owner: Name


class BillingPolicy(_Strict):
    version: Name
    dunning: DunningPolicy
    bereavement: BereavementPolicy
    unmatched_evidence: UnmatchedEvidencePolicy


def parse_policy(document: Mapping[str, Any]) -> BillingPolicy:
    """Validate a policy document; raises PolicyError naming every bad field."""
    if not isinstance(document, Mapping):
        raise PolicyError(f"policy: expected a mapping at the top level, got {type(document).__name__}")
    try:
        return BillingPolicy.model_validate(dict(document))
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in err['loc']) or 'policy'}: {err['msg']}"
            + (f" (got {err['input']!r})" if err["type"] not in ("missing",) and not isinstance(err["input"], (dict, list, tuple)) else "")
            for err in exc.errors(include_url=False)
        ]
        raise PolicyError("invalid billing policy: " + "; ".join(problems)) from None
