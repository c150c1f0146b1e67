from datetime import datetime, timezone

import pytest

from notify.adapters.delivery_log import InMemoryDeliveryLog, SqliteDeliveryLog
from notify.adapters.templates import TemplateLibrary
from notify.domain.delivery import DeliveryOutcome
from notify.service_layer.service import NOTIFICATION_FAILED, NOTIFICATION_SENT, UnknownRule

from unit.notify.notify_unit_kit import H, T0, fact, feed, opening, service

DECISION_FIELDS = {"channel", "template", "rule", "locale", "recipient_role", "message_id", "attempts", "trigger_ref"}


def breach(seq=3, at=T0):
    return fact(seq, "casestream.escalation.sla_breached",
                {"sla": "restore", "priority": "high", "owner": "a-17", "next_level_owner": "s-1"}, at=at)


def test_breach_sends_to_owner_and_next_level_and_returns_sent_decisions():
    svc, email, webhook = service()
    decisions = feed(svc, opening() + [breach()])
    assert [d.type for d in decisions] == [NOTIFICATION_SENT, NOTIFICATION_SENT]
    assert [m.to for m in email.sent] == ["a-17@staff.casestream.example"]
    assert [m.to for m in webhook.sent] == ["http://127.0.0.1:8088/hooks/supervisor"]
    assert email.sent[0].locale == "da" and "restore" in email.sent[0].subject
    for d in decisions:
        assert set(d.data) == DECISION_FIELDS
        assert d.id == f"notify:{d.data['message_id']}:sent"
        assert (d.case_id, d.subject, d.time) == ("C-1", "ACC-2", T0)
        assert d.data["trigger_ref"] == "C-1#3" and d.data["attempts"] == 1


def test_decisions_never_carry_the_body_or_the_address():
    svc, email, webhook = service()
    decisions = feed(svc, opening() + [breach()])
    sent = email.sent + webhook.sent
    for d in decisions:
        text = repr(dict(d.data))
        for m in sent:
            assert m.to not in text and m.body.strip() not in text and m.subject not in text


def test_the_same_fact_twice_notifies_once():
    svc, email, webhook = service()
    first = feed(svc, opening() + [breach()])
    assert feed(svc, [breach()]) == []
    assert len(first) == 2 and len(email.sent) == 1 and len(webhook.sent) == 1


def test_restart_with_sqlite_store_sends_nothing_twice(tmp_path):
    path = tmp_path / "deliveries.sqlite"
    svc, email, _ = service(store=SqliteDeliveryLog(path))
    feed(svc, opening() + [breach()])
    svc2, email2, webhook2 = service(store=SqliteDeliveryLog(path))
    assert feed(svc2, opening() + [breach()]) == []
    assert email2.sent == webhook2.sent == []
    assert {r.status for r in svc2.deliveries("C-1")} == {"sent"}


def test_own_sent_decision_on_the_stream_marks_the_message_delivered():
    svc, email, _ = service()
    planned_svc, _, _ = service()
    decisions = feed(planned_svc, opening() + [breach()])
    for i, d in enumerate(decisions):  # as intake would sequence them back
        svc.handle(fact(10 + i, d.type, dict(d.data)), T0)
    assert feed(svc, opening() + [breach()]) == [] and email.sent == []


def test_replay_plans_but_does_not_send_unless_asked():
    svc, email, webhook = service()
    for f in opening() + [breach()]:
        assert svc.handle(f, f.time, replaying=True) == []
    assert email.sent == webhook.sent == [] and svc.case("C-1").owner == "a-17"
    loud, email2, _ = service(send_during_replay=True)
    assert len([d for f in opening() + [breach()] for d in loud.handle(f, f.time, replaying=True)]) == 2


def test_quiet_hours_defer_then_flush_sends_in_the_morning():
    night = datetime(2026, 11, 2, 22, 0, tzinfo=timezone.utc)  # 23:00 Copenhagen
    svc, email, _ = service()
    f = fact(3, "casestream.billing.dispute_opened", {"reference": "D-7", "reason": "double charge"}, at=night)
    assert feed(svc, opening() + [f]) == []
    (rec,) = svc.deliveries("C-1")
    assert (rec.status, rec.reason) == ("deferred", "quiet_hours")
    assert svc.flush(night + 2 * H) == [] and email.sent == []
    (d,) = svc.flush(datetime(2026, 11, 3, 7, 0, tzinfo=timezone.utc))
    assert d.type == NOTIFICATION_SENT and email.sent[0].locale == "da"
    assert svc.flush(datetime(2026, 11, 3, 9, 0, tzinfo=timezone.utc)) == []
    assert [r.status for r in svc.deliveries("C-1")] == ["sent"]


