from datetime import timedelta, timezone

from escalation.domain.rules import due_timers

from unit.escalation.escalation_unit_kit import POLICY, Script, ny

UTC = timezone.utc


def by_sla(run, name, sla):
    return [d for d in run.of(name) if d.data["sla"] == sla]


def test_open_starts_first_response_and_resolution_clocks():
    s = Script()
    s.open(ny(2026, 11, 6, 15, 0))
    run = s.run()
    started = {d.data["sla"]: d for d in run.of("sla_started")}
    assert set(started) == {"first_response", "resolution"}
    assert started["first_response"].data["target_seconds"] == 4 * 3600
    assert started["first_response"].data["basis"] == "business"
    assert started["first_response"].id == "sla-start:C-1:first_response:1"


def test_business_sla_skips_the_weekend_then_warns_breaches_and_escalates():
    s = Script()
    s.open(ny(2026, 11, 6, 15, 0))  # Friday, 2 business hours left that day
    s.tick(ny(2026, 11, 9, 10, 0))  # Monday 10:00: 3h used, under the 80% warning (3h12m)
    run_before = Script(); run_before.facts = list(s.facts)
    assert by_sla(run_before.run(), "sla_warned", "first_response") == []
    s.tick(ny(2026, 11, 9, 11, 30))
    run = s.run()
    [warned] = by_sla(run, "sla_warned", "first_response")
    [breach] = by_sla(run, "sla_breached", "first_response")
    assert warned.time == ny(2026, 11, 9, 10, 12)
    assert breach.time == ny(2026, 11, 9, 11, 0)
    assert breach.id == "sla-breach:C-1:first_response:1"
    [esc] = run.of("escalated")
    assert esc.data["reason"] == "sla_breached" and esc.data["level"] == 1
    assert esc.data["escalate_to"] == "escalation-manager"
    assert run.names().index("sla_warned") < run.names().index("sla_breached") < run.names().index("escalated")
    assert [b.name for b in run.service.breaches("C-1")] == ["first_response"]
    assert run.state.level == 1


def test_sla_over_a_holiday():
    s = Script()
    s.open(ny(2026, 11, 10, 15, 0))  # Tuesday; Wednesday 11th is Veterans Day
    s.tick(ny(2026, 11, 12, 12, 0))
    run = s.run()
    [breach] = by_sla(run, "sla_breached", "first_response")
    assert breach.time == ny(2026, 11, 12, 11, 0)


def test_sla_across_the_dst_change():
    s = Script()
    s.open(ny(2026, 10, 30, 16, 0))  # Friday EDT; DST ends Sunday
    s.tick(ny(2026, 11, 2, 13, 0))
    [breach] = by_sla(s.run(), "sla_breached", "first_response")
    assert breach.time == ny(2026, 11, 2, 12, 0)  # 1h Friday + 3h Monday EST
    assert breach.time.astimezone(UTC).hour == 17


def test_pause_and_resume_move_the_deadline():
    s = Script()
    s.open(ny(2026, 11, 9, 9, 0))
    s.add(ny(2026, 11, 9, 10, 0), "case.status_changed", status="waiting_on_customer", by="a-01")
    s.add(ny(2026, 11, 10, 9, 0), "case.status_changed", status="in_progress", by="a-01")
    run = s.run()
    assert {d.data["sla"] for d in run.of("sla_paused")} == {"first_response", "resolution"}
    assert {d.data["sla"] for d in run.of("sla_resumed")} == {"first_response", "resolution"}
    fr = next(v for v in run.service.sla("C-1") if v.name == "first_response")
    assert fr.state == "running" and fr.elapsed == timedelta(hours=1)
    assert fr.deadline == ny(2026, 11, 10, 12, 0)
    [timer] = [t for t in due_timers(run.state, POLICY) if t.kind == "sla_breach" and t.subject == "first_response"]
    assert timer.at == ny(2026, 11, 10, 12, 0)


def test_paused_clock_does_not_breach():
    s = Script()
    s.open(ny(2026, 11, 9, 9, 0))
    s.add(ny(2026, 11, 9, 10, 0), "case.status_changed", status="waiting_on_third_party", by="a-01")
    s.tick(ny(2026, 11, 20, 9, 0))
    run = s.run()
    assert run.of("sla_breached") == []
    assert {v.state for v in run.service.sla("C-1")} == {"paused"}


def test_outbound_contact_meets_first_response():
    s = Script()
    s.open(ny(2026, 11, 9, 9, 0))
    s.contact(ny(2026, 11, 9, 10, 0), direction="outbound")
    s.tick(ny(2026, 11, 9, 16, 0))
    run = s.run()
    assert by_sla(run, "sla_breached", "first_response") == []
    fr = next(v for v in run.service.sla("C-1") if v.name == "first_response")
    assert fr.state == "met"


def test_closing_the_case_stops_the_clocks():
    s = Script()
    s.open(ny(2026, 11, 9, 9, 0))
    s.add(ny(2026, 11, 9, 10, 0), "case.closed", source="intake", by="a-01", resolution="fixed")
    s.tick(ny(2026, 11, 30, 9, 0))
    run = s.run()
    assert run.of("sla_breached") == [] and run.of("sla_warned") == []
    assert {v.state for v in run.service.sla("C-1")} == {"stopped"}


def test_reopen_starts_a_new_resolution_generation():
    s = Script()
    s.open(ny(2026, 11, 9, 9, 0))
    s.add(ny(2026, 11, 9, 10, 0), "case.closed", source="intake", by="a-01", resolution="fixed")
    s.add(ny(2026, 11, 10, 9, 0), "case.reopened", source="intake", by="a-01", reason="broke again")
    s.tick(ny(2026, 11, 16, 9, 0))
    run = s.run()
    assert "sla-start:C-1:resolution:2" in [d.id for d in run.of("sla_started")]
    assert [d.id for d in by_sla(run, "sla_breached", "resolution")] == ["sla-breach:C-1:resolution:2"]


def test_replay_produces_the_same_decision_ids():
    s = Script()
    s.open(ny(2026, 11, 6, 15, 0))
    s.promise(ny(2026, 11, 6, 15, 10), ny(2026, 11, 7, 15, 0))
    s.tick(ny(2026, 11, 10, 15, 0))
    assert [d.id for d in s.run().decisions] == [d.id for d in s.run().decisions]
