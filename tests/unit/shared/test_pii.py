from __future__ import annotations

from casestream.pii import Tokeniser, contains_pii, find_pii, luhn_valid


def test_luhn():
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")


def test_finds_cards_ssns_and_cprs_but_not_ordinary_numbers():
    kinds = [f.kind for f in find_pii("4111 1111 1111 1111 and 123-45-6789 and 311299-1234")]
    assert kinds == ["card", "ssn", "cpr"]
    assert find_pii("order 4111111111111112, phone 555-1234, date 2026-11-02, amount 1234567") == []
    assert find_pii("ssn 000-12-3456 is not valid") == []


def test_tokens_are_stable_keyed_and_never_hold_the_value():
    a, b = Tokeniser(b"k" * 32), Tokeniser(b"j" * 32)
    text, used = a.redact_text("pay with 4111-1111-1111-1111 please")
    assert "4111" not in text and used[0][0] == "card" and used[0][1] in text
    assert a.redact_text("4111111111111111")[0] == used[0][1]
    assert b.redact_text("4111111111111111")[0] != used[0][1], "another key gives another token"
    assert contains_pii(text), "a token counts as PII for outbound messages"
