"""Properties over any interleaving of disputes, payments, evidence, holder changes and ticks."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.domain import events as ev
from billing.service_layer import simulate

from unit.billing.billing_unit_kit import ACCOUNT, POLICY, Harness, Stream, day

REFS = ("INV-1", "INV-2", "INV-3")
GRACE = timedelta(days=POLICY.bereavement.grace_days)

amounts = st.integers(min_value=1, max_value=6000)
op = st.one_of(
    st.tuples(st.just("dispute"), st.sampled_from(REFS + ("account",))),
    st.tuples(st.just("rule"), st.sampled_from(REFS + ("account",)), st.sampled_from(["upheld", "rejected"])),
    st.tuples(st.just("pay"), st.sampled_from(REFS), amounts),
    st.tuples(st.just("evidence"), st.sampled_from(REFS + ("UNKNOWN",)), amounts),
    st.tuples(st.just("holder"), st.sampled_from(["rename", "transfer", "bereavement"])),
    st.tuples(st.just("refund"), st.sampled_from(REFS), amounts, st.booleans()),
    st.tuples(st.just("tick"),),
)
histories = st.lists(st.tuples(st.integers(min_value=0, max_value=25), op), max_size=30)


def _facts(history):
    s = Stream()
    facts = [
        s.charge("INV-1", 5000, due=day(0), at=day(-14)),
        s.charge("INV-2", 1200, due=day(10), at=day(-5)),
        s.charge("INV-3", 300, due=day(40), at=day(-1)),
    ]
    t = day(0)
    for gap, (kind, *args) in history:
        t += timedelta(days=gap)
        if kind == "dispute":
            facts.append(s.dispute(args[0], t))
        elif kind == "rule":
            facts.append(s.ruling(args[0], args[1], t))
        elif kind == "pay":
            facts.append(s.payment(args[0], args[1], t))
        elif kind == "evidence":
            facts.append(s.evidence(args[0], args[1], t))
        elif kind == "holder":
            facts.append(s.holder(f"holder-{len(facts)}", args[0], t))
        elif kind == "refund":
            request = s.request("refund", args[0], args[1], t)
            facts += [request, s.approval(args[2], request, t + timedelta(hours=1))]
        else:
            facts.append(s.tick(t))
    facts.append(s.tick(t + timedelta(days=120)))
    return s, facts


def _check_notices(log):
    """An independent model of the rules, walked over the sequenced log."""
    open_disputes: set[str] = set()  # references with a dispute opened and not yet ruled
    grace_from = None
    owed = {}
    for f in log:
        d = f.data
        if f.type == ev.CHARGE_POSTED:
            owed[d["reference"]] = owed.get(d["reference"], 0) + d["amount_minor"]
        elif f.type in (ev.PAYMENT_RECEIVED, ev.PAYMENT_MATCHED, ev.REFUND_ISSUED, ev.ADJUSTMENT_APPLIED):
            owed[d["reference"]] = owed.get(d["reference"], 0) - d["amount_minor"]
        elif f.type == ev.DISPUTE_OPENED:
            open_disputes.add(d["reference"])
        elif f.type == ev.DISPUTE_RULED:
            open_disputes.discard(d["reference"])
        elif f.type == ev.HOLDER_CHANGED and d["reason"] == "bereavement":
            grace_from = f.time
        elif f.type == ev.NOTICE_ISSUED:
            ref = d["reference"]
            assert ref not in open_disputes and "account" not in open_disputes, f"notice {f.id} during a dispute"
            assert grace_from is None or f.time >= grace_from + GRACE, f"notice {f.id} inside bereavement grace"
            assert owed[ref] > 0, f"notice {f.id} for a paid charge"
            assert d["outstanding_minor"] <= owed[ref]
        elif f.type == ev.INVARIANT_VIOLATED:
            raise AssertionError(f"billing's watchdog caught billing: {dict(d)}")
    return owed


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories)
def test_no_notice_inside_a_hold_or_grace_and_the_ledger_balances(history):
    s, facts = _facts(history)
    h = Harness(stream=s)
    h.feed(*facts)
    owed = _check_notices(h.log)

    state = h.state()
    charges = sum(f.data["amount_minor"] for f in h.log if f.type == ev.CHARGE_POSTED)
    payments = sum(f.data["amount_minor"] for f in h.log if f.type in (ev.PAYMENT_RECEIVED, ev.PAYMENT_MATCHED))
    credits = sum(f.data["amount_minor"] for f in h.log if f.type in (ev.REFUND_ISSUED, ev.ADJUSTMENT_APPLIED))
    assert state.balance().get("USD", 0) == charges - payments - credits == sum(owed.values())
    assert sum(e.signed_minor for e in h.service.ledger(ACCOUNT, page_size=500).entries) == charges - payments - credits
    # Money billing decided to post has all been posted once its decisions came back.
    assert dict(state.pending) == {}
    # Evidence and upheld disputes never credit a charge below zero by themselves.
    for ref in REFS:
        received = sum(f.data["amount_minor"] for f in h.log
                       if f.type in (ev.PAYMENT_RECEIVED, ev.REFUND_ISSUED) and f.data["reference"] == ref)
        if received == 0:
            assert state.outstanding(ref) >= 0


@settings(max_examples=40, deadline=None)
@given(histories)
def test_replay_gives_the_same_decisions_with_the_same_ids(history):
    _, facts = _facts(history)
    first = simulate(facts, POLICY)
    assert [(d.type, d.id, dict(d.data)) for d in simulate(facts, POLICY)] == [(d.type, d.id, dict(d.data)) for d in first]
    assert len({d.id for d in first}) == len(first)
