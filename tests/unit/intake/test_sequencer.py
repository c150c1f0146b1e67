"""The sequencer's pure rules: linking, dedupe, sequencing, the chain and PII."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

from hypothesis import given, settings, strategies as st

from casestream import chain, envelope
from casestream.cloudevents_codec import InboundEvent
from casestream.pii import Tokeniser
from intake.domain.sequencer import PartitionState, Sequencer, new_case_id

T0 = datetime(2026, 11, 2, 9, tzinfo=timezone.utc)
KEY = b"k" * 32


def ev(i: int | str, type_: str = "casestream.contact.logged", subject: str = "ACC-1", source: str = "crm",
       data: dict | None = None, **ext: str) -> InboundEvent:
    if data is None and type_ == "casestream.contact.logged":
        data = {"channel": "phone", "direction": "inbound", "agent": f"a-{i}", "summary": f"call {i}"}
    return InboundEvent(id=str(i), source=source, type=type_, subject=subject, time=T0 + timedelta(minutes=int(str(i).strip("x") or 0) if str(i).isdigit() else 0),
                        data=data or {}, extensions=ext)


def seq() -> Sequencer:
    return Sequencer(PartitionState(0), Tokeniser(KEY))


def types(records) -> list[str]:
    return [dict(r.headers)["ce_type"].decode() for r in records]


def test_first_contact_opens_a_case_and_the_next_links_to_it():
    s = seq()
    first = s.sequence(ev(1), now=T0)
    assert types(first.records) == ["casestream.case.opened", "casestream.contact.logged"]
    case_id = first.case_id
    assert case_id == new_case_id("crm", "1")
    second = s.sequence(ev(2), now=T0)
    assert second.case_id == case_id
    assert [int(dict(r.headers)["cs_seq"]) for r in first.records + second.records] == [1, 2, 3]


def test_each_account_gets_its_own_case():
    s = seq()
    a = s.sequence(ev(1, subject="ACC-1"), now=T0).case_id
    b = s.sequence(ev(2, subject="ACC-2"), now=T0).case_id
    assert a != b


def test_explicit_caseid_wins_over_the_open_case():
    s = seq()
    old = s.sequence(ev(1), now=T0).case_id
    s.sequence(ev(2, type_="casestream.case.close_requested", data={"by": "a-1", "resolution": "fixed"}), now=T0)
    new = s.sequence(ev(3), now=T0).case_id
    assert new != old
    note = s.sequence(ev(4, type_="casestream.escalation.owner_assigned", data={"owner": "x"}, caseid=old), now=T0)
    assert note.case_id == old, "a decision about a closed case is appended to that case"


def test_a_closed_case_is_never_reopened_silently():
    s = seq()
    case_id = s.sequence(ev(1), now=T0).case_id
    closed = s.sequence(ev(2, type_="casestream.case.close_requested", data={"by": "a-1", "resolution": "fixed"}), now=T0)
    assert types(closed.records) == ["casestream.case.close_requested", "casestream.case.closed"]
    rejected = s.sequence(ev(3, caseid=case_id), now=T0)
    assert rejected.rejected and rejected.rejected.code == "CASE_CLOSED" and rejected.rejected.field == "caseid"
    reopened = s.sequence(ev(4, type_="casestream.case.reopen_requested", data={"by": "a-2", "reason": "again"},
                             caseid=case_id), now=T0)
    assert types(reopened.records) == ["casestream.case.reopen_requested", "casestream.case.reopened"]
    assert s.sequence(ev(5), now=T0).case_id == case_id


def test_decisions_must_name_their_case_and_account():
    s = seq()
    case_id = s.sequence(ev(1), now=T0).case_id
    missing = s.sequence(ev(2, type_="casestream.escalation.owner_assigned", data={}), now=T0)
    assert missing.rejected.code == "MISSING_ATTRIBUTE" and missing.rejected.field == "caseid"
    other = s.sequence(ev(3, type_="casestream.escalation.owner_assigned", data={}, subject="ACC-9", caseid=case_id), now=T0)
    assert other.rejected.code == "ACCOUNT_MISMATCH"
    unknown = s.sequence(ev(4, type_="casestream.escalation.owner_assigned", data={}, caseid="C-NOPE"), now=T0)
    assert unknown.rejected.code == "UNKNOWN_CASE"


def test_duplicates_return_the_original_position_and_append_nothing():
    s = seq()
    first = s.sequence(ev(1), now=T0)
    again = s.sequence(ev(1), now=T0)
    assert again.records == () and again.duplicate_of == (first.case_id, 2)


def test_the_chain_links_every_record_in_headers_and_body():
    s = seq()
    records = [r for i in range(1, 6) for r in s.sequence(ev(i), now=T0).records]
    prev = chain.ZERO_HASH
    for r in records:
        h = dict(r.headers)
        body = envelope.decode(r.value)
        assert body.prev_hash == prev and h["cs_prev_hash"].decode() == prev.hex()
        assert h["cs_hash"].decode() == hashlib.sha256(prev + r.value).hexdigest()
        assert h["ce_subject"] == r.key
        prev = r.hash


def test_pii_is_tokenised_before_anything_is_written():
    s = seq()
    out = s.sequence(ev(1, data={"channel": "chat", "direction": "inbound", "agent": "a-1",
                                 "summary": "card 4111 1111 1111 1111, ssn 123-45-6789, cpr 010190-1234"}), now=T0)
    body = out.records[-1].value
    for secret in (b"4111", b"123-45-6789", b"010190"):
        assert secret not in body
    view = envelope.decoded_view(body)
    assert {r["kind"] for r in view["redactions"]} == {"card", "ssn", "cpr"}
    again = s.sequence(ev(2, data={"channel": "chat", "direction": "inbound", "agent": "a-1",
                                   "summary": "same card 4111-1111-1111-1111"}), now=T0)
    card_token = next(r["token"] for r in view["redactions"] if r["kind"] == "card")
    assert card_token in envelope.decoded_view(again.records[-1].value)["data"]["summary"], "same value, same token"


def test_restore_by_folding_the_log_gives_the_same_state():
    s = seq()
    records = [r for i in range(1, 8) for r in s.sequence(ev(i, subject=f"ACC-{i % 3}"), now=T0).records]
    fresh = PartitionState(0)
    for r in records:
        fresh.apply(envelope.decode(r.value), r.hash)
        fresh.apply(envelope.decode(r.value), r.hash)  # folding twice changes nothing
    assert {k: (v.sequence, v.last_hash) for k, v in fresh.cases.items()} == \
           {k: (v.sequence, v.last_hash) for k, v in s.state.cases.items()}
    assert fresh.seen == s.state.seen and fresh.open_by_account == s.state.open_by_account


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_the_chain_detects_any_single_changed_byte(data):
    s = seq()
    records = [r for i in range(1, 4) for r in s.sequence(ev(i), now=T0).records]
    victim = data.draw(st.integers(0, len(records) - 1))
    value = bytearray(records[victim].value)
    pos = data.draw(st.integers(0, len(value) - 1))
    value[pos] ^= data.draw(st.integers(1, 255))
    prev = records[victim - 1].hash if victim else chain.ZERO_HASH
    assert not chain.verify_link(prev.hex(), bytes(value), records[victim].hash_hex)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 9), st.sampled_from(["ACC-1", "ACC-2"])), min_size=1, max_size=40))
def test_dedupe_is_idempotent_under_any_interleaving_of_duplicates(stream):
    def run(items):
        s = seq()
        for i, acct in items:
            s.sequence(ev(i, subject=acct), now=T0)
        return s

    unique = list(dict.fromkeys(stream))  # first occurrence of each id, in order
    first_seen = {}
    for i, acct in stream:
        first_seen.setdefault(i, acct)
    with_dups, without = run(stream), run([(i, first_seen[i]) for i, _ in unique])
    assert with_dups.state.seen == without.state.seen
    assert {k: v.last_hash for k, v in with_dups.state.cases.items()} == \
           {k: v.last_hash for k, v in without.state.cases.items()}