def test_pii_in_event_data_is_scrubbed_from_the_message():
    svc, email, _ = service()
    f = fact(3, "casestream.handoff.requested",
             {"to_queue": "billing", "by": "a-17", "reason": "customer read card 4111 1111 1111 1111 aloud, cpr 010190-1234"})
    (d,) = feed(svc, opening() + [f])
    assert d.type == NOTIFICATION_SENT
    body = email.sent[0].body
    assert "4111" not in body and "010190" not in body and "[redacted]" in body


def test_pii_that_survives_rendering_blocks_the_message(tmp_path):
    # A template that itself prints a card number: scrubbing variables cannot help, the guard must.
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "dunning_hold_customer.txt").write_text("Hold {{ reference }}\n\nCard 4111 1111 1111 1111\n")
    svc, email, _ = service()
    svc.templates = TemplateLibrary(tmp_path)
    (d,) = feed(svc, opening() + [fact(3, "casestream.billing.dunning_hold_placed", {"reference": "INV-1"})])
    assert d.type == NOTIFICATION_FAILED and d.data["reason"] == "pii_guard" and d.data["attempts"] == 0
    assert d.id.endswith(":failed") and email.sent == []


def test_sender_failure_becomes_a_failed_decision():
    svc, email, _ = service()
    email.outcome = DeliveryOutcome.failed(5, "retries_exhausted: smtp_unavailable")
    (d,) = feed(svc, opening() + [fact(3, "casestream.billing.dunning_hold_placed", {"reference": "INV-1"})])
    assert d.type == NOTIFICATION_FAILED and d.data["attempts"] == 5
    assert d.data["reason"].startswith("retries_exhausted") and set(d.data) == DECISION_FIELDS | {"reason"}


def test_no_recipient_is_a_failure_not_a_crash():
    svc, _, _ = service()
    svc.directory = svc.directory.model_copy(update={"default_customer": None})
    f = fact(3, "casestream.billing.dunning_hold_placed", {"reference": "INV-1"}, account="ACC-404")
    (d,) = feed(svc, opening(account="ACC-404") + [f])
    assert d.data["reason"] == "no_recipient"


def test_promise_lifecycle_due_soon_then_breach_apology():
    svc, email, _ = service()
    made = fact(3, "casestream.promise.made", {"promised_by": "a-17", "what": "restore dial tone", "due": "2026-11-02T18:00:00Z"})
    feed(svc, opening() + [made])
    ticks = [fact(4 + i, "casestream.clock.ticked", {}, at=T0 + (4 + i * 0.5) * H) for i in range(3)]
    due_soon = feed(svc, ticks)
    assert [d.data["rule"] for d in due_soon] == ["promise-due-soon-owner"]
    breached = feed(svc, [fact(9, "casestream.escalation.promise_breached", {"promise_ref": "C-1#3", "owner": "a-17"}, at=T0 + 7 * H)])
    assert sorted(d.data["rule"] for d in breached) == ["promise-breached-customer", "promise-breached-owner"]
    apology = next(m for m in email.sent if m.rule_id == "promise-breached-customer")
    assert apology.to == "jens.nielsen@customer.example" and "restore dial tone" in apology.body
    notice = feed(svc, [fact(10, "casestream.escalation.customer_notice_due",
                             {"promise_ref": "C-1#3", "new_due": "2026-11-04T10:00:00Z"}, at=T0 + 7.5 * H)])
    assert [d.data["rule"] for d in notice] == ["customer-new-date"]
    assert "2026-11-04 11:00 CET" in email.sent[-1].body


def test_preview_renders_without_sending_and_rejects_unknown_rules():
    svc, email, webhook = service()
    feed(svc, opening() + [breach()])
    sent_before = (len(email.sent), len(webhook.sent))
    p = svc.preview("sla-breached-owner", "C-1", locale="en")
    assert p.subject == "SLA breached: restore on case C-1" and "Anna Jensen" in p.body
    assert (p.channel, p.recipient_role, p.locale, p.blocked) == ("email", "owner", "en", "")
    assert svc.preview("sla-breached-owner", "C-1").locale == "da"  # the owner's own locale
    assert (len(email.sent), len(webhook.sent)) == sent_before
    with pytest.raises(UnknownRule, match="rule_id"):
        svc.preview("nope", "C-1")


def test_in_memory_store_keeps_sent_final():
    from notify.domain.delivery import DeliveryRecord
    store = InMemoryDeliveryLog()
    rec = DeliveryRecord("m", "C", "r", "t", "email", "owner", "en", "sent", 1, "", T0, "C#1")
    store.record(rec)
    store.record(DeliveryRecord("m", "C", "r", "t", "email", "owner", "en", "failed", 3, "x", T0, "C#1"))
    assert store.was_sent("m") and store.for_case("C") == [rec]
