from dataclasses import replace
from datetime import datetime, time, timezone

from notify.adapters.config_files import load_directory, load_rules
from notify.domain import case_file
from notify.domain.plan import message_id, plan, quiet_until
from notify.domain.rules import QuietHours

from unit.notify.notify_unit_kit import H, T0, fact, opening

RULES, DIRECTORY = load_rules(), load_directory()
QUIET = QuietHours(start=time(21, 0), end=time(8, 0))


def fold(facts):
    case = None
    for f in facts:
        case = case_file.apply(case, f)
    return case


# ---- quiet hours -------------------------------------------------------------------

def test_inside_quiet_hours_after_start_defers_to_next_morning_local_time():
    now = datetime(2026, 11, 2, 21, 30, tzinfo=timezone.utc)  # 22:30 in Copenhagen (CET)
    assert quiet_until(now, "Europe/Copenhagen", QUIET) == datetime(2026, 11, 3, 7, 0, tzinfo=timezone.utc)


def test_inside_quiet_hours_after_midnight_defers_to_the_same_morning():
    now = datetime(2026, 11, 3, 5, 0, tzinfo=timezone.utc)  # 00:00 in New York (EST)
    assert quiet_until(now, "America/New_York", QUIET) == datetime(2026, 11, 3, 13, 0, tzinfo=timezone.utc)


def test_outside_quiet_hours_or_without_them_sends_now():
    now = datetime(2026, 11, 2, 12, 0, tzinfo=timezone.utc)
    assert quiet_until(now, "Europe/Copenhagen", QUIET) is None
    assert quiet_until(now, "Europe/Copenhagen", None) is None
    assert quiet_until(now, "Europe/Copenhagen", QuietHours(start=time(0), end=time(0))) is None


def test_daytime_quiet_window_not_crossing_midnight():
    lunch = QuietHours(start=time(12, 0), end=time(13, 0))
    now = datetime(2026, 6, 1, 10, 30, tzinfo=timezone.utc)  # 12:30 CEST
    assert quiet_until(now, "Europe/Copenhagen", lunch) == datetime(2026, 6, 1, 11, 0, tzinfo=timezone.utc)


def test_plan_defers_non_urgent_but_not_urgent_messages_at_night():
    night = datetime(2026, 11, 2, 22, 0, tzinfo=timezone.utc)  # 23:00 Copenhagen
    facts = opening() + [fact(3, "casestream.promise.made", {"promised_by": "a-17", "what": "fix", "due": "2026-11-02T18:00:00Z"}),
                         fact(4, "casestream.escalation.promise_breached", {"promise_ref": "C-1#3"}, at=night)]
    planned = {n.rule_id: n for n in plan(facts[-1], fold(facts), RULES, DIRECTORY, night)}
    assert planned["promise-breached-customer"].not_before == datetime(2026, 11, 3, 7, 0, tzinfo=timezone.utc)
    assert planned["promise-breached-owner"].urgent and planned["promise-breached-owner"].not_before is None


# ---- deterministic ids -------------------------------------------------------------

def test_message_id_is_deterministic_per_case_trigger_and_rule():
    f = fact(7, "casestream.escalation.sla_breached", {"sla": "restore", "owner": "a-17"})
    case = fold(opening() + [f])
    first = [n.message_id for n in plan(f, case, RULES, DIRECTORY, T0)]
    again = [n.message_id for n in plan(f, case, RULES, DIRECTORY, T0 + 5 * H)]
    assert first == again and len(set(first)) == len(first) == 2
    assert first[0] == message_id("C-1", 7, "sla-breached-owner")
    assert message_id("C-1", 7, "r") != message_id("C-2", 7, "r") != message_id("C-1", 8, "r")


def test_message_id_uses_event_id_when_there_is_no_sequence():
    f = replace(fact(1, "casestream.billing.dispute_opened", {"reference": "D-1", "reason": "x"}), sequence=0)
    (n,) = plan(f, fold(opening() + [f]), RULES, DIRECTORY, T0)
    assert n.message_id == message_id("C-1", f.id, "dispute-opened-customer")


# ---- recipients --------------------------------------------------------------------

def _one(f, facts=None):
    case = fold((facts or opening()) + [f])
    return {n.rule_id: n for n in plan(f, case, RULES, DIRECTORY, f.time)}


