"""The telecom story from ARCHITECTURE.md, replayed through `simulate`.

Thursday 5 Nov to Monday 9 Nov 2026: 22 contacts with many agents, three promised
restoration deadlines (two missed), a weekend transfer to billing, and a complaint to
the state public service commission.
"""

from datetime import timedelta

from escalation.domain.calendar import BusinessCalendar

from unit.escalation.escalation_unit_kit import POLICY, Script, ny

AGENTS = [f"a-{i:02d}" for i in range(1, 11)] + [f"agent-{i}" for i in range(11, 23)]


def story() -> tuple[Script, dict]:
    s = Script(case_id="CASE-TEL-1", subject="ACC-555")
    marks: dict = {}
    contacts = iter(range(22))

    def call(at, direction="inbound"):
        i = next(contacts)
        s.contact(at, direction=direction, agent=AGENTS[i])

    s.open(ny(2026, 11, 5, 8, 0))
    call(ny(2026, 11, 5, 8, 0))                                               # 1 no dial tone
    call(ny(2026, 11, 5, 8, 40), "outbound")                                  # 2 call-back
    marks["p1"] = s.promise(ny(2026, 11, 5, 8, 45), ny(2026, 11, 5, 20, 0), by="a-02")
    call(ny(2026, 11, 5, 13, 0))                                              # 3
    call(ny(2026, 11, 5, 17, 30))                                             # 4 -> repeat escalation
    call(ny(2026, 11, 5, 21, 0))                                              # 5 p1 missed
    marks["p2"] = s.promise(ny(2026, 11, 5, 21, 10), ny(2026, 11, 7, 12, 0), by="agent-15")
    call(ny(2026, 11, 6, 9, 0))                                               # 6
    s.add(ny(2026, 11, 6, 9, 30), "case.status_changed", status="waiting_on_customer", by="a-07")
    call(ny(2026, 11, 6, 11, 0))                                              # 7
    s.add(ny(2026, 11, 6, 11, 5), "case.status_changed", status="in_progress", by="a-08")
    call(ny(2026, 11, 6, 15, 0), "outbound")                                  # 8
    call(ny(2026, 11, 6, 19, 0))                                              # 9
    call(ny(2026, 11, 7, 9, 0))                                               # 10 Saturday
    call(ny(2026, 11, 7, 10, 0))                                              # 11
    marks["weekend_handoff"] = s.add(ny(2026, 11, 7, 10, 15), "handoff.requested", to_queue="billing",
                                     by="escalation-manager", reason="billing says the line is suspended")
    call(ny(2026, 11, 7, 13, 0))                                              # 12 p2 missed
    marks["oncall_handoff"] = s.add(ny(2026, 11, 7, 13, 10), "handoff.requested",
                                    to_queue="billing-escalations", by="escalation-manager", reason="on-call")
    s.add(ny(2026, 11, 7, 13, 25), "handoff.responded", handoff_ref=marks["oncall_handoff"].ref,
          by="b-oncall-1", accepted=True)
    marks["refund"] = s.add(ny(2026, 11, 7, 13, 40), "billing.refund_requested", source="billing",
                            reference="CREDIT-1", amount_minor=12000, currency="USD", requested_by="b-oncall-2",
                            reason="five days without service")
    s.add(ny(2026, 11, 7, 14, 0), "approval.decided", approval_ref=marks["refund"].ref, approver="b-oncall-1",
          grant=True)
    call(ny(2026, 11, 7, 16, 0))                                              # 13
    call(ny(2026, 11, 7, 20, 0))                                              # 14
    call(ny(2026, 11, 8, 10, 0))                                              # 15 Sunday
    call(ny(2026, 11, 8, 12, 0), "outbound")                                  # 16
    call(ny(2026, 11, 8, 18, 0))                                              # 17
    call(ny(2026, 11, 9, 8, 0))                                               # 18 Monday
    s.add(ny(2026, 11, 9, 8, 30), "complaint.regulatory_filed", regulator="NY PSC", reference="PSC-2026-991")
    marks["p3"] = s.promise(ny(2026, 11, 9, 9, 0), ny(2026, 11, 9, 12, 0), by="dana.senior")
    call(ny(2026, 11, 9, 9, 30), "outbound")                                  # 19
    call(ny(2026, 11, 9, 10, 0))                                              # 20
    s.add(ny(2026, 11, 9, 10, 30), "promise.fulfilled", promise_ref=marks["p3"].ref)
    call(ny(2026, 11, 9, 11, 0), "outbound")                                  # 21
    call(ny(2026, 11, 9, 15, 0))                                              # 22
    s.add(ny(2026, 11, 9, 16, 0), "case.closed", source="intake", by="dana.senior", resolution="restored")
    s.tick(ny(2026, 11, 10, 9, 0))
    assert next(contacts, None) is None  # exactly 22 contacts
    return s, marks


