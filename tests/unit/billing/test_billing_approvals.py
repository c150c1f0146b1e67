from unit.billing.billing_unit_kit import ACCOUNT, Harness, day, types


def test_a_refund_is_issued_only_after_approval():
    h = Harness()
    s = h.stream
    request = s.request("refund", "INV-1", 1500, day(1))
    assert h.feed(s.charge("INV-1", 5000, day(0)), request) == []
    assert h.service.account(ACCOUNT).balance == {"USD": 5000}
    out = h.feed(s.approval(True, request, day(2)))
    assert types(out) == ["refund_issued"]
    assert out[0].id == f"refund:{ACCOUNT}:{request.ref}"
    assert out[0].data["approval_ref"] == f"appr-{request.ref}" and out[0].data["amount_minor"] == 1500
    assert h.service.account(ACCOUNT).balance == {"USD": 3500}
    assert h.state().requests[request.ref].status == "applied"
    assert h.feed(s.approval(True, request, day(3))) == []  # a second approval applies nothing


def test_a_denied_adjustment_is_recorded_and_nothing_is_applied():
    h = Harness()
    s = h.stream
    request = s.request("adjustment", "INV-1", 1500, day(1))
    h.feed(s.charge("INV-1", 5000, day(0)), request)
    assert h.feed(s.approval(False, request, day(2))) == []
    assert h.state().requests[request.ref].status == "denied"
    assert h.feed(s.approval(True, request, day(3))) == []  # denial is final
    assert h.service.account(ACCOUNT).balance == {"USD": 5000}


def test_an_approved_adjustment_is_applied():
    h = Harness()
    s = h.stream
    request = s.request("adjustment", "INV-1", 800, day(1))
    h.feed(s.charge("INV-1", 5000, day(0)), request)
    out = h.feed(s.approval(True, request, day(2)))
    assert types(out) == ["adjustment_applied"] and out[0].data["cause"] == "adjustment_approved"
    assert [e.kind for e in h.service.ledger(ACCOUNT).entries] == ["charge", "adjustment"]


def test_an_approval_for_a_different_amount_applies_nothing_and_is_flagged():
    h = Harness()
    s = h.stream
    request = s.request("refund", "INV-1", 1500, day(1))
    h.feed(s.charge("INV-1", 5000, day(0)), request)
    out = h.feed(s.approval(True, request, day(2), amount=9000))
    assert types(out) == ["invariant_violated"]
    assert out[0].data["breaches"] == ["approval_mismatch"]
    assert h.service.account(ACCOUNT).balance == {"USD": 5000}


def test_an_approval_for_an_unknown_request_is_ignored():
    h = Harness()
    s = h.stream
    other = s.request("refund", "INV-1", 1, day(1), account="ACC-9")
    h.feed(s.charge("INV-1", 5000, day(0)))
    assert h.feed(s.approval(True, other, day(2))) == []
