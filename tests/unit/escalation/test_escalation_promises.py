from unit.escalation.escalation_unit_kit import Script, ny


def test_promise_fulfilled_before_due_is_kept():
    s = Script()
    s.open(ny(2026, 11, 9, 9, 0))
    p = s.promise(ny(2026, 11, 9, 9, 30), ny(2026, 11, 10, 17, 0))
    s.add(ny(2026, 11, 10, 12, 0), "promise.fulfilled", promise_ref=p.ref)
    s.tick(ny(2026, 11, 12, 9, 0))
    run = s.run()
    [kept] = run.of("promise_kept")
    assert kept.id.startswith("promise-kept:C-1:") and kept.data["promised_by"] == "a-01"
    assert run.of("promise_breached") == [] and run.service.open_promises("C-1") == []


def test_promise_fulfilled_exactly_at_due_is_kept():
    s = Script()
    s.open(ny(2026, 11, 9, 9, 0))
    p = s.promise(ny(2026, 11, 9, 9, 30), ny(2026, 11, 10, 17, 0))
    s.add(ny(2026, 11, 10, 17, 0), "promise.fulfilled", promise_ref=p.ref)
    run = s.run()
    assert len(run.of("promise_kept")) == 1 and run.of("promise_breached") == []


def test_missed_promise_is_breached_with_follow_up_customer_notice_and_escalation():
    s = Script()
    s.open(ny(2026, 11, 9, 9, 0))
    s.contact(ny(2026, 11, 9, 9, 5), direction="outbound")  # first response met
    s.promise(ny(2026, 11, 9, 9, 30), ny(2026, 11, 10, 17, 0))
    s.tick(ny(2026, 11, 10, 17, 1))
    run = s.run()
    [breach] = run.of("promise_breached")
    [follow] = run.of("follow_up_due")
    [notice] = run.of("customer_notice_due")
    assert breach.time == ny(2026, 11, 10, 17, 0)
    assert follow.data["owner"] == "frontline" and follow.data["audience"] == "owner"
    assert notice.data["audience"] == "customer"
    promise_ref = breach.data["promise_ref"]
    assert follow.data["promise_ref"] == notice.data["promise_ref"] == promise_ref
    assert breach.id == f"promise-breach:C-1:{promise_ref}"
    assert [e.data["reason"] for e in run.of("escalated")] == ["promise_breached"]
    p = run.state.promises[promise_ref]
    assert p.status == "breached" and p.follow_up_due and p.customer_notice_due
    assert [b.kind for b in run.service.breaches("C-1")] == ["promise"]


def test_late_fulfilment_is_still_a_breach():
    s = Script()
    s.open(ny(2026, 11, 9, 9, 0))
    p = s.promise(ny(2026, 11, 9, 9, 30), ny(2026, 11, 10, 17, 0))
    s.add(ny(2026, 11, 11, 9, 0), "promise.fulfilled", promise_ref=p.ref)  # no fact in between
    run = s.run()
    assert run.of("promise_kept") == []
    assert len(run.of("promise_breached")) == 1 and len(run.of("follow_up_due")) == 1


def test_breach_fires_on_any_later_fact_not_only_ticks():
    s = Script()
    s.open(ny(2026, 11, 9, 9, 0))
    s.promise(ny(2026, 11, 9, 9, 30), ny(2026, 11, 9, 12, 0))
    s.contact(ny(2026, 11, 9, 13, 0), direction="outbound")
    run = s.run()
    names = run.names()
    # The breach at 12:00 is sequenced before decisions about the 13:00 contact.
    assert "promise_breached" in names


def test_open_promises_query():
    s = Script()
    s.open(ny(2026, 11, 9, 9, 0))
    s.promise(ny(2026, 11, 9, 9, 30), ny(2026, 11, 12, 17, 0))
    s.promise(ny(2026, 11, 9, 9, 40), ny(2026, 11, 11, 17, 0), by="a-02")
    run = s.run()
    assert [p.promised_by for p in run.service.open_promises("C-1")] == ["a-02", "a-01"]
