from datetime import timedelta

import pytest

from billing.service_layer import BadRequest, NotFound

from unit.billing.billing_unit_kit import ACCOUNT, Harness, day


def test_balance_is_charges_minus_payments_minus_credits():
    h = Harness()
    s = h.stream
    refund = s.request("refund", "INV-1", 300, day(3))
    h.feed(
        s.charge("INV-1", 10_000, day(10), at=day(0)),
        s.charge("INV-2", 2_500, day(20), at=day(1)),
        s.payment("INV-1", 4_000, day(2)),
        refund, s.approval(True, refund, day(4)),
    )
    view = h.service.account(ACCOUNT)
    assert view.balance == {"USD": 10_000 + 2_500 - 4_000 - 300}
    kinds = [e.kind for e in h.service.ledger(ACCOUNT).entries]
    assert kinds == ["charge", "charge", "payment", "refund"]


def test_currencies_are_never_mixed():
    h = Harness()
    s = h.stream
    h.feed(s.charge("INV-1", 1000, day(10), at=day(0)), s.charge("INV-E", 700, day(10), at=day(0), currency="EUR"),
           s.payment("INV-1", 1000, day(1)))
    assert h.service.account(ACCOUNT).balance == {"USD": 0, "EUR": 700}


def test_balance_and_ageing_as_of_any_time():
    h = Harness()
    s = h.stream
    h.feed(
        s.charge("A", 100, due=day(0), at=day(-10)),
        s.charge("B", 200, due=day(40), at=day(30)),
        s.payment("A", 30, day(50)),
    )
    st = h.state()
    assert st.balance(as_of=day(-20)) == {}
    assert st.balance(as_of=day(0)) == {"USD": 100}
    assert st.balance(as_of=day(35)) == {"USD": 300}
    assert st.balance(as_of=day(60)) == {"USD": 270}
    assert st.ageing(day(20)) == {"0-30": {"USD": 100}, "31-60": {}, "61-90": {}, "90+": {}}
    # B is not yet due: it ages in 0-30; A is 45 days past due.
    assert st.ageing(day(45)) == {"0-30": {"USD": 200}, "31-60": {"USD": 100}, "61-90": {}, "90+": {}}
    assert st.ageing(day(75)) == {"0-30": {}, "31-60": {"USD": 200}, "61-90": {"USD": 70}, "90+": {}}
    assert st.ageing(day(200))["90+"] == {"USD": 270}
    assert st.ageing(day(30) + timedelta(hours=1))["0-30"] == {"USD": 300}  # A at day 30 is still 0-30
    assert st.ageing(day(31))["31-60"] == {"USD": 100}


def test_ledger_pages_and_as_of():
    h = Harness()
    s = h.stream
    h.feed(*[s.charge(f"INV-{i}", 10 * i, day(i + 30), at=day(i)) for i in range(1, 8)])
    first = h.service.ledger(ACCOUNT, page_size=3)
    assert [e.reference for e in first.entries] == ["INV-1", "INV-2", "INV-3"]
    second = h.service.ledger(ACCOUNT, page_size=3, page_token=first.next_page_token)
    third = h.service.ledger(ACCOUNT, page_size=3, page_token=second.next_page_token)
    assert [e.reference for e in third.entries] == ["INV-7"] and third.next_page_token is None
    as_of = h.service.ledger(ACCOUNT, as_of=day(2))
    assert [e.reference for e in as_of.entries] == ["INV-1", "INV-2"]
    assert as_of.balance == {"USD": 30}


def test_ledger_query_errors_name_the_argument():
    h = Harness()
    h.feed(h.stream.charge("INV-1", 1, day(1)))
    with pytest.raises(BadRequest, match="page_size"):
        h.service.ledger(ACCOUNT, page_size=0)
    with pytest.raises(BadRequest, match="page_token"):
        h.service.ledger(ACCOUNT, page_token="abc")
    with pytest.raises(NotFound, match="account_id"):
        h.service.account("ACC-404")


def test_a_redelivered_fact_is_folded_once():
    h = Harness()
    s = h.stream
    charge = s.charge("INV-1", 500, day(10))
    h.feed(charge, charge, s.payment("INV-1", 100, day(1)))
    assert h.service.account(ACCOUNT).balance == {"USD": 400}
    assert h.service.handle(charge) == []


def test_holder_history_is_kept_and_unrelated_facts_are_ignored():
    h = Harness()
    s = h.stream
    h.feed(s.holder("J. Doe", "rename", day(1)), s.holder("M. Doe", "bereavement", day(2)),
           s.fact("casestream.note.added", day(3), {"author": "a", "text": "t"}))
    view = h.service.account(ACCOUNT)
    assert view.holder == "M. Doe"
    assert [(c.holder, c.reason) for c in view.holder_history] == [("J. Doe", "rename"), ("M. Doe", "bereavement")]
    assert view.events_folded == 2
