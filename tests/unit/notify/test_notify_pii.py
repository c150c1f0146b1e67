import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notify.adapters.templates import TemplateLibrary
from notify.domain.pii import find_pii, luhn_valid, scrub, scrub_context
from notify.service_layer.messages import compose


@pytest.mark.parametrize("text, kind", [
    ("card 4111 1111 1111 1111 please", "card"),
    ("card 4111-1111-1111-1111", "card"),
    ("glued 99994111111111111111", "card"),   # a card inside a longer digit run
    ("amex 378282246310005", "card"),
    ("ssn 123-45-6789", "ssn"),
    ("cpr 010190-1234", "cpr"),
    ("cpr 3112991234", "cpr"),
    ("token tok_card_3f9a12bc", "token"),
    ("token TOK_SSN_DEADBEEF00", "token"),
])
def test_finds_each_kind(text, kind):
    assert kind in find_pii(text)
    assert find_pii(scrub(text)) == []


@pytest.mark.parametrize("text", [
    "case C-1 reference INV-2026-0042 due 2026-11-02 19:00 CET, amount 123.45 DKK",
    "order 4111 1111 1112 has only 12 digits",
    "tok_card_short12 is not a token",
    "phone +45 12 34 56 78",
])
def test_ordinary_text_passes(text):
    assert find_pii(text) == []
    assert scrub(text) == text


def test_long_digit_runs_are_treated_conservatively():
    # Any 13-19 digit window that is Luhn-valid counts, so glued card numbers are caught.
    assert find_pii("4111 1111 1111 1112") == ["card"]  # 16 digits fail Luhn, but a 13-digit window passes
    assert find_pii("1234567890") == []  # too short to be a card; not a CPR date


def test_scrub_context_scrubs_nested_strings_and_keeps_other_values():
    out = scrub_context({"a": "x 123-45-6789", "n": 5, "l": ["tok_cpr_0123abcd"], "m": {"k": "4111111111111111"}})
    assert out == {"a": "x [redacted]", "n": 5, "l": ["[redacted]"], "m": {"k": "[redacted]"}}


def test_guard_blocks_pii_coming_from_the_template_itself(tmp_path):
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "leaky.txt").write_text("Subject\n\nYour card 4111111111111111 and {{ x }}\n")
    composed = compose(TemplateLibrary(tmp_path), "leaky", "en", {"x": "ok"})
    assert composed.blocked == "pii_guard" and composed.body == ""


# ---- property: nothing generated ever survives into any output ---------------------

def _luhn_complete(prefix: str) -> str:
    for check in "0123456789":
        if luhn_valid(prefix + check):
            return prefix + check
    raise AssertionError


def _separate(digits: str, sep: str, group: int) -> str:
    if not sep:
        return digits
    return sep.join(digits[i:i + group] for i in range(0, len(digits), group))


cards = st.builds(
    lambda body, sep, group: _separate(_luhn_complete(body), sep, group),
    st.text("0123456789", min_size=12, max_size=18),
    st.sampled_from(["", " ", "-"]),
    st.sampled_from([4, 5, 6]),
)
ssns = st.from_regex(r"\A[0-9]{3}-[0-9]{2}-[0-9]{4}\Z")
cprs = st.builds(lambda d, m, y, s: f"{d:02d}{m:02d}{y:02d}-{s:04d}",
                 st.integers(1, 31), st.integers(1, 12), st.integers(0, 99), st.integers(0, 9999))
tokens = st.builds(lambda kind, hexpart: f"tok_{kind}_{hexpart}",
                   st.sampled_from(["card", "ssn", "cpr", "iban"]), st.from_regex(r"\A[0-9a-f]{8,24}\Z"))
pii = st.one_of(cards, ssns, cprs, tokens)
filler = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
tainted = st.tuples(filler, pii, filler)

LIB = TemplateLibrary()
CASES = [(name, locale) for name in LIB.names() for locale in LIB.locales()]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_no_pii_in_any_output_of_any_template(data):
    for name, locale in CASES:
        variables = sorted(LIB.variables(name, locale))
        drawn = {v: data.draw(tainted, label=f"{name}/{locale}/{v}") for v in variables}
        context = {v: "".join(parts) for v, parts in drawn.items()}
        composed = compose(LIB, name, locale, context)
        if composed.blocked:
            assert composed.blocked == "pii_guard" and composed.subject == composed.body == ""
            continue
        output = composed.subject + "\n" + composed.body
        assert find_pii(output) == [], (name, locale)
        for _, secret, _ in drawn.values():
            assert secret not in output, (name, locale, secret)