def test_recipients_resolve_by_role():
    handoff = _one(fact(3, "casestream.handoff.requested", {"to_queue": "billing", "by": "a-17", "reason": "bill"}))
    assert handoff["handoff-requested-duty-owner"].recipient.key == "b-1"
    approval = _one(fact(3, "casestream.escalation.approval_requested",
                         {"approver": "ap-1", "approval_ref": "C-1#9", "action": "refund", "amount_minor": 12345, "currency": "DKK"}))
    n = approval["approval-requested-approver"]
    assert n.recipient.key == "ap-1" and n.context["amount"] == "123.45 DKK"
    sla = _one(fact(3, "casestream.escalation.sla_breached", {"sla": "s", "owner": "a-17", "next_level_owner": "s-9"}))
    assert sla["sla-breached-owner"].recipient.key == "a-17"
    assert sla["sla-breached-next-level"].recipient.key == "s-9"
    assert sla["sla-breached-next-level"].recipient.webhook.startswith("http://127.0.0.1")
    no_next = _one(fact(3, "casestream.escalation.sla_breached", {"sla": "s", "owner": "a-17"}))
    assert no_next["sla-breached-next-level"].recipient.key == "s-1"  # the owner's supervisor
    reg = _one(fact(3, "casestream.complaint.regulatory_filed", {"regulator": "PSC", "reference": "R"}))
    assert reg["regulatory-complaint-senior"].recipient.key == "dana.senior"  # escalation's senior owner
    dispute = _one(fact(3, "casestream.billing.dispute_opened", {"reference": "D-1", "reason": "x"}))
    n = dispute["dispute-opened-customer"]
    assert n.recipient.key == "ACC-2" and n.locale == "da"


def test_unknown_account_plans_with_no_recipient():
    f = fact(3, "casestream.billing.dunning_hold_placed", {"reference": "INV-1"}, account="ACC-404")
    no_default = DIRECTORY.model_copy(update={"default_customer": None})
    (n,) = plan(f, fold(opening(account="ACC-404") + [f]), RULES, no_default, T0)
    assert n.recipient is None


def test_an_unlisted_account_reaches_the_default_customer_contact():
    f = fact(3, "casestream.billing.dunning_hold_placed", {"reference": "INV-1"}, account="ACC-404")
    (n,) = plan(f, fold(opening(account="ACC-404") + [f]), RULES, DIRECTORY, T0)
    assert n.recipient.email == "customer+acc-404@customers.casestream.example"


def test_a_queue_owner_is_reached_through_its_duty_owner():
    breach = fact(3, "casestream.escalation.sla_breached", {"sla": "s", "owner": "frontline"})
    assert _one(breach)["sla-breached-owner"].recipient.key == "fl-duty-lead"


# ---- promise due soon --------------------------------------------------------------

def test_promise_due_soon_fires_inside_the_lead_time_only():
    made = fact(3, "casestream.promise.made", {"promised_by": "a-17", "what": "restore dial tone", "due": "2026-11-02T18:00:00Z"})
    case = fold(opening() + [made])
    tick = lambda at: fact(4, "casestream.clock.ticked", {}, at=at)  # noqa: E731
    assert plan(tick(T0 + 3 * H), case, RULES, DIRECTORY, T0 + 3 * H) == []           # 15:00, lead 2h
    (n,) = plan(tick(T0 + 4.5 * H), case, RULES, DIRECTORY, T0 + 4.5 * H)             # 16:30
    assert n.rule_id == "promise-due-soon-owner" and n.trigger_ref == "C-1#3"
    assert n.context["promise_what"] == "restore dial tone"
    assert n.context["promise_due"] == "2026-11-02 19:00 CET"
    again = plan(tick(T0 + 5 * H), case, RULES, DIRECTORY, T0 + 5 * H)
    assert [m.message_id for m in again] == [n.message_id]  # same id: dedupe sends it once
    assert plan(tick(T0 + 7 * H), case, RULES, DIRECTORY, T0 + 7 * H) == []             # past due
    fulfilled = case_file.apply(case, fact(5, "casestream.promise.fulfilled", {"promise_ref": "C-1#3"}))
    assert plan(tick(T0 + 5 * H), fulfilled, RULES, DIRECTORY, T0 + 5 * H) == []


def test_projection_tracks_owner_account_and_promises_tolerantly():
    facts = opening() + [
        fact(3, "casestream.promise.made", {"promised_by": "a-17", "what": "w", "due": "bad date"}),
        fact(4, "casestream.escalation.escalated", {"level": 2}),
        fact(5, "casestream.escalation.escalated", {"level": 3, "owner": "s-1"}),
        fact(6, "casestream.escalation.promise_breached", {}),
    ]
    case = fold(facts)
    assert (case.account, case.owner) == ("ACC-2", "s-1")
    assert case.promises["C-1#3"].due is None and case.open_promises() == []


def test_the_supervisor_of_a_queue_owner_is_its_duty_owners_supervisor():
    breach = fact(3, "casestream.escalation.sla_breached", {"sla": "s", "owner": "frontline"})
    assert _one(breach)["sla-breached-next-level"].recipient.key == "escalation-manager"
