from unit.billing.billing_unit_kit import ACCOUNT, Harness, day, types


def test_a_foreign_notice_during_a_hold_is_flagged_and_counted():
    h = Harness()
    s = h.stream
    h.feed(s.charge("INV-1", 5000, day(0)), s.dispute("INV-1", day(8)))
    rogue = s.notice("INV-1", 1, day(9))
    out = h.feed(rogue)
    assert types(out) == ["invariant_violated"]
    v = out[0]
    assert v.id == f"invariant:{ACCOUNT}:{rogue.ref}"
    assert v.data["breaches"] == ["during_hold"]
    assert v.data["notice_id"] == f"legacy-dunning/{rogue.id}" and v.data["level"] == 1
    assert "hold:ACC-1:" in v.data["details"][0]
    assert h.service.invariant_violations == {"during_hold": 1}
    assert h.service.account(ACCOUNT).invariant_violations == 1
    assert h.feed(rogue) == []  # redelivered: neither flagged nor counted twice
    assert h.service.invariant_violations == {"during_hold": 1}


def test_notices_in_grace_after_payment_or_repeated_are_flagged():
    h = Harness()
    s = h.stream
    h.feed(s.charge("INV-1", 5000, day(0)), s.charge("INV-2", 10, day(0)), s.payment("INV-2", 10, day(1)))
    h.feed(s.tick(day(8)))  # billing's own level-1 notice for INV-1
    out = h.feed(s.notice("INV-1", 1, day(9)))
    assert out[0].data["breaches"] == ["duplicate_level"]
    h.feed(s.holder("Widow", "bereavement", day(10)))
    out = h.feed(s.notice("INV-2", 2, day(15)))
    assert out[0].data["breaches"] == ["during_grace", "after_payment"]
    out = h.feed(s.notice("INV-404", 1, day(16)))
    assert "unknown_charge" in out[0].data["breaches"]
    assert h.service.invariant_violations["during_grace"] == 2


def test_legitimate_notices_pass_the_watchdog():
    h = Harness()
    s = h.stream
    h.feed(s.charge("INV-1", 5000, day(0)))
    out = h.feed(s.tick(day(8)))
    assert types(out) == ["dunning_notice_issued"]
    assert h.service.invariant_violations == {}
    assert h.feed(s.notice("INV-1", 2, day(15))) == []