def test_the_telecom_story():
    s, marks = story()
    run = s.run()
    state = run.state
    decisions = run.decisions

    # One accountable owner at every sequence, from open to close.
    for seq in range(1, state.last_sequence + 1):
        owner = state.owner_at(seq)
        assert owner is not None and owner.accountable
    assert len({c.agent for c in state.contacts}) == 22

    # Every promise kept, or breached with follow-up for the owner and notice for the customer.
    assert len(state.promises) == 3
    statuses = sorted(p.status for p in state.promises.values())
    assert statuses == ["breached", "breached", "kept"]
    for p in state.promises.values():
        if p.status == "breached":
            assert p.follow_up_due and p.customer_notice_due
            [fu] = [d for d in run.of("follow_up_due") if d.data["promise_ref"] == p.ref]
            assert fu.time == p.due  # at the deadline, not when someone noticed
    assert len(run.of("promise_kept")) == 1 and len(run.of("promise_breached")) == 2

    # The weekend transfer to billing is refused, with the on-call queue proposed.
    weekend = [d for d in run.of("handoff_refused") if d.data["to_queue"] == "billing"]
    assert len(weekend) == 1 and weekend[0].data["reason"] == "queue_closed"
    assert weekend[0].data["alternative_queue"] == "billing-escalations"
    # No handoff is ever accepted into a closed queue.
    for acc in run.of("handoff_accepted"):
        assert BusinessCalendar(POLICY.queues[acc.data["to_queue"]]).is_open(acc.time)
    assert [a.data["to_queue"] for a in run.of("handoff_accepted")] == ["billing-escalations"]

    # The complaint jumps priority at once and puts the named senior in charge.
    [prio] = run.of("priority_changed")
    assert prio.data["to"] == "P1" and prio.time == ny(2026, 11, 9, 8, 30)
    first_after_complaint = next(d for d in decisions if d.time >= ny(2026, 11, 9, 8, 30))
    assert first_after_complaint.type.endswith("priority_changed")
    assert state.priority == "P1" and state.owner.id == "dana.senior"
    assert any(d.data["sla"] == "regulatory" for d in run.of("sla_started"))

    # Repeat contacts and missed promises escalated; the refund went to someone with authority.
    reasons = [e.data["reason"] for e in run.of("escalated")]
    assert "repeat_contacts" in reasons and reasons.count("promise_breached") == 2
    assert state.level >= 2
    [asked] = run.of("approval_requested")
    assert asked.data["requested_by"] == "b-oncall-2" and asked.data["approver"] == "b-oncall-1"
    [granted] = run.of("approval_granted")
    assert granted.data["approver"] == "b-oncall-1" and granted.data["amount_minor"] == 12000

    # Deterministic: the same history gives the same decisions.
    assert [d.id for d in s.run().decisions] == [d.id for d in decisions]
    assert len({d.id for d in decisions}) == len(decisions)
    assert all(d.data["policy_version"] == POLICY.version for d in decisions)


def test_counterfactual_policy_changes_the_outcome():
    """The same history under a stricter repeat-contact rule escalates earlier (what simulate is for)."""
    s, _ = story()
    strict = POLICY.model_copy(update={"version": "strict", "repeat_contacts": POLICY.repeat_contacts.model_copy(
        update={"count": 2})})
    base = [e for e in s.run().of("escalated") if e.data["reason"] == "repeat_contacts"]
    tight = [e for e in s.run(strict).of("escalated") if e.data["reason"] == "repeat_contacts"]
    assert tight[0].time < base[0].time
    assert all(e.data["policy_version"] == "strict" for e in tight)
    assert tight[0].time - ny(2026, 11, 5, 8, 0) < timedelta(hours=6)
