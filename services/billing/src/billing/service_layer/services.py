"""Billing use cases: fold a fact, decide, dun at the fact's time; and the queries.

Adapters should publish the returned decisions before they commit the fact's offset;
a redelivered fact is recognised by its (source, id) and yields no decisions twice.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Mapping

from casestream.facts import Decision, Fact

from billing.domain import events as ev
from billing.domain.fold import MalformedFact, dedupe_key, fold
from billing.domain.model import AccountState, DunningHold, HolderChange, LedgerEntry
from billing.domain.policy import BillingPolicy
from billing.domain.rules import DunningAssessment, assess_dunning, decide, dunning_notices
from billing.service_layer.repository import AccountRepository

GLOBAL_SUBJECTS = frozenset({"", "*"})  # a clock tick for every account
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


class NotFound(LookupError):
    """The account or dispute asked about is unknown to billing."""


class BadRequest(ValueError):
    """A query argument is invalid; the message names it."""


@dataclass(frozen=True, slots=True)
class AccountView:
    account_id: str
    holder: str | None
    holder_history: tuple[HolderChange, ...]
    balance: Mapping[str, int]  # currency -> minor units owed (negative: in credit)
    ageing: Mapping[str, Mapping[str, int]]  # bucket -> currency -> minor units
    active_holds: tuple[DunningHold, ...]
    grace_until: datetime | None
    events_folded: int
    invariant_violations: int
    policy_version: str


@dataclass(frozen=True, slots=True)
class LedgerPage:
    entries: tuple[LedgerEntry, ...]
    balance: Mapping[str, int]
    next_page_token: str | None


@dataclass(frozen=True, slots=True)
class DisputeView:
    reference: str
    status: str  # open, upheld, rejected
    reason: str
    dispute_ref: str
    opened_at: datetime
    ruled_by: str | None
    resolved_at: datetime | None
    credit_minor: int
    currency: str | None
    hold_ref: str
    hold_active: bool


def rebuild_account(account_id: str, facts: Iterable[Fact]) -> AccountState | None:
    """One account's state from the facts already handled for it, folded WITHOUT deciding.

    None if none of them opens the account (as `handle` would not have opened it).
    """
    state: AccountState | None = None
    for fact in facts:
        if fact.type not in ev.RELEVANT:
            continue
        if state is None:
            if fact.type == ev.CLOCK_TICKED:
                continue
            state = AccountState(account_id)
        try:
            state = fold(state, fact)
        except MalformedFact:
            continue  # `handle` rejected it too
    return state


class BillingService:
    """Billing's use cases over an AccountRepository, under one policy."""

    def __init__(self, repository: AccountRepository, policy: BillingPolicy) -> None:
        self.repository = repository
        self.policy = policy
        # casestream_billing_invariant_violations_total{breach=...} for the metrics adapter.
        self.invariant_violations: Counter[str] = Counter()

    # ---- commands ------------------------------------------------------------------

    def handle(self, fact: Fact) -> list[Decision]:
        """Fold `fact` into its account, decide, and run dunning at the fact's time."""
        if fact.type not in ev.RELEVANT:
            return []
        if fact.type == ev.CLOCK_TICKED and fact.subject in GLOBAL_SUBJECTS:
            decisions = []
            for account_id in list(self.repository.account_ids()):
                decisions += self._handle_account(account_id, fact, create=False, case_id=None)
            return self._count(decisions)
        create = fact.type != ev.CLOCK_TICKED  # a tick alone never opens an account
        return self._count(self._handle_account(fact.subject, fact, create=create, case_id=fact.case_id))

    def accounts_touched(self, fact: Fact) -> list[str]:
        """The accounts whose state `fact` changes when handled (a global tick: every account)."""
        if fact.type not in ev.RELEVANT:
            return []
        if fact.type == ev.CLOCK_TICKED and fact.subject in GLOBAL_SUBJECTS:
            return list(self.repository.account_ids())
        return [fact.subject]

    def rehydrate(self, facts: Iterable[Fact]) -> int:
        """Fold already-handled facts back into their accounts WITHOUT deciding; returns how many changed state.

        Used after a restart: the decisions these facts caused are already on the stream.
        A malformed fact is skipped here as `handle` skipped it.
        """
        changed = 0
        for fact in facts:
            for account_id in self.accounts_touched(fact):
                state = self.repository.get(account_id)
                if state is None:
                    if fact.type == ev.CLOCK_TICKED:
                        continue
                    state = AccountState(account_id)
                try:
                    folded = fold(state, fact)
                except MalformedFact:
                    continue
                if folded is not state:
                    self.repository.save(folded)
                    changed += 1
        return changed

    def due_notices(self, now: datetime) -> list[Decision]:
        """Dunning notices due at wall time `now` for every account, without folding anything.

        Their ids are deterministic, so firing again before a notice comes back is deduped by intake.
        """
        decisions: list[Decision] = []
        for account_id in list(self.repository.account_ids()):
            state = self.repository.get(account_id)
            if state is not None:
                decisions += dunning_notices(state, self.policy, now)
        return decisions

    def _handle_account(self, account_id: str, fact: Fact, create: bool, case_id: str | None) -> list[Decision]:
        state = self.repository.get(account_id)
        if state is None:
            if not create:
                return []
            state = AccountState(account_id)
        if dedupe_key(fact) in state.seen:
            return []
        state = fold(state, fact)
        decisions = decide(state, fact, self.policy)
        # A global tick belongs to no account's case: notices then go to the charge's case.
        decisions += dunning_notices(state, self.policy, fact.time, case_id=case_id)
        self.repository.save(state)
        unique: dict[str, Decision] = {}
        for d in decisions:
            unique.setdefault(d.id, d)
        return list(unique.values())

    def _count(self, decisions: list[Decision]) -> list[Decision]:
        for d in decisions:
            if d.type == ev.INVARIANT_VIOLATED:
                self.invariant_violations.update(d.data.get("breaches") or ["unspecified"])
        return decisions

    # ---- queries -------------------------------------------------------------------

    def _state(self, account_id: str) -> AccountState:
        state = self.repository.get(account_id)
        if state is None:
            raise NotFound(f"account_id: no billing events for account {account_id!r}")
        return state

    def account(self, account_id: str) -> AccountView:
        """Balance, ageing, holder history and active holds as of the latest folded fact."""
        s = self._state(account_id)
        grace = s.grace_until(self.policy.bereavement.grace_days)
        return AccountView(
            account_id=s.account_id, holder=s.holder, holder_history=s.holders, balance=s.balance(),
            ageing=s.ageing(s.clock) if s.clock else {}, active_holds=tuple(s.holds.values()),
            grace_until=grace if grace is not None and s.clock is not None and grace > s.clock else None,
            events_folded=s.events_folded, invariant_violations=len(s.violations), policy_version=self.policy.version,
        )

    def ledger(
        self, account_id: str, as_of: datetime | None = None, page_size: int = DEFAULT_PAGE_SIZE,
        page_token: str | None = None,
    ) -> LedgerPage:
        """Entries posted up to `as_of` in stream order, a page at a time; balance is as of `as_of`."""
        if not isinstance(page_size, int) or not 1 <= page_size <= MAX_PAGE_SIZE:
            raise BadRequest(f"page_size: must be an integer from 1 to {MAX_PAGE_SIZE}, got {page_size!r}")
        start = 0
        if page_token:
            if not page_token.isdigit():
                raise BadRequest(f"page_token: {page_token!r} is not a token this service issued")
            start = int(page_token)
        s = self._state(account_id)
        entries = s.entries_as_of(as_of)
        page = entries[start:start + page_size]
        following = start + page_size
        return LedgerPage(page, s.balance(as_of), str(following) if following < len(entries) else None)

    def dispute(self, account_id: str, reference: str) -> DisputeView:
        """The latest dispute about `reference` (a charge reference or "account")."""
        s = self._state(account_id)
        d = s.latest_dispute(reference)
        if d is None:
            raise NotFound(f"reference: no dispute about {reference!r} on account {account_id!r}")
        return DisputeView(
            d.reference, d.status, d.reason, d.dispute_ref, d.opened_at, d.ruled_by, d.resolved_at,
            d.credit_minor, d.currency, d.hold_ref, d.hold_ref in s.holds,
        )

    def explain_dunning(self, account_id: str, charge_ref: str, at: datetime | None = None) -> DunningAssessment:
        """Why a notice would or would not be sent for a charge at `at` (default: stream time)."""
        s = self._state(account_id)
        now = at or s.clock
        if now is None:
            raise BadRequest("at: no time given and the account has no stream time yet")
        return assess_dunning(s, self.policy, charge_ref, now)
