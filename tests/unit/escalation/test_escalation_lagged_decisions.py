"""On a real broker our decisions come back sequenced after later facts. Decisions must not
depend on that lag: an answered handoff never breaches, a burst of contacts escalates once."""

from collections import deque
from dataclasses import replace

from escalation.service_layer import EscalationService, InMemoryCaseRepository
from escalation.service_layer.services import decision_fact

from unit.escalation.escalation_unit_kit import POLICY, Script, ny


def run_lagged(facts, lag):
    """Sequence each batch of decisions only after `lag` more input facts (intake dedupes ids)."""
    service = EscalationService(InMemoryCaseRepository(), POLICY)
    seq, seen, emitted, pending, refs = 0, set(), [], deque(), {}

    def sequence(fact):
        nonlocal seq
        seq += 1
        data = {k: refs.get(v, v) if k.endswith("_ref") else v for k, v in fact.data.items()}
        refs[fact.ref] = f"{fact.case_id}#{seq}"
        for d in service.handle(replace(fact, sequence=seq, data=data)):
            if d.id not in seen:
                seen.add(d.id)
                emitted.append(d)
                pending.append((len(emitted), d))

    inputs = deque(facts)
    since = 0
    while inputs or pending:
        if inputs and (since < lag or not pending):
            sequence(inputs.popleft())
            since += 1
            continue
        since = 0
        while pending:
            sequence(decision_fact(pending.popleft()[1], -len(emitted) - len(pending)))
    return service, emitted


def names(decisions, name):
    return [d for d in decisions if d.type == "casestream.escalation." + name]


def repeats(decisions):
    return [(d.time, d.data["contacts"]) for d in names(decisions, "escalated") if d.data["reason"] == "repeat_contacts"]


def handoff_script():
    s = Script()
    s.open(ny(2026, 11, 7, 9, 0))
    s.contact(ny(2026, 11, 7, 9, 5), direction="outbound")
    h = s.add(ny(2026, 11, 7, 13, 10), "handoff.requested", to_queue="billing-escalations", by="em", reason="on-call")
    s.add(ny(2026, 11, 7, 13, 25), "handoff.responded", handoff_ref="C-1#3", by="b-oncall-1", accepted=True)
    s.contact(ny(2026, 11, 7, 16, 0), direction="outbound")  # hours past the acceptance deadline
    s.tick(ny(2026, 11, 8, 9, 0))
    return s, h


def test_an_answered_handoff_never_breaches_while_the_acceptance_is_in_flight():
    s, h = handoff_script()
    for lag in (0, 2, 5):
        _, decisions = run_lagged(s.facts, lag)
        assert len(names(decisions, "handoff_accepted")) == 1, lag
        assert names(decisions, "handoff_refused") == [], lag
        assert not [d for d in names(decisions, "sla_breached") if d.data["sla"].startswith("handoff:")], lag


def test_an_unanswered_handoff_still_breaches():
    s, h = handoff_script()
    facts = [f for f in s.facts if f.type != "casestream.handoff.responded"]
    _, decisions = run_lagged(facts, 3)
    [refused] = names(decisions, "handoff_refused")
    assert refused.data["reason"] == "not_accepted_in_time"


def test_a_burst_of_contacts_escalates_as_if_decisions_came_back_at_once():
    from datetime import timedelta

    s = Script()
    s.open(ny(2026, 11, 5, 8, 0))
    for hours in (0, 5, 9, 13, 25, 30, 40, 49, 60):
        s.contact(ny(2026, 11, 5, 8, 0) + timedelta(hours=hours), agent=f"a-0{hours % 9 + 1}")
    _, at_once = run_lagged(s.facts, 0)
    for lag in (3, 8):
        _, lagged = run_lagged(s.facts, lag)
        assert repeats(lagged) == repeats(at_once), lag
    assert len(repeats(at_once)) >= 2
