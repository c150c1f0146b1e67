"""Billing against the real broker with real intake and billing processes, on the stream clock.

Facts are published as internal systems publish them (plain kafka-python CloudEvents);
billing's decisions are read back from case.events.v1, where intake sequenced them.
"""

from __future__ import annotations

import threading
import time
import urllib.request
from collections import Counter

import pytest

from billing.service_layer import rebuild_account
from casestream.v1 import billing_pb2
from integration.billing.billing_kit import (
    Producer, account_snapshot, billing_stub, day, decisions, sequenced, start_billing,
)
from support.stack import free_port, wait_until

pytestmark = pytest.mark.kafka


@pytest.fixture(scope="module")
def stack(stack_factory):
    s = stack_factory()
    s.start("intake")
    start_billing(s, metrics_port=free_port())
    return s


def _kinds(ds) -> list[str]:
    return [d.kind for d in ds]


def test_the_widows_story_end_to_end(stack):
    acct = "ACC-WIDOW"
    p = Producer(stack.bootstrap, stack.inbound)
    p.holder(acct, "John Smith", "rename", day(-400))
    p.charge(acct, "INV-0931", 8_450, due=day(0))
    p.tick(acct, day(8))  # overdue before anyone died: a legitimate first notice
    p.flush()
    wait_until(lambda: "dunning_notice_issued" in _kinds(decisions(stack.bootstrap, stack.events, acct)),
               what="the level-1 notice")
    p.holder(acct, "Mary Smith", "bereavement", day(9))
    p.holder(acct, "Mary A. Smith", "rename", day(11))
    for n in (20, 40):
        p.tick(acct, day(n))
    evidence_id = p.evidence(acct, "INV-0931", 8_450, day(45), payer_name="John Smith", check_number="1043")
    p.dispute(acct, "INV-0931", day(46), reason="paid by check 1043; see cancelled check")
    for n in (60, 100, 120):  # grace ends at day 99: the charge is paid, so still no notice
        p.tick(acct, day(n))
    p.ruling(acct, "INV-0931", "upheld", day(121))
    p.tick(acct, day(130))
    p.flush()
    wait_until(lambda: "dispute_resolved" in _kinds(decisions(stack.bootstrap, stack.events, acct)), timeout=30,
               what="the ruling resolved")
    time.sleep(1.0)  # anything extra (a late notice, a duplicate) would show up now

    stream = sequenced(stack.bootstrap, stack.events)
    mine = [s for s in stream if s.fact.subject == acct]
    ds = decisions(stack.bootstrap, stack.events, acct)
    assert Counter(_kinds(ds)) == Counter({
        "dunning_notice_issued": 1, "payment_matched": 1, "dunning_hold_placed": 1,
        "dispute_resolved": 1, "dunning_hold_released": 1,
    }), _kinds(ds)
    evidence_at = next(i for i, s in enumerate(mine) if s.fact.id == evidence_id)
    notices = [(i, s) for i, s in enumerate(mine) if s.kind == "dunning_notice_issued"]
    assert all(i < evidence_at and s.fact.time < day(45) for i, s in notices), "no notice after the evidence"
    assert notices[0][1].fact.data["level"] == 1
    matched = next(s for s in ds if s.kind == "payment_matched").fact
    assert matched.data["reference"] == "INV-0931" and matched.data["amount_minor"] == 8_450
    assert len({s.fact.case_id for s in mine}) == 1, "one account, one case"

    ch, stub = billing_stub(stack)
    with ch:
        folded = sum(1 for s in mine if s.fact.type.startswith(("casestream.billing", "casestream.account", "casestream.clock")))
        acc = stub.GetAccount(billing_pb2.GetAccountRequest(account_id=acct, min_events=folded), timeout=15)
        assert [(m.currency, m.amount_minor) for m in acc.balance] == [("USD", 0)], "the ledger balances"
        assert acc.holder == "Mary A. Smith"
        assert [h.reason for h in acc.holder_history] == ["rename", "bereavement", "rename"]
        assert list(acc.active_holds) == []
        ledger = stub.ListLedger(billing_pb2.ListLedgerRequest(account_id=acct), timeout=5)
        assert [(e.kind, e.reference, e.amount.amount_minor) for e in ledger.entries] == [
            ("charge", "INV-0931", 8_450), ("payment", "INV-0931", 8_450)]
        dispute = stub.GetDispute(billing_pb2.GetDisputeRequest(account_id=acct, reference="INV-0931"), timeout=5)
        assert dispute.status == "upheld" and dispute.resolved_at.seconds > 0
        why = stub.ExplainDunning(billing_pb2.ExplainDunningRequest(account_id=acct, charge_reference="INV-0931"), timeout=5)
        assert not why.would_send and why.reasons[0] == "paid" and len(why.notices_sent) == 1


