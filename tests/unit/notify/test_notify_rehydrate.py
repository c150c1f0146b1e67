"""The fold-only restart path (`rehydrate`) and time passing with no fact (`tick`)."""

from datetime import datetime, timezone

from notify.adapters.delivery_log import SqliteDeliveryLog
from notify.service_layer.service import NOTIFICATION_SENT

from unit.notify.notify_unit_kit import H, T0, fact, feed, opening, service


def breach(seq=3):
    return fact(seq, "casestream.escalation.sla_breached",
                {"sla": "restore", "priority": "high", "owner": "a-17", "next_level_owner": "s-1"})


def test_rehydrate_folds_without_sending():
    svc, email, webhook = service()
    assert svc.rehydrate(opening() + [breach()], T0) == []
    assert email.sent == webhook.sent == [] and svc.case("C-1").owner == "a-17"


def test_rehydrate_resubmits_decisions_that_never_came_back(tmp_path):
    path = tmp_path / "deliveries.sqlite"
    first, email, _ = service(store=SqliteDeliveryLog(path))
    decisions = feed(first, opening() + [breach()])  # sent, then the process died before submitting
    again, email2, webhook2 = service(store=SqliteDeliveryLog(path))
    pending = again.rehydrate(opening(), T0)
    assert sorted(d.id for d in pending) == sorted(d.id for d in decisions)
    assert {(d.type, d.subject, d.time) for d in pending} == {(NOTIFICATION_SENT, "ACC-2", T0)}
    assert [dict(d.data) for d in sorted(pending, key=lambda d: d.id)] == \
        [dict(d.data) for d in sorted(decisions, key=lambda d: d.id)]
    assert email2.sent == webhook2.sent == [] and len(email.sent) == 1
    # Once our own decisions are folded, nothing is pending any more.
    third, _, _ = service(store=SqliteDeliveryLog(path))
    echoes = [fact(10 + i, d.type, dict(d.data)) for i, d in enumerate(decisions)]
    assert third.rehydrate(opening() + [breach()] + echoes, T0) == []


def test_rehydrate_keeps_quiet_hours_deferrals_and_tick_sends_them_in_the_morning(tmp_path):
    path = tmp_path / "deliveries.sqlite"
    night = datetime(2026, 11, 2, 22, 0, tzinfo=timezone.utc)
    svc, _, _ = service(store=SqliteDeliveryLog(path))
    f = fact(3, "casestream.billing.dispute_opened", {"reference": "D-7", "reason": "double charge"}, at=night)
    assert feed(svc, opening() + [f]) == []
    restarted, email, _ = service(store=SqliteDeliveryLog(path))
    assert restarted.rehydrate(opening() + [f], night + H) == []
    assert restarted.tick(night + 2 * H) == [] and email.sent == []
    (d,) = restarted.tick(datetime(2026, 11, 3, 7, 0, tzinfo=timezone.utc))
    assert d.type == NOTIFICATION_SENT and len(email.sent) == 1
    assert restarted.tick(datetime(2026, 11, 3, 8, 0, tzinfo=timezone.utc)) == []


def test_tick_reminds_of_a_promise_due_soon_once():
    svc, email, _ = service()
    made = fact(3, "casestream.promise.made", {"promised_by": "a-17", "what": "restore dial tone",
                                               "due": "2026-11-02T18:00:00Z"})
    feed(svc, opening() + [made])
    assert svc.tick(T0 + H) == []
    (d,) = svc.tick(T0 + 4.5 * H)
    assert d.data["rule"] == "promise-due-soon-owner"
    assert svc.tick(T0 + 5 * H) == [] and len(email.sent) == 1


def test_a_message_interrupted_mid_send_is_reported_failed_not_resent(tmp_path):
    path = tmp_path / "deliveries.sqlite"
    crashed, _, _ = service(store=SqliteDeliveryLog(path))

    class Crash(Exception):
        pass

    def die(message):
        raise Crash  # the process died after handing the message over

    crashed.senders["email"].send = die
    try:
        feed(crashed, opening() + [breach()])
    except Crash:
        pass
    restarted, email, webhook = service(store=SqliteDeliveryLog(path))
    decisions = feed(restarted, opening() + [breach()])
    by_channel = {d.data["channel"]: d for d in decisions}
    assert email.sent == [] and len(webhook.sent) == 1
    assert by_channel["email"].data["reason"].startswith("interrupted")


def test_cases_of_partitions_given_up_are_forgotten_and_send_no_reminder():
    """After partitions move, only the new owner reminds; a stale copy here would remind again."""
    from notify.adapters.case_facts import CaseFacts, Rehydrator

    def made(case_id, account):
        return fact(3, "casestream.promise.made", {"promised_by": "a-17", "what": "restore dial tone",
                                                   "due": "2026-11-02T18:00:00Z"}, case_id=case_id, account=account)

    log = CaseFacts({})
    for case_id, account in (("C-1", "ACC-MINE"), ("C-2", "ACC-GONE")):
        for f in opening(case_id, account) + [made(case_id, account)]:
            log.append(case_id, f)
    mine = lambda subject: subject == "ACC-MINE"  # noqa: E731

    svc, email, _ = service()
    both = Rehydrator(log, svc, lambda facts: T0)
    assert both.ensure_all() == 6
    assert {d.case_id for d in svc.tick(T0 + 4.5 * H)} == {"C-1", "C-2"}, "both reminders are due by then"

    svc, email, _ = service()
    rehydrator = Rehydrator(log, svc, lambda facts: T0)
    assert rehydrator.ensure_all(mine) == 3 and svc.case("C-2") is None
    assert [d.case_id for d in svc.tick(T0 + 4.5 * H)] == ["C-1"]

    svc, email, _ = service()
    rehydrator = Rehydrator(log, svc, lambda facts: T0)
    rehydrator.ensure_all()
    assert rehydrator.release(mine) == ["C-2"] and svc.case("C-2") is None and svc.case("C-1") is not None
    assert [d.case_id for d in svc.tick(T0 + 4.5 * H)] == ["C-1"]
    assert rehydrator.ensure("C-2") == 3, "a case that comes back is folded again"
