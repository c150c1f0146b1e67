"""The widow's story, replayed through billing with `simulate`.

Her husband dies; the account passes to her and is renamed. A charge he had paid by
check is recorded as overdue. She sends the cancelled check and disputes the
deficiency. Billing must match the check by account and charge reference (not by the
name on it), send no deficiency notice after the evidence or during the dispute, and
end with a balanced ledger.
"""

from __future__ import annotations

from billing.domain import events as ev
from billing.domain.policy import parse_policy
from billing.service_layer import simulate, simulate_log

from unit.billing.billing_unit_kit import ACCOUNT, POLICY, Harness, Stream, day


def _story(s: Stream, dispute_first: bool):
    facts = [
        s.holder("John Smith", "rename", day(-400)),
        s.charge("INV-0931", 8_450, due=day(0), at=day(-14)),
        s.holder("Mary Smith", "bereavement", day(3)),
        s.holder("Mary A. Smith", "rename", day(5)),
    ]
    facts += [s.tick(day(n)) for n in range(6, 70, 4)]
    evidence = s.evidence("INV-0931", 8_450, day(70), extra={"payer_name": "John Smith", "check_number": "1043"})
    dispute = s.dispute("INV-0931", day(69 if dispute_first else 71), reason="paid by check 1043; see cancelled check")
    facts += [dispute, evidence] if dispute_first else [evidence, dispute]
    facts += [s.tick(day(n)) for n in range(72, 95, 3)]
    facts.append(s.ruling("INV-0931", "upheld", day(95), by="billing-supervisor-2"))
    facts += [s.tick(day(n)) for n in range(96, 200, 7)]
    return facts, evidence, dispute


def _notices(decisions):
    return [d for d in decisions if d.type == ev.NOTICE_ISSUED]


def test_the_widow_gets_no_notice_after_her_evidence_or_during_her_dispute():
    for dispute_first in (False, True):
        s = Stream(case_id="CASE-WIDOW")
        facts, evidence, dispute = _story(s, dispute_first)
        decisions = simulate(facts, POLICY)
        notices = _notices(decisions)
        # Grace (60 days from day 3) ran out at day 63: one notice, before any evidence.
        assert [(n.time, n.data["level"]) for n in notices] == [(day(66), 3)]
        assert all(n.time < evidence.time and n.time < dispute.time for n in notices)
        kinds = [d.type.removeprefix("casestream.billing.") for d in decisions]
        assert "payment_matched" in kinds and "payment_unmatched" not in kinds
        assert "invariant_violated" not in kinds
        matched = next(d for d in decisions if d.type == ev.PAYMENT_MATCHED)
        assert matched.data["amount_minor"] == 8_450 and matched.data["reference"] == "INV-0931"
        resolved = next(d for d in decisions if d.type == ev.DISPUTE_RESOLVED)
        assert resolved.data["outcome"] == "upheld" and resolved.data["credit_minor"] == 0  # already paid
        assert [d.type for d in decisions].count(ev.HOLD_RELEASED) == 1
        assert all(d.subject == ACCOUNT and d.case_id == "CASE-WIDOW" for d in decisions)


def test_the_widows_ledger_balances_and_the_account_reads_well():
    s = Stream(case_id="CASE-WIDOW")
    facts, _, _ = _story(s, dispute_first=True)
    h = Harness(stream=s)
    h.feed(*facts)
    view = h.service.account(ACCOUNT)
    assert view.balance == {"USD": 0}
    assert view.holder == "Mary A. Smith" and [c.reason for c in view.holder_history] == ["rename", "bereavement", "rename"]
    assert view.active_holds == () and view.invariant_violations == 0
    assert h.service.dispute(ACCOUNT, "INV-0931").status == "upheld"
    assert [e.kind for e in h.service.ledger(ACCOUNT).entries] == ["charge", "payment"]
    why = h.service.explain_dunning(ACCOUNT, "INV-0931", day(199))
    assert not why.would_send and why.reasons[0] == "paid"


def test_counterfactual_the_old_way_would_have_dunned_her():
    """Replay the same history under a policy without grace: the notices come earlier, never after the evidence."""
    s = Stream(case_id="CASE-WIDOW")
    facts, evidence, _ = _story(s, dispute_first=False)
    harsh = parse_policy({**POLICY.model_dump(), "version": "no-grace", "bereavement": {"grace_days": 0}})
    notices = _notices(simulate(facts, harsh))
    assert [n.data["level"] for n in notices] == [1, 2, 3]
    assert all(n.time < evidence.time and n.data["policy_version"] == "no-grace" for n in notices)


def test_simulate_drops_billings_old_decisions_and_redecides_them():
    s = Stream(case_id="CASE-WIDOW")
    facts, _, _ = _story(s, dispute_first=False)
    log = simulate_log(facts, POLICY)
    redecided = simulate(log, POLICY)
    assert [(d.id, dict(d.data)) for d in redecided] == [(d.id, dict(d.data)) for d in simulate(facts, POLICY)]
