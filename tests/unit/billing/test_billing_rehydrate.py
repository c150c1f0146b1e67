"""The fold-only path a restarted service uses, and wall-clock dunning."""

from __future__ import annotations

from billing.domain import events as ev
from billing.service_layer import BillingService, InMemoryAccountRepository

from unit.billing.billing_unit_kit import ACCOUNT, POLICY, Harness, Stream, day


def _history() -> Harness:
    s = Stream(case_id="CASE-R")
    h = Harness(stream=s)
    h.feed(
        s.charge("INV-1", 5_000, due=day(0)),
        s.holder("Mary", "bereavement", day(1)),
        s.dispute("INV-1", day(2)),
        s.evidence("INV-1", 5_000, day(3)),
        s.tick(day(20)),
        s.ruling("INV-1", "upheld", day(21)),
    )
    return h


def test_rehydrate_rebuilds_the_same_state_and_decides_nothing():
    h = _history()
    fresh = BillingService(InMemoryAccountRepository(), POLICY)
    changed = fresh.rehydrate(h.log)
    assert changed == len(h.log)
    assert fresh.repository.get(ACCOUNT) == h.state()
    assert fresh.invariant_violations == h.service.invariant_violations
    # Everything already folded: a redelivery of the whole log yields no decision at all.
    assert all(fresh.handle(f) == [] for f in h.log)
    assert fresh.rehydrate(h.log) == 0


def test_rehydrate_skips_a_tick_for_an_unknown_account_and_malformed_facts():
    s = Stream(case_id="CASE-X", account="ACC-X")
    fresh = BillingService(InMemoryAccountRepository(), POLICY)
    bad = s.fact("casestream.billing.charge_posted", day(0), {"reference": "INV-9"})
    assert fresh.rehydrate([s.tick(day(1)), bad]) == 0
    assert list(fresh.repository.account_ids()) == []


def test_due_notices_at_wall_time_without_folding():
    s = Stream(case_id="CASE-W")
    h = Harness(stream=s)
    h.feed(s.charge("INV-7", 1_000, due=day(0)))
    before = h.state()
    assert h.service.due_notices(day(3)) == []
    notices = h.service.due_notices(day(15))
    assert [(n.type, n.id, n.data["level"], n.case_id) for n in notices] == [
        (ev.NOTICE_ISSUED, f"dunning:{ACCOUNT}:INV-7:2", 2, "CASE-W")]
    assert h.state() is before, "asking what is due changes no state"
    assert h.service.due_notices(day(15)) == notices, "deterministic ids: a second firing is deduped by intake"


def test_rebuild_account_from_its_fact_log_equals_the_live_state():
    from billing.service_layer import rebuild_account

    h = _history()
    assert rebuild_account(ACCOUNT, h.log) == h.state()
    s = Stream(account="ACC-T")
    assert rebuild_account("ACC-T", [s.tick(day(1))]) is None, "a tick alone never opens an account"
