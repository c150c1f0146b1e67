from casestream.facts import Fact
from escalation.domain.rules import approvers_for

from unit.escalation.escalation_unit_kit import POLICY, Script, ny


def request(s, at, amount, by="a-01", action="refund", currency="USD"):
    return s.add(at, f"billing.{action}_requested", source="billing", reference="R-1", amount_minor=amount,
                 currency=currency, requested_by=by, reason="outage credit")


def test_within_own_authority_is_granted_at_once():
    s = Script()
    s.open(ny(2026, 11, 9, 9, 0))
    req = request(s, ny(2026, 11, 9, 9, 30), 4000)
    run = s.run()
    [granted] = run.of("approval_granted")
    assert granted.data["approver"] == "a-01" and granted.data["basis"] == "own_authority"
    assert granted.data["request_ref"] == granted.data["approval_ref"]
    assert granted.data["action"] == "refund" and granted.data["amount_minor"] == 4000
    assert granted.data["currency"] == "USD" and granted.data["requested_by"] == "a-01"
    assert run.of("approval_requested") == []
    assert run.state.approvals[granted.data["request_ref"]].status == "granted"
    del req


def test_above_own_authority_goes_to_the_smallest_sufficient_approver():
    assert approvers_for("refund", 10000, "USD", POLICY)[0] == "b-oncall-1"  # team_lead, then by name
    s = Script()
    s.open(ny(2026, 11, 9, 9, 0))
    request(s, ny(2026, 11, 9, 9, 30), 10000)
    run = s.run()
    [asked] = run.of("approval_requested")
    assert asked.data["approver"] == "b-oncall-1" and asked.data["approver_role"] == "team_lead"
    assert asked.data["requester_limit_minor"] == 5000
    assert "sla-start:C-1:approval:" in run.of("sla_started")[-1].id
    assert run.of("approval_granted") == []


def test_approver_without_authority_is_denied_and_request_stays_open_for_the_right_one():
    s = Script()
    s.open(ny(2026, 11, 9, 9, 0))
    req = request(s, ny(2026, 11, 9, 9, 30), 60000, action="adjustment")  # manager max is 50000
    s.add(ny(2026, 11, 9, 10, 0), "approval.decided", approval_ref=req.ref, approver="billing-lead", grant=True)
    run = s.run()
    [asked] = run.of("approval_requested")
    assert asked.data["approver"] == "dana.senior"
    [denied] = run.of("approval_denied")
    assert denied.data["reason"] == "approver_lacks_authority" and denied.data["final"] is False
    assert "billing-lead (manager) has a limit of 50000 USD" in denied.data["detail"]
    request_ref = asked.data["request_ref"]
    assert run.state.approvals[request_ref].status == "pending"

    # The named approver answers, citing the approval_requested fact's own ref.
    approval_ref = run.state.approvals[request_ref].approval_ref
    assert approval_ref != request_ref
    decided = Fact("C-1", run.state.last_sequence + 1, "casestream.approval.decided", "crm", "crm-x",
                   ny(2026, 11, 9, 10, 30), "ACC-1", {"approval_ref": approval_ref, "approver": "dana.senior",
                                                       "grant": True})
    [granted] = [d for d in run.service.handle(decided) if d.type.endswith("approval_granted")]
    assert granted.data["approver"] == "dana.senior" and granted.data["action"] == "adjustment"
    assert granted.data["approval_ref"] == approval_ref and granted.data["request_ref"] == request_ref
    assert granted.data["amount_minor"] == 60000 and granted.data["requested_by"] == "a-01"


def test_approver_declines_finally():
    s = Script()
    s.open(ny(2026, 11, 9, 9, 0))
    req = request(s, ny(2026, 11, 9, 9, 30), 10000)
    s.add(ny(2026, 11, 9, 10, 0), "approval.decided", approval_ref=req.ref, approver="b-oncall-1", grant=False)
    run = s.run()
    [denied] = run.of("approval_denied")
    assert denied.data["final"] is True and denied.data["reason"] == "declined_by_approver"
    assert run.state.approvals[denied.data["request_ref"]].status == "denied"


def test_nobody_has_authority_for_an_unknown_currency():
    s = Script()
    s.open(ny(2026, 11, 9, 9, 0))
    request(s, ny(2026, 11, 9, 9, 30), 100, currency="EUR")
    [denied] = s.run().of("approval_denied")
    assert denied.data["reason"] == "no_authority" and denied.data["final"] is True


def test_unanswered_approval_breaches_its_sla_and_escalates():
    s = Script()
    s.open(ny(2026, 11, 9, 9, 0))
    s.contact(ny(2026, 11, 9, 9, 10), direction="outbound")
    request(s, ny(2026, 11, 9, 9, 30), 10000)
    s.tick(ny(2026, 11, 9, 14, 0))
    run = s.run()
    [breach] = [d for d in run.of("sla_breached") if d.data["sla"].startswith("approval:")]
    assert breach.time == ny(2026, 11, 9, 13, 30)
    assert [e.data["reason"] for e in run.of("escalated")] == ["sla_breached"]