def _metric(port: int, line_prefix: str) -> float:
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in body.splitlines() if line.startswith(line_prefix))


def test_the_watchdog_fires_on_a_rogue_notice_during_a_hold(stack):
    acct = "ACC-ROGUE"
    p = Producer(stack.bootstrap, stack.inbound)
    p.charge(acct, "INV-R1", 12_000, due=day(0))
    p.dispute(acct, "INV-R1", day(3), reason="never received the service")
    p.flush()
    hold = wait_until(lambda: next((d for d in decisions(stack.bootstrap, stack.events, acct)
                                    if d.kind == "dunning_hold_placed"), None), what="the dunning hold")
    rogue_id = p.send("casestream.billing.dunning_notice_issued", acct, day(10),
                      {"reference": "INV-R1", "level": 1, "outstanding_minor": 12_000, "currency": "USD"},
                      source="rogue-billing", caseid=hold.fact.case_id)
    p.flush()
    violated = wait_until(lambda: next((d for d in decisions(stack.bootstrap, stack.events, acct)
                                        if d.kind == "invariant_violated"), None), what="the watchdog")
    assert violated.fact.data["notice_id"] == f"rogue-billing/{rogue_id}"
    assert "during_hold" in violated.fact.data["breaches"]
    assert violated.fact.data["invariant"] == "no_dunning_while_blocked"
    assert violated.fact.case_id == hold.fact.case_id
    time.sleep(1.0)
    kinds = _kinds(decisions(stack.bootstrap, stack.events, acct))
    assert kinds.count("invariant_violated") == 1 and "dunning_notice_issued" not in kinds, kinds
    port = stack.procs["billing"].metrics_port
    assert _metric(port, 'casestream_billing_invariant_violations_total{kind="during_hold"}') == 1.0


def _accounts_story(p: Producer, accounts: list[str], stop_after: threading.Event | None = None) -> None:
    """Per account: an unpaid charge dunned twice; a second charge disputed, proven paid, and ruled on."""
    for step in range(7):
        for i, acct in enumerate(accounts):
            if step == 0:
                p.charge(acct, f"{acct}-A", 1_000 + i, due=day(0))
            elif step == 1:
                p.charge(acct, f"{acct}-B", 2_000 + i, due=day(30), at=day(1))
            elif step == 2:
                p.tick(acct, day(8))
            elif step == 3:
                p.tick(acct, day(15))
            elif step == 4:
                p.dispute(acct, f"{acct}-B", day(16))
            elif step == 5:
                p.evidence(acct, f"{acct}-B", 2_000 + i, day(17))
            else:
                p.ruling(acct, f"{acct}-B", "upheld", day(18))
        p.flush()
        time.sleep(0.5)


PER_ACCOUNT = Counter({"dunning_notice_issued": 2, "dunning_hold_placed": 1, "payment_matched": 1,
                       "dunning_hold_released": 1, "dispute_resolved": 1})


