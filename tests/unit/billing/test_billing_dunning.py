from billing.domain import dunning_notices, explain_dunning
from billing.service_layer import BillingService, InMemoryAccountRepository

from unit.billing.billing_unit_kit import ACCOUNT, POLICY, Harness, Stream, day, types


def _levels(decisions):
    return [(d.data["reference"], d.data["level"]) for d in decisions if d.type.endswith("dunning_notice_issued")]


def test_notices_follow_the_schedule_and_never_repeat_a_level():
    h = Harness()
    s = h.stream
    h.feed(s.charge("INV-1", 5000, day(0)))
    sent = []
    for n in range(0, 45):
        sent += _levels(h.feed(s.tick(day(n))))
    assert sent == [("INV-1", 1), ("INV-1", 2), ("INV-1", 3)]
    notices = [n for n in h.state().notices]
    assert [n.at for n in notices] == [day(7), day(14), day(30)]


def test_a_notice_carries_its_reason():
    h = Harness()
    s = h.stream
    h.feed(s.charge("INV-1", 5000, day(0)), s.payment("INV-1", 1000, day(1)))
    (notice,) = h.feed(s.tick(day(9)))
    assert notice.id == f"dunning:{ACCOUNT}:INV-1:1"
    assert (notice.data["level"], notice.data["days_past_due"], notice.data["outstanding_minor"]) == (1, 9, 4000)
    assert notice.data["reason"] == "level 1 due: 9 days past due, 4000 USD outstanding"
    assert notice.time == day(9)


def test_only_the_highest_due_level_is_sent_after_a_gap():
    h = Harness()
    s = h.stream
    h.feed(s.charge("INV-1", 5000, day(0)))
    assert _levels(h.feed(s.tick(day(20)))) == [("INV-1", 2)]
    assert _levels(h.feed(s.tick(day(25)))) == []


def test_paid_charges_are_not_dunned():
    h = Harness()
    s = h.stream
    h.feed(s.charge("INV-1", 5000, day(0)), s.payment("INV-1", 5000, day(3)))
    assert h.feed(s.tick(day(40))) == []


def test_dunning_is_deterministic_and_pure():
    s = Stream()
    h = Harness(stream=s)
    h.feed(s.charge("INV-1", 5000, day(0)))
    state = h.state()
    first = dunning_notices(state, POLICY, day(8))
    assert first == dunning_notices(state, POLICY, day(8))
    assert h.state() is state  # evaluation never changed the state


def test_a_global_tick_duns_every_known_account_in_its_charge_case():
    s = Stream()
    service = BillingService(InMemoryAccountRepository(), POLICY)
    service.handle(s.charge("INV-1", 1, day(0), case_id="CASE-A"))
    service.handle(s.charge("INV-9", 1, day(0), account="ACC-2", case_id="CASE-B"))
    out = service.handle(s.tick(day(8), account="*", case_id="CLOCK"))
    assert sorted((d.subject, d.case_id) for d in out) == [("ACC-1", "CASE-A"), ("ACC-2", "CASE-B")]
    assert service.handle(s.tick(day(9), account="ACC-404")) == []
    assert service.repository.get("ACC-404") is None


def test_explain_dunning_says_why():
    h = Harness()
    s = h.stream
    h.feed(s.charge("INV-1", 5000, day(0)), s.charge("INV-2", 100, day(30), at=day(-1)))
    svc = h.service
    assert svc.explain_dunning(ACCOUNT, "INV-1", day(3)).reasons[0].startswith("not yet due for a notice: 3 days")
    yes = svc.explain_dunning(ACCOUNT, "INV-1", day(8))
    assert yes.would_send and yes.level == 1 and yes.reasons == ("level 1 due: 8 days past due, 5000 USD outstanding",)
    h.feed(s.tick(day(8)))
    sent = svc.explain_dunning(ACCOUNT, "INV-1", day(9))
    assert not sent.would_send and sent.reasons[0].startswith("already sent level 1 at")
    assert sent.notices_sent and sent.notices_sent[0].startswith("level 1 at")
    dispute = s.dispute("INV-1", day(10))
    h.feed(dispute)
    held = svc.explain_dunning(ACCOUNT, "INV-1", day(16))
    assert not held.would_send and held.reasons[0].startswith(f"held by dispute {dispute.ref}")
    h.feed(s.holder("Widow", "bereavement", day(11)))
    graced = svc.explain_dunning(ACCOUNT, "INV-2", day(45))
    assert any(r.startswith("bereavement grace until 2026-03-13") for r in graced.reasons)
    h.feed(s.payment("INV-2", 100, day(12)))
    assert svc.explain_dunning(ACCOUNT, "INV-2", day(100)).reasons[0] == "paid"
    assert svc.explain_dunning(ACCOUNT, "NOPE", day(1)).reasons == ("no charge 'NOPE' on account ACC-1",)
    everything = explain_dunning(h.state(), POLICY, day(100))
    assert [a.reference for a in everything] == ["INV-1", "INV-2"]


def test_explain_agrees_with_dunning():
    h = Harness()
    s = h.stream
    h.feed(s.charge("INV-1", 5000, day(0)), s.dispute("INV-1", day(20)), s.charge("INV-2", 7, day(5)))
    for n in range(0, 60, 3):
        state = h.state()
        would = {a.reference for a in explain_dunning(state, POLICY, day(n)) if a.would_send}
        assert would == {d.data["reference"] for d in dunning_notices(state, POLICY, day(n))}
        h.feed(s.tick(day(n)))
