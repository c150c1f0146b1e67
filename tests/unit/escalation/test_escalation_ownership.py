from datetime import timedelta

from unit.escalation.escalation_unit_kit import POLICY, Script, ny


def test_case_opened_assigns_the_intake_queue_at_once():
    s = Script()
    s.open(ny(2026, 11, 6, 15, 0))
    run = s.run()
    [assigned] = run.of("owner_assigned")
    assert assigned.data["owner"] == "frontline" and assigned.data["accountable"] == "fl-duty-lead"
    assert assigned.data["reason"] == "case_opened" and assigned.data["policy_version"] == "us-telecom-2026.11"
    own = run.service.ownership("C-1")
    assert own.current.id == "frontline" and own.owner_at(1).id == "frontline"


def test_weekend_handoff_to_billing_is_refused_with_the_on_call_alternative():
    s = Script()
    s.open(ny(2026, 11, 7, 10, 0))  # Saturday
    s.add(ny(2026, 11, 7, 10, 30), "handoff.requested", to_queue="billing", by="a-02", reason="billing dispute")
    run = s.run()
    [refused] = run.of("handoff_refused")
    assert refused.data["reason"] == "queue_closed"
    assert refused.data["alternative_queue"] == "billing-escalations"
    assert refused.data["reopens_at"] == "2026-11-09T14:00:00+00:00"  # Mon 09:00 New York
    assert run.of("handoff_accepted") == []
    assert run.service.ownership("C-1").current.id == "frontline"


def test_handoff_to_the_alternative_queue_is_accepted_at_the_weekend():
    s = Script()
    s.open(ny(2026, 11, 7, 10, 0))
    h = s.add(ny(2026, 11, 7, 10, 30), "handoff.requested", to_queue="billing-escalations", by="a-02", reason="x")
    s.add(ny(2026, 11, 7, 10, 40), "handoff.responded", handoff_ref=h.ref, by="b-oncall-1", accepted=True)
    run = s.run()
    assert run.of("handoff_refused") == []
    [acc] = run.of("handoff_accepted")
    assert acc.data["to_queue"] == "billing-escalations"
    own = run.service.ownership("C-1")
    assert own.current.id == "billing-escalations" and own.current.accountable == "b-oncall-1"
    assert [sp.owner.id for sp in own.history] == ["frontline", "frontline", "billing-escalations"]


def test_owner_keeps_the_case_until_the_handoff_is_accepted():
    s = Script()
    s.open(ny(2026, 11, 10, 9, 30))
    h = s.add(ny(2026, 11, 10, 10, 0), "handoff.requested", to_queue="billing", by="a-02", reason="bill")
    s.contact(ny(2026, 11, 10, 10, 5), direction="outbound")
    s.add(ny(2026, 11, 10, 10, 20), "handoff.responded", handoff_ref=h.ref, by="b-02", accepted=True)
    run = s.run()
    own = run.service.ownership("C-1")
    accepted_seq = next(sp.sequence for sp in own.history if sp.owner.id == "billing")
    assert own.owner_at(accepted_seq - 1).id == "frontline"
    assert own.current.id == "billing" and own.current.accountable == "b-02"
    assert run.state.handoffs[next(iter(run.state.handoffs))].status == "accepted"


def test_declined_handoff_is_refused_and_owner_stays():
    s = Script()
    s.open(ny(2026, 11, 10, 9, 30))
    h = s.add(ny(2026, 11, 10, 10, 0), "handoff.requested", to_queue="network-ops", by="a-02", reason="outage")
    s.add(ny(2026, 11, 10, 10, 20), "handoff.responded", handoff_ref=h.ref, by="noc-1", accepted=False)
    run = s.run()
    [refused] = run.of("handoff_refused")
    assert refused.data["reason"] == "declined"
    assert run.service.ownership("C-1").current.id == "frontline"


def test_acceptance_after_the_queue_closed_is_refused():
    slow = POLICY.handoff.model_copy(update={"accept_within": timedelta(days=3)})
    lenient = POLICY.model_copy(update={"handoff": slow})
    s = Script()
    s.open(ny(2026, 11, 6, 14, 0))
    h = s.add(ny(2026, 11, 6, 14, 30), "handoff.requested", to_queue="billing", by="a-02", reason="bill")
    s.add(ny(2026, 11, 7, 9, 0), "handoff.responded", handoff_ref=h.ref, by="b-01", accepted=True)
    run = s.run(lenient)
    assert run.of("handoff_accepted") == []
    [refused] = run.of("handoff_refused")
    assert refused.data["reason"] == "queue_closed" and refused.data["alternative_queue"] == "billing-escalations"


def test_handoff_just_before_closing_is_refused_when_closure_outlasts_the_sla():
    s = Script()
    s.open(ny(2026, 11, 6, 16, 0), priority="P1")  # P1: 1h first response, calendar time
    s.add(ny(2026, 11, 6, 16, 45), "handoff.requested", to_queue="billing", by="a-02", reason="bill")
    run = s.run()
    [refused] = run.of("handoff_refused")
    assert refused.data["reason"] == "queue_closing"


def test_handoff_to_an_unknown_queue_is_refused():
    s = Script()
    s.open(ny(2026, 11, 10, 9, 30))
    s.add(ny(2026, 11, 10, 10, 0), "handoff.requested", to_queue="narnia", by="a-02", reason="?")
    [refused] = s.run().of("handoff_refused")
    assert refused.data["reason"] == "unknown_queue" and refused.data["alternative_queue"] == "frontline"


def test_payment_unmatched_opens_a_task_for_the_current_owner():
    s = Script()
    s.open(ny(2026, 11, 10, 9, 30))
    s.add(ny(2026, 11, 10, 10, 0), "billing.payment_unmatched", source="billing", reference="CHK-1",
          amount_minor=4200, currency="USD")
    [task] = s.run().of("task_opened")
    assert task.data["owner"] == "frontline" and task.data["kind"] == "payment_unmatched"
    assert task.data["reference"] == "CHK-1"


def test_unanswered_handoff_is_refused_and_escalated_and_owner_keeps_the_case():
    s = Script()
    s.open(ny(2026, 11, 10, 9, 30))
    s.contact(ny(2026, 11, 10, 9, 35), direction="outbound")
    s.add(ny(2026, 11, 10, 10, 0), "handoff.requested", to_queue="network-ops", by="a-02", reason="outage")
    s.tick(ny(2026, 11, 10, 11, 30))
    run = s.run()
    [refused] = run.of("handoff_refused")
    assert refused.data["reason"] == "not_accepted_in_time" and refused.time == ny(2026, 11, 10, 11, 0)
    assert [e.data["reason"] for e in run.of("escalated")] == ["sla_breached"]
    assert run.service.ownership("C-1").current.id == "frontline"


def test_answered_handoff_stops_its_acceptance_clock():
    s = Script()
    s.open(ny(2026, 11, 10, 9, 30))
    h = s.add(ny(2026, 11, 10, 10, 0), "handoff.requested", to_queue="network-ops", by="a-02", reason="outage")
    s.add(ny(2026, 11, 10, 10, 20), "handoff.responded", handoff_ref=h.ref, by="noc-1", accepted=True)
    s.tick(ny(2026, 11, 10, 12, 0))
    run = s.run()
    assert run.of("handoff_refused") == []
    clock = next(c for c in run.state.slas.values() if c.name.startswith("handoff:"))
    assert clock.met_at == ny(2026, 11, 10, 10, 20)
