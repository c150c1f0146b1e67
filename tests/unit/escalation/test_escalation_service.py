from datetime import timedelta

from casestream.facts import Fact
from escalation.domain.rules import due_timers, fire
from escalation.service_layer import EscalationService, InMemoryCaseRepository

from unit.escalation.escalation_unit_kit import POLICY, Script, ny


def test_redelivered_fact_is_ignored():
    svc = EscalationService(InMemoryCaseRepository(), POLICY)
    s = Script()
    opened = s.open(ny(2026, 11, 9, 9, 0))
    assert svc.handle(opened)
    assert svc.handle(opened) == []


def test_decide_never_mutates_state_decisions_change_it_only_when_they_return():
    svc = EscalationService(InMemoryCaseRepository(), POLICY)
    s = Script()
    svc.handle(s.open(ny(2026, 11, 9, 9, 0)))
    svc.handle(s.promise(ny(2026, 11, 9, 9, 30), ny(2026, 11, 9, 10, 0)))
    first = svc.handle(s.tick(ny(2026, 11, 9, 11, 0)))
    assert "casestream.escalation.promise_breached" in [d.type for d in first]
    assert svc.open_promises("C-1")  # still open: the breach has not come back yet
    again = svc.handle(s.tick(ny(2026, 11, 9, 11, 5)))
    assert {d.id for d in first} >= {d.id for d in again if "promise" in d.id}  # same ids, deduped downstream
    state = svc.state("C-1")
    before = (state.promises, state.slas)
    fire(state, ny(2026, 11, 20, 0, 0), POLICY)
    assert (state.promises, state.slas) == before


def test_advance_fires_timers_across_cases():
    svc = EscalationService(InMemoryCaseRepository(), POLICY)
    for case in ("C-1", "C-2"):
        s = Script(case_id=case, subject=f"ACC-{case}")
        svc.handle(s.open(ny(2026, 11, 9, 9, 0)))
        svc.handle(s.promise(ny(2026, 11, 9, 9, 30), ny(2026, 11, 9, 12, 0)))
    out = svc.advance(ny(2026, 11, 9, 12, 30))
    assert {d.case_id for d in out if d.type.endswith("promise_breached")} == {"C-1", "C-2"}


def test_due_timers_lists_unresolved_timers_in_order():
    s = Script()
    s.open(ny(2026, 11, 9, 9, 0))
    s.promise(ny(2026, 11, 9, 9, 30), ny(2026, 11, 9, 10, 0))
    run = s.run()
    timers = due_timers(run.state, POLICY)
    assert [t.at for t in timers] == sorted(t.at for t in timers)
    assert {t.kind for t in timers} == {"sla_warning", "sla_breach", "promise_due"}


def test_queries():
    s = Script()
    s.open(ny(2026, 11, 9, 9, 0))
    s.tick(ny(2026, 11, 9, 11, 0))
    run = s.run()
    views = {v.name: v for v in run.service.sla("C-1")}
    assert views["first_response"].elapsed == timedelta(hours=2)
    assert views["first_response"].remaining == timedelta(hours=2)
    assert views["first_response"].state == "running"
    assert run.service.breaches("C-1") == []
    own = run.service.ownership("C-1")
    assert own.current.id == "frontline" and own.as_of_sequence == run.state.last_sequence


def test_unknown_case_names_the_field():
    svc = EscalationService(InMemoryCaseRepository(), POLICY)
    try:
        svc.ownership("nope")
    except KeyError as exc:
        assert "case_id" in str(exc)
    else:
        raise AssertionError("expected UnknownCase")


def test_every_decision_records_the_policy_version():
    s = Script()
    s.open(ny(2026, 11, 6, 15, 0))
    s.promise(ny(2026, 11, 6, 15, 10), ny(2026, 11, 7, 15, 0))
    s.add(ny(2026, 11, 7, 10, 0), "handoff.requested", to_queue="billing", by="a-02", reason="bill")
    s.tick(ny(2026, 11, 10, 15, 0))
    run = s.run()
    assert run.decisions and all(d.data["policy_version"] == POLICY.version for d in run.decisions)


def test_escalation_facts_in_the_input_history_are_ignored_by_simulate():
    s = Script()
    s.open(ny(2026, 11, 9, 9, 0))
    first = s.run().decisions
    s2 = Script()
    s2.facts = list(s.facts) + [Fact("C-1", 2, first[0].type, "escalation", first[0].id, first[0].time, "ACC-1",
                                     first[0].data)]
    assert [d.id for d in s2.run().decisions] == [d.id for d in first]
