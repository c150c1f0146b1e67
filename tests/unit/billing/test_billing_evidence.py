from unit.billing.billing_unit_kit import ACCOUNT, POLICY, Harness, Stream, day, types
from billing.service_layer import simulate


def test_evidence_matches_by_reference_even_after_a_rename():
    h = Harness()
    s = h.stream
    h.feed(s.holder("John Smith", "rename", day(-20)), s.charge("INV-1", 5000, day(0)),
           s.holder("Mary Smith", "rename", day(1)))
    out = h.feed(s.evidence("INV-1", 5000, day(2), extra={"payer_name": "John Smith"}))
    assert types(out) == ["payment_matched"]
    assert out[0].data["amount_minor"] == 5000 and out[0].data["settled"] is True
    assert h.service.account(ACCOUNT).balance == {"USD": 0}
    assert h.feed(s.tick(day(40))) == []


def test_a_holders_name_never_matches_a_payment():
    s = Stream()
    decisions = simulate([
        s.holder("Mary Smith", "rename", day(-1)), s.charge("INV-1", 5000, day(0)),
        s.evidence("Mary Smith", 5000, day(2)),
    ], POLICY)
    assert types(decisions) == ["payment_unmatched"]
    assert decisions[0].data["task_owner"] == "evidence-desk"
    assert "no charge with reference 'Mary Smith'" in decisions[0].data["reason"]


def test_evidence_on_another_account_does_not_match():
    s = Stream()
    decisions = simulate([
        s.charge("INV-1", 5000, day(0)), s.evidence("INV-1", 5000, day(2), account="ACC-2"),
    ], POLICY)
    assert types(decisions) == ["payment_unmatched"] and decisions[0].subject == "ACC-2"


def test_evidence_in_another_currency_is_unmatched():
    s = Stream()
    decisions = simulate([s.charge("INV-1", 5000, day(0)), s.evidence("INV-1", 5000, day(2), currency="EUR")], POLICY)
    assert types(decisions) == ["payment_unmatched"] and "currency" in decisions[0].data["reason"]


def test_evidence_never_posts_more_than_was_owed():
    h = Harness()
    s = h.stream
    h.feed(s.charge("INV-1", 5000, day(0)), s.payment("INV-1", 4000, day(1)))
    out = h.feed(s.evidence("INV-1", 5000, day(2)))
    assert out[0].data["amount_minor"] == 1000
    h.feed(s.evidence("INV-1", 5000, day(3)))  # the same check again: nothing more to post
    assert h.service.account(ACCOUNT).balance == {"USD": 0}


def test_partial_evidence_keeps_the_hold_and_the_deficiency():
    h = Harness()
    s = h.stream
    h.feed(s.charge("INV-1", 5000, day(0)), s.dispute("INV-1", day(1)))
    out = h.feed(s.evidence("INV-1", 2000, day(2)))
    assert types(out) == ["payment_matched"] and out[0].data["settled"] is False
    assert len(h.service.account(ACCOUNT).active_holds) == 1


def test_full_evidence_releases_the_hold_on_that_charge_only():
    h = Harness()
    s = h.stream
    h.feed(s.charge("INV-1", 5000, day(0)), s.charge("INV-2", 10, day(0)),
           s.dispute("INV-1", day(1)), s.dispute("INV-2", day(1)))
    out = h.feed(s.evidence("INV-1", 5000, day(2)))
    assert types(out) == ["payment_matched", "dunning_hold_released"]
    assert [hold.scope for hold in h.service.account(ACCOUNT).active_holds] == ["INV-2"]
    assert h.service.dispute(ACCOUNT, "INV-1").status == "open"  # a person still rules on it


def test_no_notice_can_race_a_matched_payment_in_flight():
    """The payment_matched decision has not come back yet, but dunning already knows."""
    from billing.service_layer import BillingService, InMemoryAccountRepository

    s = Stream()
    service = BillingService(InMemoryAccountRepository(), POLICY)
    service.handle(s.charge("INV-1", 5000, day(0)))
    assert types(service.handle(s.evidence("INV-1", 5000, day(30)))) == ["payment_matched"]
    assert service.handle(s.tick(day(31))) == []
    why = service.explain_dunning(ACCOUNT, "INV-1", day(31))
    assert why.reasons[0].startswith("paid (posting pending")
