"""Property tests over random case histories."""

from datetime import timedelta

from hypothesis import HealthCheck, given, settings, strategies as st

from escalation.domain.calendar import BusinessCalendar

from unit.escalation.escalation_unit_kit import POLICY, Script, ny

QUEUES = sorted(POLICY.queues) + ["narnia"]
PEOPLE = sorted(POLICY.approvals.people) + ["stranger"]


def build(data) -> Script:
    s = Script()
    t = ny(2026, 10, 30, 8, 0) + timedelta(minutes=data.draw(st.integers(0, 7 * 24 * 60), label="start"))
    s.open(t)
    promises, handoffs, requests = [], [], []
    for _ in range(data.draw(st.integers(1, 30), label="n")):
        t = t + timedelta(minutes=data.draw(st.integers(0, 36 * 60)))
        kind = data.draw(st.sampled_from(
            ["in", "out", "promise", "fulfil", "handoff", "respond", "status", "complaint", "refund", "decide",
             "tick", "close", "reopen", "unmatched"]))
        if kind in ("in", "out"):
            s.contact(t, direction="inbound" if kind == "in" else "outbound", agent=data.draw(st.sampled_from(PEOPLE)))
        elif kind == "promise":
            promises.append(s.promise(t, t + timedelta(hours=data.draw(st.integers(1, 96)))))
        elif kind == "fulfil" and promises:
            s.add(t, "promise.fulfilled", promise_ref=data.draw(st.sampled_from(promises)).ref)
        elif kind == "handoff":
            handoffs.append(s.add(t, "handoff.requested", to_queue=data.draw(st.sampled_from(QUEUES)), by="a-01",
                                  reason="r"))
        elif kind == "respond" and handoffs:
            h = data.draw(st.sampled_from(handoffs))
            s.add(t, "handoff.responded", handoff_ref=h.ref, by=data.draw(st.sampled_from(PEOPLE)),
                  accepted=data.draw(st.booleans()))
        elif kind == "status":
            s.add(t, "case.status_changed", by="a-01", status=data.draw(
                st.sampled_from(["in_progress", "waiting_on_customer", "waiting_on_third_party"])))
        elif kind == "complaint":
            s.add(t, "complaint.regulatory_filed", regulator="PSC", reference="P-1")
        elif kind == "refund":
            requests.append(s.add(t, "billing.refund_requested", source="billing", reference="R",
                                  amount_minor=data.draw(st.integers(0, 2_000_000)), currency="USD",
                                  requested_by=data.draw(st.sampled_from(PEOPLE)), reason="r"))
        elif kind == "decide" and requests:
            s.add(t, "approval.decided", approval_ref=data.draw(st.sampled_from(requests)).ref,
                  approver=data.draw(st.sampled_from(PEOPLE)), grant=data.draw(st.booleans()))
        elif kind == "close":
            s.add(t, "case.closed", source="intake", by="a-01", resolution="done")
        elif kind == "reopen":
            s.add(t, "case.reopened", source="intake", by="a-01", reason="again")
        elif kind == "unmatched":
            s.add(t, "billing.payment_unmatched", source="billing", reference="X", amount_minor=1, currency="USD")
        else:
            s.tick(t)
    s.tick(t + timedelta(days=30))
    return s


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_property_exactly_one_owner_at_every_sequence(data):
    run = build(data).run()
    state = run.state
    history = state.owner_history
    assert history and history[0].sequence == 1
    assert [sp.sequence for sp in history] == sorted(sp.sequence for sp in history)
    for seq in range(1, state.last_sequence + 1):
        owner = state.owner_at(seq)
        assert owner is not None and owner.accountable  # exactly one: a single Owner with one accountable person


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_property_no_handoff_accepted_into_a_closed_queue_and_no_silent_promise(data):
    run = build(data).run()
    for acc in run.of("handoff_accepted"):
        assert BusinessCalendar(POLICY.queues[acc.data["to_queue"]]).is_open(acc.time)
    state = run.state
    for p in state.promises.values():
        assert p.status in ("kept", "breached")  # the final tick is 30 days after the last due time
        if p.status == "breached":
            assert p.follow_up_due and p.customer_notice_due
    ids = [d.id for d in run.decisions]
    assert len(ids) == len(set(ids))
    for b in run.of("promise_breached"):
        assert any(e.data["cause_id"] == f"promise-breach:{b.data['promise_ref']}" for e in run.of("escalated"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_property_replay_is_deterministic(data):
    s = build(data)
    assert [(d.id, d.time, dict(d.data)) for d in s.run().decisions] == \
        [(d.id, d.time, dict(d.data)) for d in s.run().decisions]


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 7 * 24 * 4), st.lists(st.tuples(st.integers(1, 24 * 4), st.booleans()), max_size=8))
def test_property_sla_clock_never_counts_closed_or_paused_time(start_q, changes):
    """The resolution clock's elapsed time equals the open, unpaused 15-minute slots it ran through."""
    q = timedelta(minutes=15)
    from datetime import timezone
    t0 = ny(2026, 10, 26, 0, 0).astimezone(timezone.utc) + start_q * q
    s = Script()
    s.open(t0)
    t, paused, spans = t0, False, []
    for step, pause in changes:
        spans.append((t, t + step * q, paused))
        t = t + step * q
        paused = pause
        s.add(t, "case.status_changed", by="a-01", status="waiting_on_customer" if pause else "in_progress")
    end = t + 24 * q
    spans.append((t, end, paused))
    s.tick(end)
    run = s.run()
    billing = BusinessCalendar(POLICY.queues["billing"])
    expected = timedelta(0)
    for a, b, was_paused in spans:
        x = a
        while x < b:
            if not was_paused and billing.is_open(x):
                expected += q
            x += q
    view = next(v for v in run.service.sla("C-1") if v.name == "resolution")
    assert view.elapsed == min(expected, view.target)
