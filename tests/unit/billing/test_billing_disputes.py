from billing.domain import decide, dunning_notices, fold
from billing.domain.model import AccountState

from unit.billing.billing_unit_kit import ACCOUNT, POLICY, Harness, Stream, day, types


def test_the_hold_is_active_as_soon_as_the_dispute_is_folded():
    s = Stream()
    state = fold(AccountState(ACCOUNT), s.charge("INV-1", 900, day(0)))
    opened = s.dispute("INV-1", day(20))
    state = fold(state, opened)
    assert [h.scope for h in state.holds.values()] == ["INV-1"]
    decisions = decide(state, opened, POLICY)
    assert types(decisions) == ["dunning_hold_placed"]
    assert decisions[0].id == f"hold:{ACCOUNT}:{opened.ref}"
    assert decisions[0].case_id == opened.case_id
    assert dunning_notices(state, POLICY, day(20)) == []  # nothing, before the placed fact comes back


def test_upheld_dispute_credits_the_amount_and_releases_the_hold():
    h = Harness()
    s = h.stream
    h.feed(s.charge("INV-1", 900, day(0)), s.payment("INV-1", 200, day(1)), s.dispute("INV-1", day(2)))
    during = h.feed(s.tick(day(40)))
    assert during == []
    out = h.feed(s.ruling("INV-1", "upheld", day(41)))
    assert types(out) == ["dispute_resolved", "adjustment_applied", "dunning_hold_released"]
    resolved, adjustment, _ = out
    assert resolved.data["outcome"] == "upheld" and resolved.data["credit_minor"] == 700
    assert adjustment.data["amount_minor"] == 700 and adjustment.data["cause"] == "dispute_upheld"
    assert h.service.account(ACCOUNT).balance == {"USD": 0}
    assert h.service.account(ACCOUNT).active_holds == ()
    view = h.service.dispute(ACCOUNT, "INV-1")
    assert (view.status, view.hold_active, view.credit_minor) == ("upheld", False, 700)
    assert view.resolved_at == day(41)
    assert h.feed(s.tick(day(90))) == []  # nothing left to dun


def test_rejected_dispute_credits_nothing_and_dunning_resumes():
    h = Harness()
    s = h.stream
    h.feed(s.charge("INV-1", 900, day(0)), s.dispute("INV-1", day(2)))
    out = h.feed(s.ruling("INV-1", "rejected", day(20)))
    # Once the release is folded the hold is gone, and the overdue charge is dunned at once.
    assert types(out) == ["dispute_resolved", "dunning_hold_released", "dunning_notice_issued"]
    assert out[0].data["credit_minor"] == 0
    assert out[2].data["level"] == 2 and out[2].data["days_past_due"] == 20
    assert h.service.account(ACCOUNT).balance == {"USD": 900}
    assert h.feed(s.tick(day(21))) == []


def test_an_account_dispute_holds_every_charge():
    h = Harness()
    s = h.stream
    h.feed(s.charge("INV-1", 100, day(0)), s.charge("INV-2", 100, day(3)), s.dispute("account", day(1)))
    assert h.feed(s.tick(day(60))) == []
    assert [h.scope for h in h.service.account(ACCOUNT).active_holds] == ["account"]
    why = h.service.explain_dunning(ACCOUNT, "INV-2", day(60))
    assert not why.would_send and any("held by dispute" in r for r in why.reasons)


def test_a_repeated_dispute_keeps_one_hold_and_a_later_dispute_gets_its_own():
    h = Harness()
    s = h.stream
    first = s.dispute("INV-1", day(2))
    h.feed(s.charge("INV-1", 100, day(0)), first)
    assert h.feed(s.dispute("INV-1", day(3))) == []
    h.feed(s.ruling("INV-1", "rejected", day(4)))
    again = s.dispute("INV-1", day(5))
    out = h.feed(again)
    assert types(out) == ["dunning_hold_placed"] and out[0].id != f"hold:{ACCOUNT}:{first.ref}"
    assert h.service.dispute(ACCOUNT, "INV-1").status == "open"


def test_a_ruling_without_an_open_dispute_decides_nothing():
    h = Harness()
    s = h.stream
    h.feed(s.charge("INV-1", 100, day(0)))
    assert h.feed(s.ruling("INV-1", "upheld", day(1))) == []
    assert h.service.account(ACCOUNT).balance == {"USD": 100}