def test_restart_mid_stream_loses_nothing_doubles_nothing_and_rebuilds_the_same_ledger(stack):
    accounts = [f"ACC-R{i:02d}" for i in range(30)]
    expected = sum(PER_ACCOUNT.values()) * len(accounts)
    p = Producer(stack.bootstrap, stack.inbound)
    producer = threading.Thread(target=_accounts_story, args=(p, accounts))
    producer.start()
    mine = lambda: [d for d in decisions(stack.bootstrap, stack.events) if d.fact.subject in accounts]  # noqa: E731
    wait_until(lambda: len(mine()) >= 30, what="billing deciding before the kill")
    stack.procs["billing"].kill9()
    assert producer.is_alive(), "the kill lands while facts are still being produced"
    producer.join()
    start_billing(stack, metrics_port=free_port())
    try:
        wait_until(lambda: len(mine()) >= expected, timeout=60, what=f"{expected} decisions after the restart",
                   stack=stack)
    except AssertionError as exc:
        ds = mine()
        missing = {a: PER_ACCOUNT - Counter(d.kind for d in ds if d.fact.subject == a) for a in accounts}
        raise AssertionError(f"{exc}\nmissing: { {a: dict(m) for a, m in missing.items() if m} }") from None
    time.sleep(1.5)  # a doubled decision would show up now

    ds = mine()
    ids = [d.fact.id for d in ds]
    assert len(ids) == len(set(ids)) == expected, f"{len(ids)} decisions, {len(set(ids))} unique, expected {expected}"
    for acct in accounts:
        got = Counter(d.kind for d in ds if d.fact.subject == acct)
        assert got == PER_ACCOUNT, f"{acct}: {got}"
    assert {d.fact.data["level"] for d in ds if d.kind == "dunning_notice_issued"} == {1, 2}

    # The restarted ledger is the fold of the stream, and a second restart answers identically.
    stream = sequenced(stack.bootstrap, stack.events)
    ch, stub = billing_stub(stack)
    with ch:
        before = {}
        for acct in accounts:
            oracle = rebuild_account(acct, [s.fact for s in stream if s.fact.subject == acct])
            before[acct] = account_snapshot(stub, acct, min_events=oracle.events_folded)
            acc = billing_pb2.GetAccountResponse.FromString(before[acct][0])
            assert acc.events_folded == oracle.events_folded, acct
            assert {m.currency: m.amount_minor for m in acc.balance} == oracle.balance()
            assert len(billing_pb2.ListLedgerResponse.FromString(before[acct][1]).entries) == len(oracle.entries) == 3
    stack.procs["billing"].kill9()
    start_billing(stack)
    ch, stub = billing_stub(stack)
    with ch:
        after = {acct: account_snapshot(stub, acct, billing_pb2.GetAccountResponse.FromString(before[acct][0]).events_folded)
                 for acct in accounts}
    assert after == before, "state rebuilt from account_to_facts is identical"
    time.sleep(1.0)
    assert len(mine()) == expected, "a restart with nothing new decides nothing"


def test_ledger_projection_throughput_on_the_real_broker(stack):
    """N facts already sequenced; billing starts and folds them all. Reports events/s (see -s)."""
    from billing.policy import load_policy
    from billing.service_layer import BillingService, InMemoryAccountRepository

    stack.procs["billing"].stop()  # SIGTERM: a clean leave, offsets committed
    accounts, per_account = [f"ACC-T{i:02d}" for i in range(50)], 40
    p = Producer(stack.bootstrap, stack.inbound)
    for n in range(per_account):
        for i, acct in enumerate(accounts):
            if n == 0:
                p.charge(acct, f"{acct}-INV", 100_000, due=day(60), at=day(0))
            elif n % 2:
                p.payment(acct, f"{acct}-INV", 10 + i, at=day(n / 2))
            else:
                p.tick(acct, day(n / 2))
    p.flush()
    total = len(accounts) * per_account
    wait_until(lambda: sum(1 for s in sequenced(stack.bootstrap, stack.events) if s.fact.subject.startswith("ACC-T"))
               >= total + len(accounts), timeout=60, what="intake sequencing the facts")

    start_billing(stack, metrics_port=free_port())
    started = time.perf_counter()
    ch, stub = billing_stub(stack)
    pending = set(accounts)
    with ch:
        while pending:
            for acct in list(pending):
                try:
                    if stub.GetAccount(billing_pb2.GetAccountRequest(account_id=acct), timeout=5).events_folded >= per_account:
                        pending.discard(acct)
                except Exception:
                    pass
            assert time.perf_counter() - started < 60, f"{len(pending)} accounts not folded in 60 s"
            time.sleep(0.02)
    live_rate = total / (time.perf_counter() - started)

    facts = [s.fact for s in sequenced(stack.bootstrap, stack.events) if s.fact.subject.startswith("ACC-T")]
    service = BillingService(InMemoryAccountRepository(), load_policy())
    t = time.perf_counter()
    for f in facts:
        service.handle(f)
    handle_rate = len(facts) / (time.perf_counter() - t)
    print(f"\nbilling projection: live process {live_rate:.0f} facts/s ({total} facts, 50 accounts, from SERVING to "
          f"every account folded, incl. changelog writes); BillingService.handle alone {handle_rate:.0f} facts/s")
    assert live_rate > 50 and handle_rate > live_rate
