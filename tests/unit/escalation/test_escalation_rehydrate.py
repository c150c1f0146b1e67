"""Rehydration: a restart rebuilds state by folding the recovered facts, deciding nothing."""

from collections import deque
from dataclasses import replace

from escalation.service_layer import EscalationService, InMemoryCaseRepository
from escalation.service_layer.services import decision_fact

from unit.escalation.escalation_unit_kit import POLICY, ny
from unit.escalation.test_escalation_telecom_story import story


def sequenced_history():
    """The story as intake would have sequenced it: facts with our decisions interleaved."""
    script, _ = story()
    live = EscalationService(InMemoryCaseRepository(), POLICY)
    history, seen, seq = [], set(), 0
    for original in script.facts[:-2]:  # keep the close and the last tick for later
        seq += 1
        queue = deque([replace(original, sequence=seq)])
        while queue:
            fact = queue.popleft()
            history.append(fact)
            for d in live.handle(fact):
                if d.id not in seen:
                    seen.add(d.id)
                    seq += 1
                    queue.append(decision_fact(d, seq, "casestream/escalation"))
    return live, history, script.facts[-2:], seq


def test_rehydrate_rebuilds_the_same_state_without_deciding():
    live, history, _, _ = sequenced_history()
    restored = EscalationService(InMemoryCaseRepository(), POLICY)
    assert restored.rehydrate(history) == len(history)
    assert restored.state("CASE-TEL-1") == live.state("CASE-TEL-1")
    assert restored.last_sequence("CASE-TEL-1") == history[-1].sequence
    assert restored.repository.stream_time() == live.repository.stream_time()


def test_rehydrate_is_idempotent_and_redelivery_decides_nothing():
    live, history, _, _ = sequenced_history()
    restored = EscalationService(InMemoryCaseRepository(), POLICY)
    restored.rehydrate(history[:40])
    assert restored.rehydrate(history) == len(history) - 40  # the first 40 are skipped
    assert all(restored.handle(f) == [] for f in history[-5:])  # redelivered after the restart
    assert restored.last_sequence("unknown") == 0


def test_after_rehydrate_new_facts_decide_as_if_never_restarted():
    live, history, tail, seq = sequenced_history()
    restored = EscalationService(InMemoryCaseRepository(), POLICY)
    restored.rehydrate(history)
    for i, f in enumerate(tail, start=1):
        f = replace(f, sequence=seq + i)
        assert [d.id for d in restored.handle(f)] == [d.id for d in live.handle(f)]
    assert restored.state("CASE-TEL-1") == live.state("CASE-TEL-1")


def test_sla_view_reports_start_and_calendar():
    live, _, _, _ = sequenced_history()
    views = {v.name: v for v in live.sla("CASE-TEL-1")}
    assert views["first_response"].started_at == ny(2026, 11, 5, 8, 0)
    assert views["regulatory"].calendar is not None or views["regulatory"].basis == "calendar"


def _two_cases():
    _, history, _, _ = sequenced_history()
    other = [replace(f, case_id="CASE-TEL-2", subject="ACC-OTHER") for f in history]
    assert {f.subject for f in history} != {"ACC-OTHER"}
    return history, other


def test_released_cases_are_forgotten_and_their_timers_no_longer_fire():
    """After partitions move, the instance that lost them keeps no copy to fire stale timers from."""
    history, other = _two_cases()
    service = EscalationService(InMemoryCaseRepository(), POLICY)
    service.rehydrate(history + other)
    later = service.repository.stream_time().replace(year=2031)
    due = {d.case_id for d in EscalationService(service.repository, POLICY).advance(later)}
    assert due == {"CASE-TEL-1", "CASE-TEL-2"}, "both cases have timers due by then"

    service = EscalationService(InMemoryCaseRepository(), POLICY)
    service.rehydrate(history + other)
    mine = {history[-1].subject}
    assert service.release(lambda subject: subject in mine) == 1
    assert service.last_sequence("CASE-TEL-2") == 0
    assert {d.case_id for d in service.advance(later)} == {"CASE-TEL-1"}
    assert service.release(lambda subject: subject in mine) == 0, "releasing again changes nothing"


def test_restore_all_folds_only_the_owned_cases():
    from casestream.streaming import FactLog
    from escalation.adapters.fact_log import restore_all
    from escalation.adapters.progress import FoldProgress

    history, other = _two_cases()
    log = FactLog({})
    for f in history + other:
        log.append(f.case_id, f)
    service, progress = EscalationService(InMemoryCaseRepository(), POLICY), FoldProgress()
    logged = []
    folded = restore_all(service, log, progress, type("L", (), {"info": lambda self, *a, **k: logged.append(k)})(),
                         owns=lambda subject: subject == "ACC-OTHER")
    assert folded == len(other) and logged == [{"cases": 1, "facts_folded": len(other)}]
    assert service.last_sequence("CASE-TEL-1") == 0
    assert progress.sequence("CASE-TEL-2") == other[-1].sequence
