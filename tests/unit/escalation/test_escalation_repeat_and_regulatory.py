from datetime import timedelta

from unit.escalation.escalation_unit_kit import Script, ny


def repeat_escalations(run):
    return [e for e in run.of("escalated") if e.data["reason"] == "repeat_contacts"]


def test_third_inbound_contact_within_48h_escalates_once():
    s = Script()
    s.open(ny(2026, 11, 9, 9, 0))
    s.contact(ny(2026, 11, 9, 9, 0), direction="outbound")
    for hours in (0, 10, 30, 40):
        s.contact(ny(2026, 11, 9, 9, 5) + timedelta(hours=hours), agent=f"a-0{hours % 9 + 1}")
    run = s.run()
    [esc] = repeat_escalations(run)
    assert esc.data["contacts"] == 3 and esc.data["within_seconds"] == 48 * 3600
    assert esc.time == ny(2026, 11, 10, 15, 5)
    assert esc.data["escalate_to"] == "escalation-manager"


def test_contacts_spread_over_more_than_48h_do_not_escalate():
    s = Script()
    s.open(ny(2026, 11, 9, 9, 0))
    for day in (0, 2, 4):
        s.contact(ny(2026, 11, 9, 9, 0) + timedelta(days=day, minutes=1))
    assert repeat_escalations(s.run()) == []


def test_outbound_contacts_do_not_count():
    s = Script()
    s.open(ny(2026, 11, 9, 9, 0))
    for m in range(5):
        s.contact(ny(2026, 11, 9, 9, 1 + m), direction="outbound")
    assert repeat_escalations(s.run()) == []


def test_a_new_burst_after_the_escalation_escalates_again():
    s = Script()
    s.open(ny(2026, 11, 9, 9, 0))
    s.contact(ny(2026, 11, 9, 9, 0), direction="outbound")
    for m in range(6):
        s.contact(ny(2026, 11, 9, 10, 0) + timedelta(hours=m))
    run = s.run()
    assert len(repeat_escalations(run)) == 2
    assert [e.data["level"] for e in repeat_escalations(run)] == [1, 2]


def test_regulatory_complaint_jumps_priority_assigns_senior_and_starts_regulatory_sla():
    s = Script()
    s.open(ny(2026, 11, 9, 9, 0))
    s.add(ny(2026, 11, 9, 11, 0), "complaint.regulatory_filed", regulator="NY PSC", reference="PSC-77")
    run = s.run()
    [prio] = run.of("priority_changed")
    assert prio.data["from"] == "P3" and prio.data["to"] == "P1" and prio.data["reason"] == "regulatory_complaint"
    assigned = run.of("owner_assigned")[-1]
    assert assigned.data["owner"] == "dana.senior" and assigned.data["owner_kind"] == "person"
    assert assigned.data["reason"] == "regulatory_complaint"
    [reg] = [d for d in run.of("sla_started") if d.data["sla"] == "regulatory"]
    assert reg.data["target_seconds"] == 5 * 24 * 3600 and reg.data["pausable"] is False
    assert run.state.priority == "P1"
    assert run.service.ownership("C-1").current.id == "dana.senior"
    names = run.names()
    assert names.index("priority_changed") < len(names) - 1


def test_regulatory_sla_does_not_pause():
    s = Script()
    s.open(ny(2026, 11, 9, 9, 0))
    s.add(ny(2026, 11, 9, 11, 0), "complaint.regulatory_filed", regulator="NY PSC", reference="PSC-77")
    s.add(ny(2026, 11, 9, 12, 0), "case.status_changed", status="waiting_on_customer", by="dana.senior")
    s.tick(ny(2026, 11, 14, 12, 0))
    run = s.run()
    assert "regulatory" not in {d.data["sla"] for d in run.of("sla_paused")}
    [breach] = [d for d in run.of("sla_breached") if d.data["sla"] == "regulatory"]
    assert breach.time == ny(2026, 11, 14, 11, 0)
